"""The library API the CLI and batch mode share: values in, a Result out, no I/O."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from .compiler import Program, compile_expression
from .core import Variable, no_grad
from .errors import ValueProblem


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
    r"[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|nan)", re.IGNORECASE
)


def parse_value(text: str, name: str = "value") -> np.ndarray:
    """A number or a comma-separated list of numbers, as float64 (0-d for a single number)."""
    items = text.split(",")
    bad = [item for item in items if not _NUMBER.fullmatch(item.strip())]
    if bad:
        what = "an empty item" if not bad[0].strip() else repr(bad[0].strip())
        raise ValueProblem(
            f"value of {name} is not a number or a comma-separated list of numbers: "
            f"{text!r} has {what}"
        )
    numbers = [float(item) for item in items]
    too_big = [
        item.strip() for item, x in zip(items, numbers) if np.isinf(x) and "inf" not in item.lower()
    ]
    if too_big:
        raise ValueProblem(f"value of {name} is outside the float64 range: {too_big[0]}")
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
    wrt = program.variables if wrt is None else tuple(wrt)
    unknown = [name for name in wrt if name not in program.variables]
    if unknown:
        raise ValueProblem(f"--wrt names {unknown[0]!r}, which is not a variable of the expression")
    inputs, warnings = check_values(program, values)
    xs = {name: Variable(x, name, requires_grad=name in wrt) for name, x in inputs.items()}
    with np.errstate(all="ignore"):
        y = _run(program, xs)
        y.backward()
    value = np.asarray(y.data, dtype=np.float64)
    grads = {}
    for name in wrt:
        g = xs[name].grad
        grads[name] = np.zeros_like(inputs[name]) if g is None else np.asarray(g.data)
    result = Result(program.text, inputs, value, grads, warnings)
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
    if np.all(np.isfinite(result.value)):
        for name, g in (result.grad or {}).items():
            if not np.all(np.isfinite(g)):
                result.warnings.append(f"the derivative by {name} is {_kind(g)}")
        return
    for name, x in result.inputs.items():
        if not np.all(np.isfinite(x)):
            result.warnings.append(f"input {name} is {_kind(x)}")
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
