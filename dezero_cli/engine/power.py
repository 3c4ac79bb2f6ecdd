"""Power: a^b the same bits for a point wherever it sits, and derivatives that stay finite
wherever the true ones are.

The forward is C's pow (bit for bit what math.pow gives), except at the exponents 2, 0.5 and
-1, where one correctly rounded operation does it; numpy's SIMD loops and its shape-dependent
fast paths would otherwise make a point alone and in a vector differ in the last bit. The
backward is the textbook rule, but where a power in it overflows or underflows while the
whole product need not, that point takes the product as a whole (ScaledPow).
"""

from __future__ import annotations

import math

import numpy as np

from .core import ONE, Function, Variable, is_ones
from .operators import And, Equal, GreaterEqual, Log, Select, operator


def _any(a) -> bool:
    """np.any(a) without numpy's dispatch: `a` is False, or an array or numpy scalar."""
    if a is False:
        return False
    try:
        return bool(a.any())
    except AttributeError:  # a Python number
        return bool(np.any(a))


def _all(a) -> bool:
    """np.all(a), likewise."""
    if a is False:
        return False
    try:
        return bool(a.all())
    except AttributeError:
        return bool(np.all(a))


def _odd(y: float) -> bool:
    return abs(math.fmod(y, 2.0)) == 1.0


def _pow_one(x: float, y: float) -> float:
    """C's pow(x, y) through math.pow, which raises where C returns nan or an infinity."""
    try:
        return math.pow(x, y)
    except ValueError:  # a finite x < 0 with a non-integer y, or x = +-0 with y < 0
        if x != 0:
            return math.nan
        return math.copysign(math.inf, x) if _odd(y) else math.inf
    except OverflowError:
        return -math.inf if x < 0 and _odd(y) else math.inf


def _pow_each(a, b):
    """C's pow element by element, through math.pow: never a SIMD loop, whatever the shape."""
    a, b = np.broadcast_arrays(a, b)
    xs, ys = a.ravel().tolist(), b.ravel().tolist()
    try:
        out = np.fromiter(map(math.pow, xs, ys), np.float64, len(xs))
    except (ValueError, OverflowError):
        out = np.fromiter(map(_pow_one, xs, ys), np.float64, len(xs))
    return out.reshape(a.shape)[()]


def _numpy_power_is_c_pow() -> bool:
    """Whether np.power on float64 is C's pow element by element here, as math.pow is.

    It is unless numpy dispatched a SIMD loop for this CPU (SVML on AVX-512 machines), whose
    results differ in the last bit. numpy says which loop it uses; a probe then checks the bits.
    """
    try:
        from numpy.lib.introspect import opt_func_info

        loops = opt_func_info(func_name="^power$").get("power", {})
    except Exception:  # numpy < 2 cannot say: take the slow, sure path
        return False
    if not any(
        sig.replace("->", "") == "ddd" and str(loop.get("current", "")).startswith("baseline")
        for sig, loop in loops.items()
    ):
        return False
    t = np.arange(4096.0)
    a = np.exp((t * 0.6180339887498949) % 1.0 * 40.0 - 20.0)
    b = (t * 0.7548776662466927) % 1.0 * 40.0 - 20.0
    with np.errstate(all="ignore"):
        got, want = np.power(a, b), _pow_each(a, b)
    return bool(_all(got.view(np.int64) == want.view(np.int64)))


_pow_loop = None  # np.power or _pow_each: chosen on first use, then the same for every shape


def c_pow(a, b):
    """C's pow(a, b) elementwise, bit for bit as math.pow gives it (nan or inf where it raises)."""
    global _pow_loop
    if _pow_loop is None:
        _pow_loop = np.power if _numpy_power_is_c_pow() else _pow_each
    return _pow_loop(a, b)


def _sqrt_as_pow(a):
    """pow(a, 0.5), correctly rounded: sqrt(a), but +0 at -0 and +inf at -inf as pow has it."""
    r = np.sqrt(a) + 0.0  # -0.0 + 0.0 is +0.0
    neg_inf = a == -np.inf
    return np.where(neg_inf, np.inf, r)[()] if _any(neg_inf) else r


# Exponents whose power is one correctly rounded operation: as accurate as any result can be
# (and what np.power takes for a single such exponent, so a point alone keeps its old value).
_EXACT_POWERS = ((2.0, lambda a: a * a), (0.5, _sqrt_as_pow), (-1.0, lambda a: 1.0 / a))


def power(a, b):
    """a^b elementwise on float64, the same bits for a point whatever the shape it sits in.

    C's pow, except at the exponents of _EXACT_POWERS, correctly rounded. (np.power alone
    takes x*x, sqrt and 1/x for one exponent 2, 0.5 or -1 but pow for a vector of them, which
    differs at ~0.1% of points, and sqrt breaks pow's rules at -0 and -inf; on AVX-512 it takes
    a SIMD pow for arrays that differs from C's in the last bit.)
    """
    if np.ndim(b) == 0:
        e = float(b)
        for value, exact in _EXACT_POWERS:
            if e == value:
                return exact(a)
        return c_pow(a, b)
    r = c_pow(a, b)
    for value, exact in _EXACT_POWERS:
        at = b == value
        if at.any():
            at = np.broadcast_to(at, r.shape)
            r[at] = exact(np.broadcast_to(a, r.shape)[at])
    return r


def _zero_power_base(x0: Variable, x1: Variable) -> Variable:
    """x0, with 1 where a = 0 and b = 0: there 0^0 is 1 and d/da is 0 (b * a^(b-1) would be
    0 * inf); elsewhere every higher and mixed derivative is the formula's."""
    a, b = x0.data, x1.data
    # Test `a` only where some b is 0: a full pass over a vector saved in the usual case.
    if _all(b) or not _any((b == 0) & (a == 0)):
        return x0
    return Select()(And()(Equal()(x0, 0.0), Equal()(x1, 0.0)), 1.0, x0)


def _zero_base(x0: Variable, x1: Variable) -> Variable:
    """x0, with 1 where a = 0 and b >= 0: 0^b is constant there, so d/db is 0 (a^b * log(a)
    would be 0 * -inf)."""
    if not _any((x0.data == 0) & (x1.data >= 0)):
        return x0
    return Select()(And()(Equal()(x0, 0.0), GreaterEqual()(x1, 0.0)), 1.0, x0)


@operator("^")
class Pow(Function):
    __slots__ = ()
    arity = 2
    name = "pow"
    derivative = "d/da = b * a^(b-1);  d/db = a^b * log(a)"
    convention = (
        "the same as a^b. A negative a only with an integer b: (-2)^3 is -8 with d/da = 12 "
        "(at every order), and d/db is nan with a warning; 0^0 is 1; at a = 0 only, d/da is 0 "
        "where b = 0 and d/db is 0 where b >= 0 (x^0 has derivative 0 even at x = 0)"
    )

    def forward(self, x0, x1):
        # x^1 is x exactly; Pow's own rule asks for it (a^(b - 1)) whenever b is 2.
        if getattr(x1, "shape", None) == () and x1 == 1.0:
            return x0
        # Not np.power: see power().
        return power(x0, x1)

    def backward(self, gy):
        # Conventions where the formulas meet 0 * inf, at a = 0 only: see _zero_power_base
        # and _zero_base.
        x0, x1 = self.inputs
        a, b = x0.data, x1.data
        gx0 = gx1 = None
        if x0.requires_grad and (x1.requires_grad or _any(b)):
            base = _zero_power_base(x0, x1)
            factor, power_ = gy * x1, base ** (x1 - 1.0)
            gx0 = factor * power_
            # At a tiny a, a^(b-1) overflows though b * a^(b-1) need not (and its derivatives
            # are then wrong too): there, and only there, the product is taken as a whole.
            lost = _lost(a, b, gy.data, factor.data, power_.data)
            if _any(lost):
                gx0 = _rescue(
                    lost,
                    lambda g, a, b: g * b * a ** (b - 1.0),
                    lambda g, a, b: _scaled_pow((g, b), a, b - 1.0),
                    (gy, base, x1),
                )
        if x1.requires_grad:
            # For a < 0 the real a^b exists only at integer b: d/db is nan there, as log(a) is.
            base = _zero_base(x0, x1)
            y = self.outputs[0]()
            factor = gy * y
            gx1 = factor * Log()(base)
            # a^b overflows where a is near 1 and b large, though a^b * log(a) need not.
            lost = _lost(a, b, gy.data, factor.data, y.data, log_rule=True)
            if _all(lost):
                gx1 = _scaled_pow((gy, Log()(base)), base, x1, y.data)
            elif _any(lost):  # a^b anew for the plain part: y itself would tie in Pow's rule
                gx1 = _rescue(
                    lost,
                    lambda g, a, b, base: g * a**b * Log()(base),
                    lambda g, a, b, base: _scaled_pow((g, Log()(base)), base, b),
                    (gy, x0, x1, base),
                )
        return gx0, gx1


_TINY = np.finfo(np.float64).tiny  # the smallest normal float64
_HUGE = np.finfo(np.float64).max


def _normal(x) -> bool:
    """Whether every element of x is a normal float64 (finite, not 0 or subnormal)."""
    if type(x) is np.float64:  # a point: no array passes
        return _TINY <= abs(x) <= _HUGE
    try:
        lo, hi = x.min(), x.max()
    except AttributeError:  # a Python number
        lo = hi = x
    if not -_HUGE <= lo <= hi <= _HUGE:  # an inf or a nan
        return False
    if lo > 0 or hi < 0:  # one sign, the usual case: no temporary array
        return min(-hi, lo) >= _TINY if hi < 0 else lo >= _TINY
    return bool(np.min(np.abs(x)) >= _TINY)


def _lost(a, b, g, factor, power_, log_rule=False):
    """Where factor * power_, the plain g * b * a^p (or g * a^b * log a with `log_rule`),
    loses what the whole product keeps: the power is inf, 0 or subnormal, or the factor
    overflowed, at a finite g, a != 0 and b, and a real power (a > 0 for the log). False if
    nowhere. (A product of a finite factor and a normal power is as good as the whole one.)
    Poles, non-real powers and non-finite inputs are left as they come."""
    finite = math.isfinite(factor) if type(factor) is np.float64 else _all(np.isfinite(factor))
    if finite and _normal(power_):
        return False
    size = np.abs(power_)
    lost = (size < _TINY) | ~(size <= _HUGE) | ~np.isfinite(factor)
    with np.errstate(invalid="ignore"):
        lost &= np.isfinite(g) & np.isfinite(a) & np.isfinite(b) & (a != 0)
        return lost & (a > 0) if log_rule else lost & ((a > 0) | (b == np.floor(b)))


def _rescue(lost, plain, whole, inputs):
    """plain(*inputs), but whole(*inputs) at the elements `lost` (a mask).

    Each branch sees its own points and a constant 1.0 at the others, so the unused branch's
    inf or nan reaches no value or derivative of a point, and its contributions there are
    -0.0, which leaves any sum as it is (signed zeros included): a point has the same value
    and first derivatives whatever vector it is in. (Higher ones may differ in the last bit,
    the backward pass adding a point's terms in another order in the larger graph.)
    """
    if _all(lost):
        return whole(*inputs)
    kept = plain(*[Fill(lost, 1.0)(v) for v in inputs])
    rescued = whole(*[Fill(~lost, 1.0)(v) for v in inputs])
    return Fill(lost, -0.0)(kept) + Fill(~lost, -0.0)(rescued)  # -0.0 + v is v exactly


class Fill(Function):
    """x, with the constant `value` where `mask` holds; derivative -0.0 there (see _rescue)."""

    __slots__ = ("mask", "value")

    def __init__(self, mask, value):
        self.mask, self.value = mask, value

    def forward(self, x):
        return np.where(self.mask, self.value, x)

    def backward(self, gy):
        return Fill(self.mask, -0.0)(gy)


class ScaledPow(Function):
    """f1 * ... * fk * a^p (inputs f1, ..., fk, a, p), finite wherever the product is though
    a factor or the power alone may overflow or underflow: Pow's derivatives where its plain
    formulas lose them. The derivatives of a ScaledPow are ScaledPows again, each a whole
    product, never one that overflowed times a small factor.

    `power` is a^p when the caller has it already (Pow's own output), to save computing it.
    """

    __slots__ = ("power",)

    def __init__(self, power=None):
        self.power = power

    def forward(self, *xs):
        *factors, a, p = xs
        # The factors first, then the power, as Pow's rule multiplies b * a^(b-1).
        c = factors[0]
        for f in factors[1:]:
            c = c * f
        ap = power(a, p) if self.power is None else self.power
        if _normal(c) and _normal(ap):  # then c * ap is as good as a product gets
            return c * ap
        return _rescale(c, ap, factors, a, p)

    def backward(self, gz):
        *factors, a, p = self.inputs
        gxs = [
            _scaled_pow((gz, *factors[:i], *factors[i + 1 :]), a, p) if f.requires_grad else None
            for i, f in enumerate(factors)
        ]
        ga = gp = None
        if a.requires_grad or p.requires_grad:
            ga, gp = _scaled_rule((gz, *factors), a, p)
        return (*gxs, ga, gp)


def _scaled_rule(factors: tuple, x0: Variable, x1: Variable):
    """The derivatives of f1 * ... * fk * a^b by a = x0 and by b = x1 (None where not
    needed): f1 ... fk * b * a^(b-1) and f1 ... fk * log(a) * a^b, each a ScaledPow, with
    Pow's conventions at a = 0."""
    gx0 = gx1 = None
    if x0.requires_grad and (x1.requires_grad or _any(x1.data)):
        base = _zero_power_base(x0, x1)
        gx0 = _scaled_pow(factors + (x1,), base, x1 - 1.0)
    if x1.requires_grad:
        base = _zero_base(x0, x1)
        gx1 = _scaled_pow(factors + (Log()(base),), base, x1)
    return gx0, gx1


def _scaled_pow(factors: tuple, a: Variable, p: Variable, power=None) -> Variable:
    """ScaledPow of these factors, without the seed gradients (all ones, constant) among them
    where a or p has their shape anyway: they would only lengthen every later product."""
    shapes = (a.shape, p.shape)
    kept = tuple(f for f in factors if not (is_ones(f.data) and f.shape in shapes))
    if not kept:
        kept = (Variable(ONE, requires_grad=False),)
    return ScaledPow(power)(*kept, a, p)


def _rescale(c, ap, factors, a, p):
    """c * ap, the product of the factors times a^p, where c or ap is not a normal number.

    With finite factors and p, and a != 0 (a < 0 only with a whole p), a^p is a finite real.
    The product is then taken as mantissas and exponents (frexp), with a^p as h^n for
    h = |a|^(p/n), n the first of 1, 2, 4, 8 where h is a normal number: nothing overflows or
    underflows before ldexp scales the end result. Elsewhere (poles a = 0, p < 0, non-real
    powers, inf or nan inputs) the product is c * ap.
    """
    *factors, c, ap, a, p = np.broadcast_arrays(*factors, c, ap, a, p)
    z = np.array(c * ap)
    whole = p == np.floor(p)
    sc, sa = np.abs(c), np.abs(ap)
    redo = ~((sc >= _TINY) & (sc <= _HUGE) & (sa >= _TINY) & (sa <= _HUGE))
    for f in (*factors, a, p):
        redo &= np.isfinite(f)
    redo &= (a != 0) & (whole | (a > 0))
    if not _any(redo):
        return z[()]
    a, p, whole = a[redo], p[redo], whole[redo]
    mantissa, exponent = np.ones(a.shape), np.zeros(a.shape, dtype=np.int64)
    for f in factors:
        m, e = np.frexp(f[redo])
        mantissa, e2 = np.frexp(mantissa * m)
        exponent += e + e2
    # The sign is the factors' (in the mantissa), flipped where a < 0 and p is odd.
    mantissa[(a < 0) & whole & (np.fmod(p, 2.0) != 0)] *= -1.0
    a = np.abs(a)
    out = np.zeros(a.shape)  # where a factor is 0: 0 times the finite a^p
    todo = np.flatnonzero(mantissa)
    for n in (1, 2, 4, 8):
        h = power(a[todo], p[todo] / n)
        # h^n beyond 2^(+-8000) is inf or 0 whatever the factors: the last round takes all.
        fits = (h >= _TINY) & (h <= _HUGE) if n < 8 else np.full(h.shape, True)
        m, e = np.frexp(h[fits])
        for _ in range(n.bit_length() - 1):  # m^n by squaring: no pow, no SIMD question
            m = m * m
        at = todo[fits]
        scale = np.clip(exponent[at] + n * e, -(2**20), 2**20).astype(np.int32)
        out[at] = np.ldexp(mantissa[at] * m, scale)
        todo = todo[~fits]
        if not todo.size:
            break
    z[redo] = out
    return z[()]
