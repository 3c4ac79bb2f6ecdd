"""The library API the CLI and batch mode share: values in, a Result out, no I/O."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from .compiler import CALL, Program, compile_expression
from .core import Config, Variable, no_grad, using_config
from .errors import ValueProblem
from .literals import literal_problem


@dataclass
class Result:
    """What one evaluation gives: the value, and the gradient for each variable asked for."""

    expr: str
    inputs: dict[str, np.ndarray]
    value: np.ndarray
    grad: dict[str, np.ndarray] | None = None
    warnings: list[str] = field(default_factory=list)
    # With --order N: element k-1 maps each k-tuple of variable names to that partial derivative.
    derivatives: list[dict[tuple[str, ...], np.ndarray]] | None = None


_NUMBER = re.compile(
    r"[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|nan)",
    re.IGNORECASE,
)


def parse_value(text: str, name: str = "value") -> np.ndarray:
    """A number or a comma-separated list of numbers, as float64 (0-d for a single number).

    `nan`, `inf` and `-inf` are taken as written. A finite number that float64 cannot hold
    (`1e400`, or `1e-400`, which would become 0) is an error rather than silently changed.
    """
    items = text.split(",")
    bad = [item for item in items if not _NUMBER.fullmatch(item.strip())]
    if bad:
        what = "an empty item" if not bad[0].strip() else repr(bad[0].strip()[:40])
        shown = text if len(text) <= 60 else text[:57] + "..."
        if len(items) == 1:
            raise ValueProblem(f"value of {name} is not a number: {shown!r}")
        raise ValueProblem(
            f"value of {name} is not a number or a comma-separated list of numbers: "
            f"{shown!r} has {what}"
        )
    numbers = [float(item.strip()) for item in items]  # strip() as above: it also takes \x1f
    for item, x in zip(items, numbers):
        problem = literal_problem(item.strip(), x)
        if problem:
            raise ValueProblem(f"value of {name}: {problem}")
    return np.array(numbers[0] if len(numbers) == 1 else numbers, dtype=np.float64)


def as_program(expr: str | Program) -> Program:
    return expr if isinstance(expr, Program) else compile_expression(expr)


def check_values(program: Program, values: Mapping[str, object]) -> tuple[dict, list[str]]:
    """The arrays for the program's variables, and warnings for values nobody uses."""
    missing = [name for name in program.variables if name not in values]
    if missing:
        name = missing[0]
        raise ValueProblem(f"no value for variable {name!r}: give it with --{name} VALUE")
    arrays = {}
    for name in program.variables:
        value = values[name]
        arrays[name] = (
            value
            if isinstance(value, np.ndarray) and value.dtype == np.float64
            else np.asarray(value, dtype=np.float64)
        )
    warnings = [
        f"variable {name!r} is given but not used in the expression"
        for name in values
        if name not in program.variables
    ]
    return arrays, warnings


def select_wrt(program: Program, wrt: Iterable[str] | None) -> tuple[str, ...]:
    """The variables to differentiate by, in the order given (default: every variable)."""
    if wrt is None:
        return program.variables
    wrt = tuple(dict.fromkeys(wrt))
    unknown = [name for name in wrt if name not in program.variables]
    if unknown:
        raise ValueProblem(f"--wrt names {unknown[0]!r}, which is not a variable of the expression")
    return wrt


def mixing_functions(program: Program) -> list[str]:
    """The functions of `program` that mix a vector's elements (reductions), by name."""
    return sorted(
        {
            cls.name
            for kind, cls, _ in program.steps
            if kind == CALL and not getattr(cls, "elementwise", True)
        }
    )


def pointwise(program: Program, inputs: dict[str, np.ndarray], order: int = 1) -> dict:
    """Give every value one shape, so that each element is its own point.

    That is what a vector value means for an elementwise expression: `x*y` with x = 1,2,3 and
    y = 2 has a derivative by y at each of the three points. An expression with a reduction
    (`sum`, `mean`, `dot`) mixes the elements, so there each input keeps its shape and its
    gradient is that of the whole result; higher orders are only taken elementwise.
    """
    batch = Config.batch_ndim
    if len({np.shape(x) for x in inputs.values()}) <= 1 and order < 2:
        return inputs
    mixing = mixing_functions(program)
    if mixing:
        if order >= 2 and any(np.ndim(x) > batch for x in inputs.values()):
            raise ValueProblem(
                f"derivatives of order 2 or more with vector values are taken elementwise, "
                f"but {mixing[0]}() mixes the elements: give scalar values"
            )
        return inputs
    if len({np.shape(x) for x in inputs.values()}) <= 1:
        return inputs
    try:
        arrays = np.broadcast_arrays(*inputs.values())
    except ValueError:
        sizes = ", ".join(f"{name} has {np.size(x)}" for name, x in inputs.items())
        raise ValueProblem(f"vector values differ in length: {sizes}") from None
    return {name: np.array(a) for name, a in zip(inputs, arrays)}


def evaluate(expr: str | Program, values: Mapping[str, object]) -> Result:
    """The value of `expr` at `values`, computed without building a graph."""
    program = as_program(expr)
    inputs, warnings = check_values(program, values)
    with np.errstate(all="ignore"), no_grad():
        y = _run(program, {name: Variable(x, name) for name, x in inputs.items()})
    value = np.asarray(y.data, dtype=np.float64)
    result = Result(program.text, inputs, value, None, warnings)
    _explain_nonfinite(program, result)
    return result


def grad(
    expr: str | Program, values: Mapping[str, object], wrt: Iterable[str] | None = None
) -> Result:
    """The value of `expr` and its gradient with respect to `wrt` (default: every variable)."""
    program = as_program(expr)
    wrt = select_wrt(program, wrt)
    given, warnings = check_values(program, values)
    inputs = pointwise(program, given)
    xs = {name: Variable(x, name, requires_grad=name in wrt) for name, x in inputs.items()}
    with np.errstate(all="ignore"):
        y = _run(program, xs)
        y.backward()
    value = np.asarray(y.data, dtype=np.float64)
    grads = {}
    for name in wrt:
        g = xs[name].grad
        grads[name] = np.zeros_like(inputs[name]) if g is None else np.asarray(g.data)
    result = Result(program.text, given, value, grads, warnings)
    _explain_nonfinite(program, result)
    return result


def _run(program: Program, xs: dict[str, Variable]) -> Variable:
    try:
        return program.run(xs)
    except ValueError as exc:  # numpy's broadcasting complaint, in the user's terms
        if "broadcast" not in str(exc):
            raise
        sizes = ", ".join(f"{name} has {np.size(x.data)}" for name, x in xs.items())
        raise ValueProblem(f"vector values differ in length: {sizes}") from None


def _explain_nonfinite(program: Program, result: Result) -> None:
    """Add a warning naming where a nan or inf first appeared. Costs nothing when all is finite."""
    nonfinite_inputs = False
    for name, x in result.inputs.items():
        if not np.all(np.isfinite(x)):
            # Said even when the value comes out finite (x^0 is 1 at nan).
            result.warnings.append(f"input {name} is {_kind(x)}")
            nonfinite_inputs = True
    if np.all(np.isfinite(result.value)):
        for name, g in (result.grad or {}).items():
            if not np.all(np.isfinite(g)):
                result.warnings.append(f"the derivative by {name} is {_kind(g)}")
        return
    if nonfinite_inputs:
        return
    trace: list = []
    with np.errstate(all="ignore"), no_grad():
        program.run({name: Variable(x) for name, x in result.inputs.items()}, trace)
    for cls, args, y in trace:
        if not np.all(np.isfinite(y.data)) and all(
            np.all(np.isfinite(getattr(a, "data", a))) for a in args
        ):
            kind = _kind(y.data)
            why = "outside its domain" if kind == "nan" else "overflow or division by zero"
            label = cls.name if cls.name.isalpha() else f"'{cls.name}'"
            result.warnings.append(f"{label} gave {kind} ({why})")
            return
    result.warnings.append(f"the value is {_kind(result.value)}")


def _kind(a) -> str:
    a = np.asarray(a)
    if np.isnan(a).any():
        return "nan"
    return "-inf" if (a == -np.inf).any() and not (a == np.inf).any() else "inf"


# Many independent rows at once (batch mode). Appended here so merges with other work stay easy.


@dataclass
class Rows(Result):
    """Results for `n` independent rows: every array has a leading row axis of length `n`.

    `row_warnings` maps a row index to the warnings `grad` would give for that row alone.
    """

    row_warnings: dict[int, list[str]] = field(default_factory=dict)


def grad_rows(
    expr: str | Program,
    columns: Mapping[str, np.ndarray],
    n: int,
    wrt: Iterable[str] | None = None,
    order: int = 1,
) -> Rows:
    """Value and derivatives up to `order` (0: value only, no graph) at each of `n` rows.

    `columns` holds a 1-D float64 array of length `n` per variable. Rows are independent, so one
    graph and one backward pass seeded with ones give every row's derivatives at once; reductions
    see `Config.batch_ndim = 1` and never mix rows. Order 2 and up go through
    `orders.derivatives`, which is elementwise in the same way.
    """
    program = as_program(expr)
    wrt = select_wrt(program, wrt)
    inputs, _ = check_values(program, columns)
    grads = derivatives = None
    with np.errstate(all="ignore"), using_config("batch_ndim", 1):
        if order <= 0:
            with no_grad():
                y = _run(program, {name: Variable(x, name) for name, x in inputs.items()})
            value = _row_array(y.data, n)
        elif order == 1:
            xs = {name: Variable(x, name, requires_grad=name in wrt) for name, x in inputs.items()}
            y = _run(program, xs)
            y.backward()
            value = _row_array(y.data, n)
            grads = {name: _row_array(_data(xs[name].grad), n) for name in wrt}
        else:
            from .orders import derivatives as higher

            result = higher(program, inputs, order, wrt)
            value = _row_array(result.value, n)
            grads = {name: _row_array(g, n) for name, g in result.grad.items()}
            derivatives = [
                {key: _row_array(a, n) for key, a in level.items()} for level in result.derivatives
            ]
    rows = Rows(program.text, inputs, value, grads, [], derivatives)
    rows.row_warnings = _explain_rows(program, inputs, value, grads, derivatives)
    return rows


def _data(v: Variable | None):
    return 0.0 if v is None else v.data


def _row_array(a, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(a, dtype=np.float64), (n,))


def _explain_rows(program: Program, inputs: dict, value, grads, derivatives=None) -> dict:
    """Per row, the warnings `grad` (or `orders.derivatives`) gives for that row alone.

    Vectorized: only rows that are not finite cost Python work.
    """
    out: dict[int, list[str]] = {}
    finite = np.isfinite(value)
    checked = [(f"by {name}", g) for name, g in (grads or {}).items()]
    if derivatives:
        from .orders import label

        rank = {name: i for i, name in enumerate(grads)}
        for level in derivatives[1:]:  # each distinct partial once, as orders.derivatives does
            checked.extend(
                (label(key), a)
                for key, a in level.items()
                if list(key) == sorted(key, key=rank.__getitem__)
            )
    if finite.all() and all(np.isfinite(a).all() for _, a in checked):
        return out
    for what, a in checked:
        rows = np.flatnonzero(finite & ~np.isfinite(a))
        for i, kind in zip(rows.tolist(), _kinds(a[rows])):
            out.setdefault(i, []).append(f"the derivative {what} is {kind}")
    todo = np.flatnonzero(~finite)
    if not todo.size:
        return out
    for name, x in inputs.items():
        hit = ~np.isfinite(x[todo])
        for i, kind in zip(todo[hit].tolist(), _kinds(x[todo[hit]])):
            out[i] = [f"input {name} is {kind}"]
        todo = todo[~hit]
    if todo.size:
        trace: list = []
        with np.errstate(all="ignore"), no_grad(), using_config("batch_ndim", 1):
            program.run({name: Variable(x[todo]) for name, x in inputs.items()}, trace)
        pending = np.ones(todo.size, dtype=bool)
        for cls, args, y in trace:
            data = np.broadcast_to(y.data, todo.shape)
            hit = pending & ~np.isfinite(data)
            for a in args:
                hit &= np.isfinite(np.broadcast_to(getattr(a, "data", a), todo.shape))
            if not hit.any():
                continue
            label = cls.name if cls.name.isalpha() else f"'{cls.name}'"
            for i, kind in zip(todo[hit].tolist(), _kinds(data[hit])):
                why = "outside its domain" if kind == "nan" else "overflow or division by zero"
                out[i] = [f"{label} gave {kind} ({why})"]
            pending &= ~hit
        todo = todo[pending]
    for i, kind in zip(todo.tolist(), _kinds(value[todo])):
        out[i] = [f"the value is {kind}"]
    return out


def _kinds(a: np.ndarray) -> list[str]:
    """`_kind` of each element of a 1-D array of non-finite numbers."""
    return np.where(np.isnan(a), "nan", np.where(a < 0, "-inf", "inf")).tolist()
