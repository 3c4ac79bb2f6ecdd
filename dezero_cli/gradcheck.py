"""Gradient check: backprop against central differences, for every variable and element."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from .api import Result, _run, as_program, grad, mixing_functions, pointwise
from .compiler import Program
from .core import Variable, no_grad, sum_to
from .errors import ValueProblem

EPS, RTOL, ATOL = 1e-6, 1e-5, 1e-8


@dataclass
class Check:
    """One variable: the two gradients, their differences, and which elements agree."""

    backprop: np.ndarray
    numeric: np.ndarray
    abs_error: np.ndarray
    rel_error: np.ndarray
    ok: np.ndarray  # bool, elementwise


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
    for label, x in (("--eps", eps), ("--rtol", rtol), ("--atol", atol)):
        if not (np.isfinite(x) and x >= 0) or (label == "--eps" and x == 0):
            raise ValueProblem(f"{label} must be a finite number above 0, got {x!r}")
    program = as_program(expr)
    result = grad(program, values, wrt)
    checks = {}
    points = pointwise(program, result.inputs)
    with np.errstate(all="ignore"):
        for name, backprop in result.grad.items():
            numeric = _numeric(program, points, name, eps)
            abs_error = np.abs(backprop - numeric)
            scale = np.maximum(np.abs(backprop), np.abs(numeric))
            rel_error = np.where(scale > 0, abs_error / np.where(scale > 0, scale, 1.0), 0.0)
            ok = (
                np.isfinite(backprop)
                & np.isfinite(numeric)
                & (abs_error <= atol + rtol * np.abs(numeric))
            )
            checks[name] = Check(backprop, numeric, abs_error, rel_error, ok)
    return CheckResult(result, checks, eps, rtol, atol, list(result.warnings))


def _numeric(program: Program, inputs: dict, name: str, eps: float) -> np.ndarray:
    x = inputs[name]
    # The step scales with |x| (an absolute 1e-6 is below float64's resolution past |x| ~ 1e9,
    # and too coarse a probe past 1e4), and is divided by the distance actually stepped,
    # x + h and x - h rounded, so that rounding of the step itself does not count as error.
    h = eps * np.maximum(1.0, np.abs(x))

    def at(shifted: np.ndarray) -> np.ndarray:
        xs = {n: Variable(shifted if n == name else v) for n, v in inputs.items()}
        with no_grad():
            return np.asarray(_run(program, xs).data)

    if not mixing_functions(program):
        # Element i of the value depends on element i of x only (or on all of x when x is a
        # scalar), so one shift of every element at once gives every partial.
        up, down = x + h, x - h
        diff = (at(up) - at(down)) / (up - down)
        return diff if diff.shape == x.shape else sum_to(diff, x.shape)
    out = np.empty_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += h[i]
        down[i] -= h[i]
        out[i] = np.sum(at(up) - at(down)) / (up[i] - down[i])
    return out
