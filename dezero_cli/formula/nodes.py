"""What a node of the DAG is: its kind, and the exact rationals of coefficients and constants.

Coefficients and constant terms are kept exact (a Fraction, or an int when whole) and folded
only where the result still prints exactly, as a float64 or a ratio of small whole numbers.
"""

from __future__ import annotations

import math
from fractions import Fraction

# Node kinds. A node is a tuple:
#   (VAR, name)
#   (NUM, value)                      a float64 constant (any, inf and nan included)
#   (SUM, const, ((node, coef), ...))  const + sum of coef * node; exact rationals (a
#                                     Fraction, or an int when whole), nodes by id
#   (PROD, coef, ((node, k), ...), ((node, k), ...))   coef * prod node^k / prod node^k, k >= 1
#   (POW, base, exponent)             an exponent that is not a constant integer
#   (CALL, name, (argument, ...))     a function, comparison, and/or/not or where
VAR, NUM, SUM, PROD, POW, CALL = range(6)

ONE, ZERO = 1, 0
Rational = Fraction | int  # whole numbers stay ints: their arithmetic is many times faster
MAX_DENOMINATOR = 1000  # a coefficient p/q with q up to this is printed as the ratio
MAX_EXPONENT = 64  # constant coefficients are raised to integer powers up to this only


def exact(v: float) -> Rational | None:
    if not math.isfinite(v):
        return None
    return int(v) if v.is_integer() and abs(v) <= 2**53 else Fraction(v)


def whole(q: Rational) -> Rational:
    return q if type(q) is int or q.denominator != 1 else q.numerator


def power(q: Rational, k: int) -> Rational:
    """q^k, exactly (k may be negative; q is not 0 then)."""
    return whole(q**k if k >= 0 else Fraction(1) / q**-k)


def fits(q: Rational) -> bool:
    """Whether `q` prints exactly: a float64, or a ratio of two small whole numbers."""
    if q.denominator <= MAX_DENOMINATOR and abs(q.numerator) <= 2**53:
        return True
    try:
        return Fraction(float(q)) == q
    except OverflowError:
        return False


def integer(v: float) -> int | None:
    """`v` as an int if it is a whole number small enough to be an exponent, else None."""
    if math.isfinite(v) and v == int(v) and abs(v) <= 2**31:
        return int(v)
    return None
