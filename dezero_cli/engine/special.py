"""More of the rule table: special functions, computed by scipy.special.

scipy is imported the first time one of them is evaluated, never when the engine is imported:
an expression without them starts as fast as before. The set is closed under differentiation
(gamma' = gamma * digamma, digamma' = polygamma(1, x), polygamma(n, x)' = polygamma(n + 1, x),
erf' = 2 / sqrt(pi) * exp(-x^2)), so every order is written with these functions again.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from .core import Function
from .functions import Exp, register

TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

_special = None


def special():
    """scipy.special, imported on first use."""
    global _special
    if _special is None:
        import scipy.special

        _special = scipy.special
    return _special


@register
class Erf(Function):
    __slots__ = ()
    name = "erf"
    derivative = "2 / sqrt(pi) * exp(-x^2)"

    def forward(self, x):
        return special().erf(x)

    def backward(self, gy):
        x = self.inputs[0]
        return gy * (TWO_OVER_SQRT_PI * Exp()(-(x * x)))


@register
class Erfc(Function):
    __slots__ = ()
    name = "erfc"
    derivative = "-2 / sqrt(pi) * exp(-x^2)"
    convention = (
        "1 - erf(x) to full precision where erf(x) is near 1 (erfc(10) is 2.088e-45); 0 "
        "beyond x = 26.64, where it would be subnormal"
    )

    def forward(self, x):
        return special().erfc(x)

    def backward(self, gy):
        x = self.inputs[0]
        return gy * (-TWO_OVER_SQRT_PI * Exp()(-(x * x)))


@register
class Gamma(Function):
    __slots__ = ()
    name = "gamma"
    derivative = "gamma(x) * digamma(x)"
    convention = (
        "poles at 0 and the negative integers, with a warning: gamma(0) is inf (-inf at "
        "-0.0) and gamma(-1), gamma(-2), ... are nan (the two sides' infinities differ in "
        "sign), as C's tgamma; overflows to inf above x = 171.62"
    )

    def forward(self, x):
        return special().gamma(x)

    def backward(self, gy):
        return gy * (self.outputs[0]() * Digamma()(self.inputs[0]))


@register
class Lgamma(Function):
    __slots__ = ()
    name = "lgamma"
    derivative = "digamma(x)"
    convention = (
        "log|gamma(x)|, as C's lgamma: real for x < 0 too; inf at 0 and the negative "
        "integers, with a warning"
    )

    def forward(self, x):
        return special().gammaln(x)

    def backward(self, gy):
        return gy * Digamma()(self.inputs[0])


@register
class Digamma(Function):
    __slots__ = ()
    name = "digamma"
    derivative = "polygamma(1, x)"
    convention = (
        "gamma'(x) / gamma(x); poles at 0 and the negative integers, with a warning: "
        "digamma(0) is -inf (inf at -0.0), digamma(-1), digamma(-2), ... are nan"
    )

    def forward(self, x):
        return special().digamma(x)

    def backward(self, gy):
        return gy * Polygamma(1)(self.inputs[0])


REFLECT_BELOW = -100.0


def polygamma(n: int, x):
    """scipy's polygamma(n, x), n >= 1, but below REFLECT_BELOW (away from the poles) by the
    reflection formula psi_n(x) = (-1)^n psi_n(1 - x) - pi^(n+1) cot_n(pi x), cot_n the n-th
    derivative of cot: scipy's zeta(n + 1, x) adds |x| terms one by one for a negative x,
    which takes seconds (or years) and loses digits far out. cot(pi x) is taken at the exact
    remainder x - round(x), so it is as good as for a small argument, and exactly 0 at the
    half-integers."""
    x = np.asarray(x, dtype=np.float64)
    far = (x < REFLECT_BELOW) & (x != np.floor(x))
    if not far.any():
        return np.asarray(special().polygamma(n, x))[()]
    y = np.array(special().polygamma(n, np.where(far, 1.0, x)), dtype=np.float64)
    a = x[far]
    r = a - np.round(a)  # exact, in [-1/2, 1/2] and not 0
    # cot(pi r); beyond |r| = 1/4 as tan(pi (1/2 - |r|)), exact at 1/2 and as good near it.
    cot = np.where(
        np.abs(r) <= 0.25, 1.0 / np.tan(np.pi * r), np.sign(r) * np.tan(np.pi * (0.5 - np.abs(r)))
    )
    y[far] = (-1.0) ** n * special().polygamma(n, 1.0 - a) - np.pi ** (n + 1) * np.polyval(
        _cot_derivative(n), cot
    )
    return y[()]


@functools.lru_cache(maxsize=64)
def _cot_derivative(n: int) -> np.ndarray:
    """The polynomial P (highest power first) with d^n/dz^n cot(z) = P(cot(z)):
    P_0(c) = c, P_{k+1}(c) = -(1 + c^2) P_k'(c)."""
    p = np.array([1.0, 0.0])
    for _ in range(n):
        p = -np.polymul([1.0, 0.0, 1.0], np.polyder(p))
    return p


@register
class Polygamma(Function):
    __slots__ = ("n",)
    name = "polygamma"
    arity = 2
    static_args = 1  # n: a number in the text, given to the constructor
    parameters = ("n", "x")
    derivative = "polygamma(n + 1, x)"
    convention = (
        "the n-th derivative of digamma; n is a non-negative integer written as a number "
        "(polygamma(0, x) is digamma(x)); poles at 0 and the negative integers, with a "
        "warning; scipy computes n! * zeta(n + 1, x) for n >= 1, which is inf or nan for "
        "n > 170 and may underflow to 0 for large x; below x = -100, away from the poles, "
        "the reflection formula (-1)^n polygamma(n, 1 - x) - pi^(n+1) cot^(n)(pi x) takes over"
    )

    def __init__(self, n):
        self.n = float(n)

    @staticmethod
    def check_static(j: int, value: float) -> str | None:
        if not (value >= 0 and value == math.floor(value)):
            return "must be a non-negative integer"
        return None

    def static_values(self) -> tuple[float]:
        """The numbers it was made with, the first arguments of its call as written."""
        return (self.n,)

    def forward(self, x):
        if self.n == 0:
            return special().digamma(x)
        return polygamma(int(self.n), x)

    def backward(self, gy):
        return gy * Polygamma(self.n + 1)(self.inputs[0])


@register
class Beta(Function):
    __slots__ = ()
    name = "beta"
    arity = 2
    derivative = (
        "d/da = beta(a, b) * (digamma(a) - digamma(a + b));  "
        "d/db = beta(a, b) * (digamma(b) - digamma(a + b))"
    )
    convention = (
        "gamma(a) * gamma(b) / gamma(a + b), as scipy.special.beta: inf or -inf at a pole "
        "of gamma(a) or gamma(b), with a warning, and 0 where only a + b is at one"
    )

    def forward(self, a, b):
        return special().beta(a, b)

    def backward(self, gy):
        a, b = self.inputs
        y = self.outputs[0]()
        both = Digamma()(a + b)
        ga = gy * (y * (Digamma()(a) - both)) if a.requires_grad else None
        gb = gy * (y * (Digamma()(b) - both)) if b.requires_grad else None
        return ga, gb
