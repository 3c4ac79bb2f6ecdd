"""x^y as dezero must give it, point by point, from the standard library alone.

C's pow, bit for bit as math.pow gives it (C99's nan and infinities where math.pow raises
instead), except at the exponents 2, 0.5 and -1, one correctly rounded operation each. The
reference of tests that compare x^y exactly (numpy's power may use a SIMD loop that is not
C's pow, so it is no such reference).
"""

from __future__ import annotations

import math

import numpy as np


def _odd(y: float) -> bool:
    return abs(math.fmod(y, 2.0)) == 1.0


def ref_pow(a: float, b: float) -> float:
    """The specification of x^y at one point."""
    if b == 2.0:
        return a * a
    if b == -1.0:
        return 1.0 / a if a != 0 else math.copysign(math.inf, a)
    if b == 0.5:  # C's pow(a, 0.5): sqrt, but +0 at -0 and +inf at -inf
        if a == -math.inf:
            return math.inf
        return math.sqrt(a) + 0.0 if not a < 0 else math.nan
    try:
        return math.pow(a, b)
    except ValueError:  # C gives nan for a < 0 with a non-integer b, +-inf for 0 to a b < 0
        if a != 0:
            return math.nan
        return math.copysign(math.inf, a) if _odd(b) else math.inf
    except OverflowError:
        return -math.inf if a < 0 and _odd(b) else math.inf


def pow_reference(a, b):
    """ref_pow elementwise, on numbers or arrays (float64, broadcast)."""
    out = np.vectorize(ref_pow, otypes=[np.float64])(a, b)
    return out[()]
