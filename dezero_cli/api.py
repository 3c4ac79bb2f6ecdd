"""The library API: the one entry point for the CLI, batch mode and Python code.

Values in, a Result out, no I/O. Every function takes an expression as text or as a compiled
`Program` (compile once with `compile`, then evaluate it at many points). See docs/api.md.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from . import diagnostics
from .diagnostics import column_labels, distinct_partials, label
from .engine.core import Config, Variable, no_grad, sum_to, using_config
from .engine.functions import FUNCTIONS
from .engine.higher import MAX_ENTRIES, MAX_ORDER, backprop, full_tensor, partials
from .errors import DezeroError, ExpressionSyntaxError, ValueProblem
from .language.compiler import CONSTANTS, compile_expression
from .language.program import CALL, Program
from .trace import Trace, check_size, forward_steps, watching
from .values import parse_value

if TYPE_CHECKING:
    from .formula_text import Formulas

__all__ = [
    "Check",
    "CheckResult",
    "DezeroError",
    "ExpressionSyntaxError",
    "Program",
    "Result",
    "as_program",
    "check_gradient",
    "check_values",
    "compile",
    "derivative_graph",
    "derivatives",
    "diff",
    "evaluate",
    "grad",
    "grad_table",
    "label",
    "mixing_functions",
    "parse_value",
    "pointwise",
    "propagate",
    "run",
    "select_wrt",
]


@dataclass
class Result:
    """What one evaluation gives: the value, and the gradient for each variable asked for.

    For a vector result `[e1, e2, ...]` (`outputs` > 0) every array (value, each partial,
    the uncertainty) has a leading axis over the outputs: `grad["x"][i]` is df[i]/dx.
    """

    expr: str
    inputs: dict[str, np.ndarray]
    value: np.ndarray
    grad: dict[str, np.ndarray] | None = None
    warnings: list[str] = field(default_factory=list)
    # With --order N: element k-1 maps each k-tuple of variable names to that partial derivative.
    derivatives: list[dict[tuple[str, ...], np.ndarray]] | None = None
    outputs: int = 0  # a vector result's number of outputs; 0 for a scalar result
    # With standard uncertainties of inputs (x = 2.0 ± 0.1): the value's, first order, and theirs.
    uncertainty: np.ndarray | None = None
    input_sd: dict[str, float] | None = None
    trace: Trace | None = None  # the passes step by step (--trace)


def compile(expr: str) -> Program:  # noqa: A001 (the name users look for; builtins unaffected)
    """Parse and resolve an expression once; raise ExpressionSyntaxError and kin if it is bad."""
    return compile_expression(expr)


def as_program(expr: str | Program) -> Program:
    return expr if isinstance(expr, Program) else compile_expression(expr)


def check_values(program: Program, values: Mapping[str, object]) -> tuple[dict, list[str]]:
    """The arrays for the program's variables, and warnings for values nobody uses."""
    defined = [name for name in values if name in program.definitions]
    if defined:
        name = defined[0]
        raise ValueProblem(
            f"{name!r} is defined in the expression, so it cannot also be given a value (--{name})"
        )
    missing = [name for name in program.variables if name not in values]
    if missing:
        name = missing[0]
        message = f"no value for variable {name!r}: give it with --{name} VALUE"
        if name in FUNCTIONS:
            message += f" (or call the function {name}(...))"
        raise ValueProblem(message)
    arrays = {}
    for name in program.variables:
        value = values[name]
        arrays[name] = (
            value
            if isinstance(value, np.ndarray) and value.dtype == np.float64
            else np.asarray(value, dtype=np.float64)
        )
    warnings = [unused(name) for name in values if name not in program.variables]
    return arrays, warnings


def unused(name: str) -> str:
    """Why a value given for NAME is not used: NAME is a constant, or no variable of the
    expression (a function's name can be one, where the expression does not call it)."""
    if name in CONSTANTS:
        return (
            f"{name} is a constant ({CONSTANTS[name]!r}), not a variable: "
            f"the value given for {name} is not used"
        )
    return f"variable {name!r} is given but not used in the expression"


def select_wrt(program: Program, wrt: Iterable[str] | None) -> tuple[str, ...]:
    """The variables to differentiate by, in the order given (default: every variable)."""
    if wrt is None:
        return program.variables
    wrt = tuple(dict.fromkeys(wrt))
    unknown = [name for name in wrt if name not in program.variables]
    if unknown:
        name = unknown[0]
        if name in program.definitions:
            raise ValueProblem(
                f"--wrt names {name!r}, which is defined in the expression: differentiate by "
                "the variables it is made of"
            )
        raise ValueProblem(f"--wrt names {name!r}, which is not a variable of the expression")
    return wrt


def mixing_functions(program: Program) -> list[str]:
    """The functions of `program` that mix a vector's elements (reductions), by name."""
    return sorted(
        {
            step[1].name
            for step in program.steps
            if step[0] == CALL and not getattr(step[1], "elementwise", True)
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


def run(program: Program, xs: Mapping[str, Variable], trace: list | None = None):
    """Run `program` on Variables, building its graph (unless under no_grad): a Variable, or
    a list of them for a vector result. `trace` collects the calls (see Program.run)."""
    try:
        return program.run(xs, trace)
    except ValueError as exc:  # numpy's broadcasting complaint, in the user's terms
        if "broadcast" not in str(exc):
            raise
        sizes = ", ".join(f"{name} has {np.size(x.data)}" for name, x in xs.items())
        raise ValueProblem(f"vector values differ in length: {sizes}") from None


def evaluate(
    expr: str | Program, values: Mapping[str, object], sd: Mapping[str, float] | None = None
) -> Result:
    """The value of `expr` at `values`, computed without building a graph.

    With `sd` (standard uncertainties of some variables) the value's uncertainty comes too,
    which needs the gradient: then a graph is built, as by `grad`.
    """
    program = as_program(expr)
    if sd:
        result = grad(program, values, [name for name in sd if name in program.variables], sd)
        result.grad = None
        return result
    inputs, warnings = check_values(program, values)
    with np.errstate(all="ignore"), no_grad():
        y = run(program, {name: Variable(x, name) for name, x in inputs.items()})
    value = _value(program, y)
    result = Result(program.text, inputs, value, None, warnings, outputs=program.outputs)
    return _explained(result, program)


def grad(
    expr: str | Program,
    values: Mapping[str, object],
    wrt: Iterable[str] | None = None,
    sd: Mapping[str, float] | None = None,
    trace: bool = False,
) -> Result:
    """The value of `expr` and its gradient with respect to `wrt` (default: every variable).

    A vector result `[e1, e2, ...]` is evaluated once; then one backward pass per output
    runs on that same forward graph (`engine.higher.backprop`, which clears the gradients
    between passes), giving the Jacobian. With `sd` the value's standard uncertainty is
    propagated to first order (`propagate`); with `trace` the passes are kept step by step.
    """
    program = as_program(expr)
    wrt = select_wrt(program, wrt)
    given, warnings = check_values(program, values)
    sd = _checked_sd(program, given, sd)
    inputs = pointwise(program, given)
    names = (*wrt, *(name for name in sd if name not in wrt))
    record = calls = None
    if trace:
        check_size(program, inputs)
        record, calls = Trace(), []
    xs = {name: Variable(x, name, requires_grad=name in names) for name, x in inputs.items()}
    wanted = [xs[name] for name in names]
    with np.errstate(all="ignore"):
        y = run(program, xs, calls)
        if record is not None:
            record.forward = forward_steps(calls)
        ys = y if program.outputs else [y]
        passes = []
        for i, v in enumerate(ys):
            with watching(record, i if program.outputs else None):
                passes.append(backprop(v, wanted))
    value = _value(program, y)
    grads = {}
    for j, name in enumerate(names):
        arrays = [
            np.zeros_like(inputs[name]) if gs[j] is None else np.asarray(gs[j].data)
            for gs in passes
        ]
        grads[name] = _stack(arrays) if program.outputs else arrays[0]
    result = Result(
        program.text, given, value, {name: grads[name] for name in wrt}, warnings,
        outputs=program.outputs, trace=record,
    )  # fmt: skip
    if sd:
        result.uncertainty = propagate(_per_point(program, grads, sd, value), sd)
        result.input_sd = sd
    return _explained(result, program)


def derivatives(
    expr: str | Program,
    values: Mapping[str, object],
    order: int,
    wrt: Iterable[str] | None = None,
    sd: Mapping[str, float] | None = None,
    trace: bool = False,
) -> Result:
    """The value of `expr` and all its partial derivatives up to `order`.

    `Result.grad` is the first derivative; `Result.derivatives[k - 1]` maps each k-tuple of
    names to the k-th partial. With order 2 or more, vector values are broadcast to one shape
    first: each element is its own point, so every derivative has that shape. A vector
    result's outputs are differentiated one after the other from the one forward graph.
    With `trace`, only the first backward pass (of each output) is traced.
    """
    program, names, xs, given, warnings = _prepare(expr, values, order, wrt)
    sd = _checked_sd(program, given, sd)
    inputs = {name: np.asarray(x.data) for name, x in xs.items()}
    record = calls = None
    if trace:
        check_size(program, inputs)
        record, calls = Trace(first_pass_only=order > 1), []
    per_output = []
    with np.errstate(all="ignore"):
        y = run(program, xs, calls)
        if record is not None:
            record.forward = forward_steps(calls)
        value = _value(program, y)
        ys = y if program.outputs else [y]
        del y
        wanted = [xs[name] for name in names]
        for i in range(len(ys)):
            levels = partials(ys[i], wanted, order)
            ys[i] = None  # the forward graph lives on only where the backward graph uses it
            with watching(record, i if program.outputs else None):
                first = _numbers(next(levels), names, inputs)  # one pass, from the output
            per_output.append([first, *(_numbers(level, names, inputs) for level in levels)])
    levels = per_output[0]
    if program.outputs:
        levels = [
            {key: _stack([p[k][key] for p in per_output]) for key in level}
            for k, level in enumerate(levels)
        ]
    grads = {name: levels[0][(name,)] for name in names}
    result = Result(program.text, given, value, grads, warnings, outputs=program.outputs)
    result.derivatives = [full_tensor(level, names) for level in levels]
    result.trace = record
    if sd:
        if all(name in grads for name in sd):
            per_point = _per_point(program, grads, sd, value)
            result.uncertainty = propagate(per_point, sd)
        else:
            result.uncertainty = grad(program, values, (), sd).uncertainty
        result.input_sd = sd
    return _explained(result, program)


def propagate(grads: Mapping[str, np.ndarray], sd: Mapping[str, object]) -> np.ndarray:
    """First-order (linear) propagation of independent standard uncertainties:
    sigma_f = sqrt(sum over i of (df/dx_i * sigma_i)^2).

    `grads` holds df/dx_i for each name of `sd`, and each sigma broadcasts against it. A
    sigma of 0 adds nothing, even where its derivative is not finite. The sum is taken with
    hypot, so that no square overflows.
    """
    total = np.float64(0.0)
    for name, sigma in sd.items():
        sigma = np.asarray(sigma, dtype=np.float64)
        with np.errstate(all="ignore"):
            term = np.where(sigma == 0, 0.0, grads[name] * sigma)
        total = np.hypot(total, term)
    return np.asarray(total, dtype=np.float64)


def _checked_sd(program: Program, given: dict, sd: Mapping[str, object] | None) -> dict:
    """The standard uncertainties of the program's variables (others are not used): each one
    finite number at least 0, for a variable whose value is one number."""
    out = {}
    for name, sigma in (sd or {}).items():
        if name not in program.variables:
            continue
        sigma = float(sigma)
        if not (np.isfinite(sigma) and sigma >= 0):
            raise ValueProblem(
                f"the uncertainty of {name} must be a finite number at least 0, got {sigma!r}"
            )
        if np.ndim(given[name]):
            raise ValueProblem(
                f"an uncertainty goes with one number: {name} has {np.size(given[name])} values"
            )
        out[name] = sigma
    return out


def _per_point(program: Program, grads: dict, sd: dict, value: np.ndarray) -> dict:
    """The derivatives by the uncertain variables, each of the value's shape (one per point
    and output); refused where a reduction gives only the derivative of the sum."""
    for name in sd:
        if np.shape(grads[name]) != np.shape(value):
            mixing = [f"{f}()" for f in mixing_functions(program)] or ["a reduction"]
            raise ValueProblem(
                f"an uncertainty for {name} needs df/d{name} at each element of the result, "
                f"but {mixing[0]} mixes the elements, so the gradient is that of their sum: "
                "give scalar values"
            )
    return {name: grads[name] for name in sd}


def _value(program: Program, y) -> np.ndarray:
    """The value of what `run` gave: one array, the outputs of a vector result stacked."""
    if program.outputs:
        return _stack([np.asarray(v.data, dtype=np.float64) for v in y])
    return np.asarray(y.data, dtype=np.float64)


def _stack(arrays: list[np.ndarray]) -> np.ndarray:
    """One array per output of a vector result, as one array with a leading axis of outputs
    (each broadcast to a common shape: `[x, 1]` with x = 1,2 gives 2 x 2)."""
    try:
        return np.stack(np.broadcast_arrays(*arrays))
    except ValueError:
        sizes = ", ".join(f"f[{i}] has {np.size(a)}" for i, a in enumerate(arrays))
        raise ValueProblem(
            f"the elements of the list differ in length ({sizes} values): a reduction such "
            "as sum() gives one value where the others give one per element"
        ) from None


def derivative_graph(
    expr: str | Program,
    values: Mapping[str, object],
    order: int,
    wrt: Iterable[str] | None = None,
) -> list[Variable]:
    """The Variables of the `order`-th derivative with their graph kept (order 0: the value).

    Each is named by its label (`d2f/dxdy`); one per distinct partial.
    """
    program, names, xs, _, _ = _prepare(expr, values, order, wrt, min_order=0)
    outputs = []
    with np.errstate(all="ignore"):
        y = run(program, xs)
        ys = y if program.outputs else [y]
        tags = range(len(ys)) if program.outputs else [None]
        if order == 0:
            for v, i in zip(ys, tags):
                v.name = "f" if i is None else f"f[{i}]"
            return ys
        wanted = [xs[name] for name in names]
        for v, i in zip(ys, tags):
            (level,) = collections.deque(partials(v, wanted, order, keep_graph=True), maxlen=1)
            for key, d in level.items():
                if d is None:  # identically zero: a constant node still says so
                    d = Variable(np.zeros_like(wanted[key[-1]].data), requires_grad=False)
                d.name = label(tuple(names[j] for j in key), i)
                outputs.append(d)
    return outputs


def diff(
    expr: str | Program,
    values: Mapping[str, object] | None = None,
    order: int = 1,
    wrt: Iterable[str] | None = None,
) -> Formulas:
    """Every partial derivative up to `order` as a formula of the language.

    The formula is the graph that double backprop records, read back and simplified (not a
    second symbolic engine). Without values it is read at `formula.generic_point` and holds
    wherever the expression is smooth; with values (one number each) it is the formula that
    holds at that point.
    """
    from .formula import generic_point, read_graph  # only diff pays for importing these
    from .formula_text import Formulas

    program = as_program(expr)
    generic = not values
    if generic:
        values = generic_point(program.variables)
    else:
        missing = [name for name in program.variables if name not in values]
        if missing and not any(name in program.definitions for name in values):
            raise ValueProblem(
                f"no value for variable {missing[0]!r}: give every variable a value "
                f"(--{missing[0]} VALUE), or none for the formula at a generic point"
            )
        given, _ = check_values(program, values)
        for name, x in given.items():
            if np.ndim(x):
                raise ValueProblem(
                    f"diff prints the formula at one point: give {name} one number, not "
                    f"{np.size(x)}"
                )
    program, names, xs, given, warnings = _prepare(program, values, order, wrt)
    # Every variable is recorded, also those not differentiated by: sin(y) must stay sin(y),
    # not become the number it is at this point.
    xs = {name: Variable(x.data, name) for name, x in xs.items()}
    with np.errstate(all="ignore"):
        y = run(program, xs)
        wanted = [xs[name] for name in names]
        # Each output of a vector result differentiated in turn on the one forward graph.
        per_output = [
            list(partials(v, wanted, order, keep_graph=True))
            for v in (y if program.outputs else [y])
        ]
        del y
        keys = [key for level in per_output[0] for key in level]
        dag, roots = read_graph([p[len(key) - 1][key] for key in keys for p in per_output], xs)
    n = len(per_output)
    nodes = [{} for _ in per_output[0]]
    for j, key in enumerate(keys):
        mine = roots[j * n : (j + 1) * n]  # this partial of each output
        nodes[len(key) - 1][tuple(names[i] for i in key)] = (
            tuple(mine) if program.outputs else mine[0]
        )
    point = {name: float(x) for name, x in given.items()}
    return Formulas(
        program.text, point, generic, names, nodes, dag, program.variables, warnings,
        program.outputs,
    )  # fmt: skip


# The rows of a table: each row its own point.


def grad_table(
    expr: str | Program, table: Any, wrt: Iterable[str] | None = None, order: int = 1
) -> Any:
    """The table with `value`, `grad_NAME` (up to `order`; 0: value alone) and `error` added.

    `table` is a pandas DataFrame or an Arrow Table or RecordBatch, and so is what comes back:
    its own columns, then batch's. A number that is not finite is missing (NaN, Arrow null); a
    row with a missing or unreadable value gets an `error` (see dezero_cli.frames). No limits
    are applied, as in `grad`.
    """
    from .frames import Table  # pandas or pyarrow only when given such a table

    program = as_program(expr)
    if program.outputs:
        raise ValueProblem("grad_table takes an expression with one result, not a list of them")
    wrt = select_wrt(program, wrt)
    if isinstance(order, bool) or not isinstance(order, int) or not 0 <= order <= MAX_ORDER:
        raise ValueProblem(f"the order must be a whole number from 0 to {MAX_ORDER}, got {order}")
    labels = column_labels(wrt, order)
    rows = Table(table)
    rows.check_names(program.variables, ["value", *(name for name, _ in labels), "error"])
    columns = {name: rows.numbers(name) for name in program.variables}
    results = {name: np.full(rows.n, np.nan) for name in ["value", *(n for n, _ in labels)]}
    good = np.setdiff1d(np.arange(rows.n), np.fromiter(rows.errors, dtype=np.intp))
    if good.size:
        part = {name: x[good] for name, x in columns.items()}
        # Each row its own point: reductions see one row at a time, as in batch.
        with np.errstate(all="ignore"), using_config("batch_ndim", 1):
            if order == 0:
                found = evaluate(program, part)
            elif order == 1:
                found = grad(program, part, wrt)
            else:
                found = derivatives(program, part, order, wrt)
        results["value"][good] = np.broadcast_to(found.value, good.shape)
        for name, path in labels:
            k = len(path)
            numbers = found.grad[path[0]] if k == 1 else found.derivatives[k - 1][path]
            results[name][good] = np.broadcast_to(numbers, good.shape)
    return rows.with_columns(results)


def _prepare(expr, values, order, wrt, min_order: int = 1):
    if isinstance(order, bool) or not isinstance(order, int) or order < min_order:
        raise ValueProblem(f"the order must be a whole number of at least {min_order}, got {order}")
    if order > MAX_ORDER:
        raise ValueProblem(f"the order must be at most {MAX_ORDER}, got {order}")
    program = as_program(expr)
    names = select_wrt(program, wrt)
    entries = len(names) ** order if names else 0  # at most MAX_ORDER: a few hundred digits
    if entries > MAX_ENTRIES:
        raise ValueProblem(
            f"order {order} with {len(names)} variables has {entries} partials "
            f"(at most {MAX_ENTRIES}): lower the order or select variables with --wrt"
        )
    given, warnings = check_values(program, values)
    inputs = pointwise(program, given, order)
    xs = {name: Variable(x, name, requires_grad=name in names) for name, x in inputs.items()}
    return program, names, xs, given, warnings


def _numbers(level, names, inputs) -> dict[tuple[str, ...], np.ndarray]:
    out = {}
    for key, v in level.items():
        last = inputs[names[key[-1]]]
        out[tuple(names[i] for i in key)] = (
            np.zeros_like(last) if v is None else np.asarray(v.data, dtype=np.float64)
        )
    return out


def _explained(result: Result, program: Program) -> Result:
    """`result` with a warning for each number that is not finite, saying why."""
    checked = distinct_partials(result.grad or {}, result.derivatives)
    found = diagnostics.explain(program, result.inputs, result.value, checked)
    result.warnings.extend(found.get(0, []))
    return result


# Gradient check: backprop against central differences, for every variable and element.

EPS, RTOL, ATOL = 1e-6, 1e-5, 1e-8


@dataclass
class Check:
    """One variable: the two gradients, their differences, and which elements agree.

    Where a step of the central difference left the expression's domain (f is finite at the
    point but not at v + h or v - h), there is no central difference: `numeric`, `abs_error`
    and `rel_error` are nan there, `ok` is False and `left_domain` True.
    """

    backprop: np.ndarray
    numeric: np.ndarray
    abs_error: np.ndarray
    rel_error: np.ndarray  # nan where undefined (an error that is nan or inf)
    ok: np.ndarray  # bool, elementwise
    left_domain: np.ndarray  # bool, elementwise


@dataclass
class CheckResult:
    result: Result  # value and backprop gradient, as `grad` gives them
    checks: dict[str, Check]
    eps: float
    rtol: float
    atol: float
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(bool(np.all(c.ok)) for c in self.checks.values())


def check_gradient(
    expr: str | Program,
    values: Mapping[str, object],
    eps: float = EPS,
    rtol: float = RTOL,
    atol: float = ATOL,
    wrt: Iterable[str] | None = None,
) -> CheckResult:
    """Compare backprop with (f(v + h) - f(v - h)) / 2h, h = eps * max(1, |v|), elementwise.

    Agreement is numpy's isclose: |backprop - numeric| <= atol + rtol * |numeric|, and both
    finite. For a vector-valued expression both sides differentiate the sum of its elements.
    """
    for option, x in (("--eps", eps), ("--rtol", rtol), ("--atol", atol)):
        if not (np.isfinite(x) and x >= 0) or (option == "--eps" and x == 0):
            raise ValueProblem(f"{option} must be a finite number above 0, got {x!r}")
    program = as_program(expr)
    if program.outputs:
        raise ValueProblem(
            "check compares the gradient of one result: check each element of the list "
            "[...] on its own"
        )
    result = grad(program, values, wrt)
    checks = {}
    warnings = list(result.warnings)
    points = pointwise(program, result.inputs)
    with np.errstate(all="ignore"):
        for name, backprop in result.grad.items():
            numeric, above, below = _numeric(program, points, name, eps, result.value)
            abs_error = np.abs(backprop - numeric)
            scale = np.maximum(np.abs(backprop), np.abs(numeric))
            # 0 where both are 0; nan where the error is nan or inf (inf / inf): no fake 0.0.
            rel_error = np.where(abs_error == 0, 0.0, abs_error / np.where(scale > 0, scale, 1.0))
            ok = (
                np.isfinite(backprop)
                & np.isfinite(numeric)
                & (abs_error <= atol + rtol * np.abs(numeric))
            )
            checks[name] = Check(backprop, numeric, abs_error, rel_error, ok, above | below)
            if np.any(above | below):
                warnings.append(_left_domain(name, points[name], eps, above, below))
    return CheckResult(result, checks, eps, rtol, atol, warnings)


def _left_domain(name: str, x: np.ndarray, eps: float, above, below) -> str:
    """The warning for a variable whose central difference stepped out of the domain."""
    where = np.flatnonzero(above | below)
    i = np.unravel_index(where[0], np.shape(above))
    index = "".join(f"[{j}]" for j in i)
    point = float(np.broadcast_to(x, np.shape(above))[i])
    sides = [side for side, out in (("- h", below[i]), ("+ h", above[i])) if out]
    others = where.size - 1
    more = f" (nor at {others} more element{'s' if others > 1 else ''})" if others else ""
    return (
        f"df/d{name}{index}: f is not finite at {name}{index} {' and '.join(sides)} "
        f"({name}{index} = {point!r}, h = {eps * max(1.0, abs(point))!r}): the step left the "
        f"domain, so there is no central difference{more}; check at a point at least h inside "
        "the domain, or with a smaller --eps"
    )


def _numeric(program: Program, inputs: dict, name: str, eps: float, value: np.ndarray):
    """The central difference by `name`, and where f(x + h), f(x - h) are not finite while f
    is: (numeric, above, below), each of x's shape."""
    x = inputs[name]
    # The step scales with |x| (an absolute 1e-6 is below float64's resolution past |x| ~ 1e9,
    # and too coarse a probe past 1e4), and is divided by the distance actually stepped,
    # x + h and x - h rounded, so that rounding of the step itself does not count as error.
    h = eps * np.maximum(1.0, np.abs(x))
    inside = np.isfinite(value)

    def at(shifted: np.ndarray) -> np.ndarray:
        xs = {n: Variable(shifted if n == name else v) for n, v in inputs.items()}
        with no_grad():
            return np.asarray(run(program, xs).data)

    def out(f: np.ndarray) -> np.ndarray:
        return inside & ~np.isfinite(f)

    if not mixing_functions(program):
        # Element i of the value depends on element i of x only (or on all of x when x is a
        # scalar), so one shift of every element at once gives every partial.
        up, down = x + h, x - h
        f_up, f_down = at(up), at(down)
        diff = (f_up - f_down) / (up - down)
        if diff.shape == x.shape:
            return diff, out(f_up), out(f_down)
        return (
            sum_to(diff, x.shape),
            sum_to(out(f_up).astype(float), x.shape) > 0,
            sum_to(out(f_down).astype(float), x.shape) > 0,
        )
    numeric = np.empty_like(x)
    above = np.zeros(x.shape, dtype=bool)
    below = np.zeros(x.shape, dtype=bool)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += h[i]
        down[i] -= h[i]
        f_up, f_down = at(up), at(down)
        numeric[i] = np.sum(f_up - f_down) / (up[i] - down[i])
        above[i], below[i] = np.any(out(f_up)), np.any(out(f_down))
    return numeric, above, below
