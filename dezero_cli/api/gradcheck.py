"""Backprop's gradient against central differences, for every variable and element."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..engine.core import Variable, no_grad, sum_to
from ..errors import ValueProblem
from ..language.program import Program

if TYPE_CHECKING:
    pass
from .evaluation import Result, as_program, mixing_functions, pointwise, run
from .gradients import grad

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
