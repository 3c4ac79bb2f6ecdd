"""Numbers as the user writes them: the value syntax, and which decimals have a faithful float64.

The same rules hold for every spelling of a value: `--x`, `-v x=`, a CSV cell, a JSON field,
and a number inside an expression.
"""

from __future__ import annotations

import math
import re

import numpy as np

from .errors import ValueProblem

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


def literal_problem(literal: str, x: float) -> str | None:
    """Why a finite decimal `literal` has no faithful float64 `x`, or None when it has one."""
    mantissa = literal.lower().partition("e")[0]
    if math.isinf(x) and "inf" not in mantissa:
        return f"{_cut(literal)} is outside the float64 range (largest about 1.8e308)"
    if x == 0 and any(c in "123456789" for c in mantissa):
        return f"{_cut(literal)} is too small for float64 (it would become 0; smallest 5e-324)"
    return None


def _cut(literal: str) -> str:
    return literal if len(literal) <= 30 else literal[:27] + "..."


# A standard uncertainty written after a value: 2.0±0.1, or 2.0+-0.1 where ± is hard to type.
PLUS_MINUS_SIGNS = ("±", "+-")


def split_uncertainty(text: str) -> tuple[str, str | None]:
    """`2.0±0.1` or `2.0+-0.1` -> ("2.0", "0.1"); text with neither sign -> (text, None)."""
    for sign in PLUS_MINUS_SIGNS:
        value, found, sd = text.partition(sign)
        if found:
            return value, sd
    return text, None


def parse_sd(text: str, value: np.ndarray, name: str = "value") -> float:
    """The standard uncertainty `text` written after `value` (VALUE±SD): one finite number,
    at least 0, after a value that is one number (not a list or range)."""
    if np.ndim(value):
        raise ValueProblem(
            f"value of {name}: an uncertainty (±) goes with one number, not with "
            f"{np.size(value)} values"
        )
    literal = text.strip()
    if not _NUMBER.fullmatch(literal):
        shown = literal if len(literal) <= 40 else literal[:37] + "..."
        raise ValueProblem(
            f"the uncertainty of {name} is not a number: {shown!r} (write VALUE±SD or "
            "VALUE+-SD, as in 2.0±0.1)"
        )
    sd = float(literal)
    problem = literal_problem(literal, sd)
    if problem:
        raise ValueProblem(f"the uncertainty of {name}: {problem}")
    if not (math.isfinite(sd) and sd >= 0):
        raise ValueProblem(
            f"the uncertainty of {name} must be a finite number at least 0, not {literal}"
        )
    return sd
