"""First-order (linear) propagation of independent standard uncertainties."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ValueProblem
from ..language.program import Program

if TYPE_CHECKING:
    pass
from .evaluation import mixing_functions


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


def checked_sd(program: Program, given: dict, sd: Mapping[str, object] | None) -> dict:
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


def uncertain_partials(program: Program, grads: dict, sd: dict, value: np.ndarray) -> dict:
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
