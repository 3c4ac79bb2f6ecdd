"""Numbers as text and as JSON: the shortest text that reads back as the same float64, or
visibly rounded with --digits; None in JSON where a number is not finite.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    pass


def format_number(x: float, digits: int | None = None) -> str:
    """Shortest text that reads back as the same float64; with `digits`, visibly rounded to
    that many significant digits: trailing zeros and the exponent kept (3.30, -3.73e-08)."""
    return repr(float(x)) if digits is None else f"{float(x):#.{digits}g}"


def format_array(a: np.ndarray, sep: str = ", ", digits: int | None = None) -> str:
    a = np.asarray(a)
    if a.ndim == 0:
        return format_number(a, digits)
    if a.ndim == 1:
        inner = sep.join(format_number(x, digits) for x in a)
    else:
        inner = sep.join(format_array(row, sep, digits) for row in a)
    return inner if sep == " " else f"[{inner}]"


def to_json(a):
    """A float64 array as JSON data: nested lists, with None where the number is not finite."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 0:
        x = float(a)
        return x if math.isfinite(x) else None
    return (
        [to_json(row) for row in a]
        if a.ndim > 1
        else [float(x) if math.isfinite(x) else None for x in a.tolist()]
    )
