"""One reference row per registered function: what the tests compare the engine with.

Adding a function to the language is one class in the engine's rule table and one row here.
test_functions (forward against numpy, backward against central differences at the row's
points), test_conformance (SymPy differentiates, mpmath evaluates, inside the row's domain)
and test_properties (random expressions evaluated with the row's numpy) all draw from this
table; a registered function without a row fails test_every_function_has_a_reference, naming
it.

A function that takes a varying number of arguments has points of each length it is tested
with; one whose first arguments must be written as numbers (`static_args`, as polygamma's n)
is tested with the values its points give them.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import mpmath as mp
import numpy as np
import scipy.special as special
import sympy as sp
from powref import pow_reference

from dezero_cli.engine.special import REFLECT_BELOW
from dezero_cli.engine.special import polygamma as reflected_polygamma


def anywhere(*args) -> bool:
    return True


@dataclass(frozen=True)
class Reference:
    """How to compute one function without the engine."""

    names: tuple[str, ...]  # the registered name, then its aliases
    numpy: Callable  # the forward on float64 scalars and arrays, written independently
    exact: bool  # `numpy` computes the very same formula: equal to the last bit, else a few ulp
    sympy: Callable  # the SymPy expression of its (scalar) arguments
    mpmath: Callable  # the value in mpmath, at its working precision
    points: tuple[tuple[float, ...], ...]  # strictly inside the domain, away from kinks and poles
    domain: Callable[..., bool] = anywhere  # arguments far enough from edges, kinks and poles
    # that float64 can be held to the conformance tolerance there (mpmath values in)
    same_bits: Callable | None = None  # if not `exact`: numpy that gives dezero's very bits on
    # float64 scalars, for the property tests, which compare whole expressions to the last bit
    near: Callable | None = None  # near(values, *args): the SymPy expression of the function
    # near a point inside `domain`, given its arguments' values there (mpmath) and SymPy forms.
    # For a function SymPy cannot differentiate as such (a kink, a jump, a branch): there it is
    # the smooth piece the point is on, such as -u for abs(u) at u < 0.

    @property
    def name(self) -> str:
        return self.names[0]

    @property
    def bitwise(self) -> Callable | None:
        """numpy with dezero's very bits on float64 scalars, if the row has one."""
        return self.numpy if self.exact else self.same_bits


def one(*xs: float) -> tuple[tuple[float, ...], ...]:
    """Points of a one-argument function."""
    return tuple((x,) for x in xs)


def elementwise(f: Callable) -> Callable:
    """A function of Python floats made a function of float64 scalars and arrays."""
    vectorized = np.vectorize(f, otypes=[np.float64])
    return lambda *xs: vectorized(*xs)[()]


def away_from_integers(u, gap=1e-6) -> bool:
    return abs(u - mp.nint(u)) >= gap


def away_from_poles(*us) -> bool:
    """Each argument away from gamma's poles at 0, -1, -2, ..."""
    return all(u > 1e-3 or away_from_integers(u, 1e-3) for u in us)


def apart(*us, gap=1e-6) -> bool:
    """No two arguments within `gap` (relative beyond 1) of each other: no tie, no kink."""
    return all(
        abs(a - b) >= gap * max(1, abs(a), abs(b)) for i, a in enumerate(us) for b in us[i + 1 :]
    )


def integer(k) -> sp.Integer:
    return sp.Integer(int(k))


def pick(values, args, index) -> sp.Expr:
    """The argument at `index(values)`: the one a max, min or clip is equal to near them."""
    return args[index(values)]


def clip_index(values) -> int:
    x, lo, hi = values
    return 2 if lo > hi or x > hi else 1 if x < lo else 0


WHOLE_LINE = one(-2.5, -0.7, 0.2, 1.1, 2.9)
POSITIVE = one(0.05, 0.5, 1.0, 3.0, 40.0)


def _polygamma(n, x):
    """scipy's polygamma; below REFLECT_BELOW the engine's reflection formula, where scipy's
    sum takes |x| steps (test_functions checks that one against mpmath)."""
    if np.any(np.asarray(x) < REFLECT_BELOW) and np.all(np.asarray(n) >= 1):
        return reflected_polygamma(int(np.max(n)), x)  # one n, maybe repeated as an array
    return np.asarray(special.polygamma(n, x))[()]


SMALL = (0.3, 0.8, 1.3)  # inside the domain of every usual elementary function


def textbook_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def two_branch_sigmoid(x):
    # Written as two textbook branches; chosen so that it is bit-for-bit the logistic function
    # dezero gives for each sign, without overflow.
    return np.where(x >= 0, 1.0 / (1.0 + np.exp(-x)), np.exp(x) / (1.0 + np.exp(x)))[()]


ROWS = (
    Reference(("square",), np.square, True, lambda u: u**2, lambda u: u**2, WHOLE_LINE),
    Reference(("exp",), np.exp, True, sp.exp, mp.exp, WHOLE_LINE),
    Reference(
        ("log", "ln"), np.log, True, sp.log, mp.log, POSITIVE, domain=lambda u: u >= 1e-3
    ),  # not real below 0, and too near the singularity at 0
    Reference(("sqrt",), np.sqrt, True, sp.sqrt, mp.sqrt, POSITIVE, domain=lambda u: u >= 1e-3),
    Reference(("sin",), np.sin, True, sp.sin, mp.sin, WHOLE_LINE),
    Reference(("cos",), np.cos, True, sp.cos, mp.cos, WHOLE_LINE),
    Reference(
        ("tan",),
        np.tan,
        True,
        sp.tan,
        mp.tan,
        one(-1.3, -0.4, 0.0, 0.6, 1.4),
        domain=lambda u: abs(mp.cos(u)) >= 1e-3,  # away from the poles
    ),
    Reference(("tanh",), np.tanh, True, sp.tanh, mp.tanh, WHOLE_LINE),
    Reference(("sinh",), np.sinh, True, sp.sinh, mp.sinh, WHOLE_LINE),
    Reference(("cosh",), np.cosh, True, sp.cosh, mp.cosh, WHOLE_LINE),
    Reference(
        ("sigmoid",),
        textbook_sigmoid,
        False,
        lambda u: 1 / (1 + sp.exp(-u)),
        lambda u: 1 / (1 + mp.exp(-u)),
        one(-6.0, -0.7, 0.0, 1.1, 6.0),
        same_bits=two_branch_sigmoid,
    ),
    Reference(
        ("abs",),
        np.abs,
        True,
        sp.Abs,
        abs,
        one(-2.5, -0.7, 0.2, 1.1),
        domain=lambda u: abs(u) >= 1e-6,  # away from the kink
        near=lambda v, u: integer(mp.sign(v[0])) * u,
    ),
    Reference(
        ("sign",),
        lambda x: np.sign(x) + 0.0,
        True,
        sp.sign,
        mp.sign,
        one(-2.5, -0.7, 0.2, 1.1),
        domain=lambda u: abs(u) >= 1e-6,  # away from the jump
        near=lambda v, u: integer(mp.sign(v[0])),  # constant near the point
    ),
    Reference(
        ("sech",),
        lambda x: 1.0 / np.cosh(x),
        False,
        lambda u: 1 / sp.cosh(u),
        mp.sech,
        WHOLE_LINE,
        same_bits=lambda x: 2.0 * np.exp(-np.abs(x)) / (1.0 + np.exp(-np.abs(x)) ** 2),
    ),
    Reference(
        ("pow",),
        pow_reference,  # C's pow, as numpy's power is not on every CPU
        True,
        lambda a, b: a**b,
        mp.power,
        ((0.5, 2.0), (1.7, -1.3), (3.0, 0.5), (0.2, 3.0), (2.0, 0.0)),
        # Real near the point for a > 0 (test_conformance adds a negative base with a constant
        # integer exponent); beyond e^60 the derivatives overflow.
        domain=lambda a, b: a >= 1e-3 and abs(b * mp.log(a)) <= 60,
    ),
    # Reductions: over the whole of a vector when no batch axes are set; of one number, that
    # number (SymPy and mpmath see scalars only).
    Reference(("sum",), np.sum, True, lambda u: u, lambda u: u, one(*SMALL)),
    Reference(("mean",), np.mean, True, lambda u: u, lambda u: u, one(*SMALL)),
    Reference(
        ("dot",),
        np.dot,
        False,
        lambda a, b: a * b,
        lambda a, b: a * b,
        tuple((x, x) for x in SMALL),
        same_bits=np.multiply,  # of two numbers, their product
    ),
)

ROWS += (
    Reference(
        ("where",),
        lambda c, a, b: np.where(c != c, np.nan, np.where(c != 0, a, b))[()],
        True,
        lambda c, a, b: sp.Piecewise((a, sp.Ne(c, 0)), (b, True)),
        lambda c, a, b: a if c != 0 else b,
        ((1.0, 0.3, 0.8), (-2.0, 1.3, 0.3), (0.0, 0.8, 1.3)),
        domain=lambda c, a, b: c == 0 or abs(c) >= 1e-6,  # away from the jump
    ),
)

UNIT = one(-0.9, -0.3, 0.0, 0.4, 0.95)  # inside [-1, 1]
PLANE = ((1.0, 2.0), (-0.7, 0.3), (0.5, -1.5), (-2.0, -0.4), (1e-3, 2.0))
ACROSS_POLES = one(-2.5, -0.7, 0.2, 1.1, 4.5)  # on either side of gamma's poles

# Inverse trigonometric and hyperbolic functions, logarithms and powers (engine/elementary.py).
ROWS += (
    Reference(
        ("asin",), np.arcsin, True, sp.asin, mp.asin, UNIT, domain=lambda u: abs(u) <= 1 - 1e-3
    ),
    Reference(
        ("acos",), np.arccos, True, sp.acos, mp.acos, UNIT, domain=lambda u: abs(u) <= 1 - 1e-3
    ),
    Reference(("atan",), np.arctan, True, sp.atan, mp.atan, WHOLE_LINE),
    Reference(
        ("atan2",),
        np.arctan2,
        True,
        sp.atan2,
        mp.atan2,
        PLANE,
        # Away from the origin, and from the jump from pi to -pi across x < 0, y = 0.
        domain=lambda y, x: mp.hypot(y, x) >= 1e-3 and (x > 0 or abs(y) >= 1e-6),
    ),
    Reference(("asinh",), np.arcsinh, True, sp.asinh, mp.asinh, WHOLE_LINE),
    Reference(
        ("acosh",),
        np.arccosh,
        True,
        sp.acosh,
        mp.acosh,
        one(1.05, 1.5, 2.0, 3.7, 40.0),
        domain=lambda u: u >= 1 + 1e-3,
    ),
    Reference(
        ("atanh",),
        np.arctanh,
        True,
        sp.atanh,
        mp.atanh,
        UNIT,
        domain=lambda u: abs(u) <= 1 - 1e-3,
    ),
    Reference(
        ("log2",),
        np.log2,
        True,
        lambda u: sp.log(u, 2),
        lambda u: mp.log(u, 2),
        POSITIVE,
        domain=lambda u: u >= 1e-3,
    ),
    Reference(
        ("log10",),
        np.log10,
        True,
        lambda u: sp.log(u, 10),
        mp.log10,
        POSITIVE,
        domain=lambda u: u >= 1e-3,
    ),  # fmt: skip
    Reference(
        ("log1p",),
        np.log1p,
        True,
        lambda u: sp.log(1 + u),
        mp.log1p,
        one(-0.9, -0.3, 0.0, 0.5, 3.0),
        domain=lambda u: u >= -1 + 1e-3,
    ),
    Reference(("expm1",), np.expm1, True, lambda u: sp.exp(u) - 1, mp.expm1, WHOLE_LINE),
    Reference(
        ("cbrt",),
        np.cbrt,
        True,
        lambda u: sp.sign(u) * sp.Abs(u) ** sp.Rational(1, 3),  # real: SymPy's cbrt is not
        lambda u: mp.sign(u) * mp.cbrt(abs(u)),
        one(-8.0, -0.7, 0.2, 1.1, 27.0),
        domain=lambda u: abs(u) >= 1e-3,  # the derivative has a pole at 0
        near=lambda v, u: sp.cbrt(u) if v[0] > 0 else -sp.cbrt(-u),
    ),
    Reference(
        ("hypot",),
        elementwise(math.hypot),
        False,
        lambda a, b: sp.sqrt(a**2 + b**2),
        mp.hypot,
        PLANE,
        domain=lambda a, b: mp.hypot(a, b) >= 1e-3,  # away from the cone's tip
        same_bits=np.hypot,
    ),
)

# Piecewise smooth functions (engine/piecewise.py): their domains keep away from the jumps,
# kinks and ties, where `near` is the piece the point is on.
ROWS += (
    Reference(
        ("floor",),
        lambda x: np.floor(x) + 0.0,
        True,
        sp.floor,
        mp.floor,
        WHOLE_LINE,
        domain=away_from_integers,
        near=lambda v, u: integer(mp.floor(v[0])),
    ),
    Reference(
        ("ceil",),
        lambda x: np.ceil(x) + 0.0,
        True,
        sp.ceiling,
        mp.ceil,
        WHOLE_LINE,
        domain=away_from_integers,
        near=lambda v, u: integer(mp.ceil(v[0])),
    ),
    Reference(
        ("round",),
        lambda x: np.round(x) + 0.0,  # half to even, as numpy's round
        True,
        lambda u: sp.floor(u + sp.Rational(1, 2)),  # half up: the same away from the halves
        mp.nint,
        one(-2.3, -0.7, 0.2, 1.1, 2.9),  # no half
        domain=lambda u: away_from_integers(u + mp.mpf(0.5)),
        near=lambda v, u: integer(mp.nint(v[0])),
    ),
    Reference(
        ("max",),
        lambda *xs: np.max(np.broadcast_arrays(*xs), axis=0)[()],
        False,
        sp.Max,
        max,
        ((0.3, 1.2), (-0.7, -2.5), (2.0, 1.1, -0.4), (0.5, -1.0, 0.8)),
        domain=apart,
        near=lambda v, *args: pick(v, args, lambda v: v.index(max(v))),
        same_bits=lambda *xs: functools.reduce(np.maximum, xs),  # max(+-0) is as numpy's
    ),
    Reference(
        ("min",),
        lambda *xs: np.min(np.broadcast_arrays(*xs), axis=0)[()],
        False,
        sp.Min,
        min,
        ((0.3, 1.2), (-0.7, -2.5), (2.0, 1.1, -0.4), (0.5, -1.0, 0.8)),
        domain=apart,
        near=lambda v, *args: pick(v, args, lambda v: v.index(min(v))),
        same_bits=lambda *xs: functools.reduce(np.minimum, xs),
    ),
    Reference(
        ("clip",),
        np.clip,
        True,
        lambda x, lo, hi: sp.Min(sp.Max(x, lo), hi),
        lambda x, lo, hi: min(max(x, lo), hi),
        # Inside, below, above, and lo > hi (then hi).
        ((0.5, 0.1, 1.0), (-0.7, -0.2, 1.0), (2.5, -1.0, 1.5), (0.2, 1.0, 0.5)),
        domain=apart,
        near=lambda v, *args: pick(v, args, clip_index),
    ),
    Reference(
        ("relu",),
        lambda x: np.maximum(x, 0.0),
        True,
        lambda u: sp.Max(u, 0),
        lambda u: max(u, mp.mpf(0)),
        one(-2.5, -0.7, 0.2, 1.1),
        domain=lambda u: abs(u) >= 1e-6,  # away from the kink
        near=lambda v, u: u if v[0] > 0 else sp.Integer(0),
    ),
    Reference(
        ("softplus",),
        lambda x: np.logaddexp(0.0, x),
        False,
        lambda u: sp.log(1 + sp.exp(u)),
        lambda u: mp.log(1 + mp.exp(u)),
        one(-6.0, -0.7, 0.0, 1.1, 30.0),
        same_bits=lambda x: np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x))),
    ),
)

# Special functions (engine/special.py): the standard library's where it has them, else
# scipy.special itself; mpmath is the independent reference of the conformance tests.
ROWS += (
    Reference(
        ("erf",), elementwise(math.erf), False, sp.erf, mp.erf, WHOLE_LINE, same_bits=special.erf
    ),
    Reference(
        ("erfc",),
        elementwise(math.erfc),
        False,
        sp.erfc,
        mp.erfc,
        one(-2.5, -0.7, 0.2, 1.1, 6.0),
        same_bits=special.erfc,
    ),
    Reference(
        ("gamma",),
        elementwise(math.gamma),
        False,
        sp.gamma,
        mp.gamma,
        ACROSS_POLES,
        domain=away_from_poles,
        same_bits=special.gamma,
    ),
    Reference(
        ("lgamma",),
        special.gammaln,  # math.lgamma differs by dozens of ulp near its zeros at 1 and 2
        True,
        lambda u: sp.log(sp.Abs(sp.gamma(u))),
        lambda u: mp.log(abs(mp.gamma(u))),
        ACROSS_POLES,
        domain=away_from_poles,
        near=lambda v, u: sp.log(integer(mp.sign(mp.gamma(v[0]))) * sp.gamma(u)),
    ),
    Reference(
        ("digamma",),
        special.digamma,
        True,
        sp.digamma,
        mp.digamma,
        ACROSS_POLES,
        domain=away_from_poles,
    ),
    Reference(
        ("polygamma",),
        _polygamma,
        True,
        sp.polygamma,
        mp.polygamma,
        ((0.0, 1.1), (1.0, 0.2), (1.0, -0.7), (2.0, 2.5), (3.0, 4.5)),  # n from 0 to 3
        domain=lambda n, x: away_from_poles(x),
    ),
    Reference(
        ("beta",),
        special.beta,
        True,
        sp.beta,
        mp.beta,
        ((0.5, 1.5), (2.0, 3.0), (-0.7, 1.2), (1.1, 0.2), (4.5, 2.5)),
        domain=lambda a, b: away_from_poles(a, b, a + b),
    ),
)

# Every name, aliases included, to its row.
REFERENCES: dict[str, Reference] = {name: row for row in ROWS for name in row.names}


def reference(name: str) -> Reference:
    """The row of the registered function `name`; an AssertionError naming it if there is none."""
    row = REFERENCES.get(name)
    assert row is not None, f"no reference row for {name!r}: add one to tests/references.py"
    return row


def call_of(name: str, cls, arguments: str = "xyz") -> str:
    """A call of the registered function `name` (class `cls`) on the variables `arguments`, as
    many as it takes at least; its static arguments (polygamma's n) are the numbers of its
    row's first point."""
    arity = cls.arity[0] if isinstance(cls.arity, tuple) else cls.arity
    k = getattr(cls, "static_args", 0)
    numbers = [repr(int(x)) for x in reference(name).points[0][:k]]
    return f"{name}({', '.join(numbers + list(arguments[: arity - k]))})"


def missing(registered) -> list[str]:
    """The registered names that have no row."""
    return sorted(set(registered) - set(REFERENCES))
