"""The rule table's operators: arithmetic, comparisons, logic, `where`, and shapes.

These are the rules that Variable's operators and the backward loop call, through
`core.OPERATORS`, which this module fills; the named functions are in functions.py.
"""

from __future__ import annotations

import numpy as np

from .core import OPERATORS, Function, Variable, is_ones, sum_to


def operator(*names: str):
    """Make a class the rule the mechanism calls for each of `names`."""

    def add(cls):
        for name in names:
            OPERATORS[name] = cls
        return cls

    return add


@operator("+")
class Add(Function):
    __slots__ = ()
    arity = 2
    name = "+"

    def forward(self, x0, x1):
        return x0 + x1

    def backward(self, gy):
        return gy, gy


@operator("-")
class Sub(Function):
    __slots__ = ()
    arity = 2
    name = "-"

    def forward(self, x0, x1):
        return x0 - x1

    def backward(self, gy):
        return gy, (-gy if self.inputs[1].requires_grad else None)


@operator("neg")
class Neg(Function):
    __slots__ = ()
    name = "unary -"

    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


@operator("*")
class Mul(Function):
    __slots__ = ()
    arity = 2
    name = "*"

    def forward(self, x0, x1):
        # The seed gradient is all ones: multiplying by it would only copy the other factor.
        if is_ones(x0) and np.shape(x1) == x0.shape:
            return x1
        if is_ones(x1) and np.shape(x0) == x1.shape:
            return x0
        return x0 * x1

    def backward(self, gy):
        x0, x1 = self.inputs
        gx0 = gy * x1 if x0.requires_grad else None
        gx1 = gy * x0 if x1.requires_grad else None
        return gx0, gx1


@operator("/")
class Div(Function):
    __slots__ = ()
    arity = 2
    name = "/"

    def forward(self, x0, x1):
        return x0 / x1

    def backward(self, gy):
        x0, x1 = self.inputs
        gx0 = gy / x1
        gx1 = -gx0 * self.outputs[0]() if x1.requires_grad else None  # -gy * x0 / x1^2
        return (gx0 if x0.requires_grad else None), gx1


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
        # x^1 is x exactly; Pow's own rule asks for it (x0 ** (x1 - 1)) whenever x1 is 2.
        if getattr(x1, "shape", None) == () and x1 == 1.0:
            return x0
        # Not `x0**x1`: on numpy scalars that is C's pow, which differs from the power ufunc
        # in the last bit for ~5% of inputs, so a point alone and in a vector would disagree.
        return np.power(x0, x1)

    def backward(self, gy):
        # Conventions where the formulas meet 0 * inf, at a = 0 only: 0^0 = 1 and d/da = 0
        # there (b * a^(b-1) is 0 * inf); 0^b is constant for b > 0, so d/db = 0 where a = 0,
        # b >= 0 (a^b * log(a) is 0 * -inf). Each mask swaps in a constant base 1 at those
        # points alone, so elsewhere every higher and mixed derivative is the formula's.
        x0, x1 = self.inputs
        a, b = x0.data, x1.data
        gx0 = gx1 = None
        if x0.requires_grad and (x1.requires_grad or np.any(b)):
            # Test `a` only where some b is 0: a full pass over a vector saved in the usual case.
            zero_power = (b == 0) & (a == 0) if not np.all(b) else False
            if np.any(zero_power):
                base = Select()(And()(Equal()(x0, 0.0), Equal()(x1, 0.0)), 1.0, x0)
            else:
                base = x0
            gx0 = gy * x1 * base ** (x1 - 1.0)
        if x1.requires_grad:
            # For a < 0 the real a^b exists only at integer b: d/db is nan there, as log(a) is.
            zero_base = (a == 0) & (b >= 0)
            if np.any(zero_base):
                base = Select()(And()(Equal()(x0, 0.0), GreaterEqual()(x1, 0.0)), 1.0, x0)
            else:
                base = x0
            gx1 = gy * self.outputs[0]() * Log()(base)
        return gx0, gx1


class Log(Function):
    """Natural logarithm: here, beside the arithmetic, because the power rule needs it."""

    __slots__ = ()
    name = "log"
    aliases = ("ln",)
    derivative = "1 / x"
    convention = "natural logarithm; log(0) is -inf with derivative inf; nan for x < 0 (warning)"

    def forward(self, x):
        return np.log(x)

    def backward(self, gy):
        return gy / self.inputs[0]


# Comparisons and logic: 1.0 for true, 0.0 for false, derivative 0 (they are piecewise
# constant). Any nonzero number is true; nan is neither: a comparison with nan is false (as
# IEEE 754 says; != is true), and `and`, `or`, `not` and `where` give nan for a nan condition.


def truth(x) -> np.ndarray:
    """Where x is true: nonzero and not nan."""
    return (x != 0) & (x == x)


class Comparison(Function):
    __slots__ = ()
    arity = 2
    compare = staticmethod(np.less)

    def forward(self, x0, x1):
        return self.compare(x0, x1).astype(np.float64)

    def backward(self, gy):
        return None, None


class Less(Comparison):
    __slots__ = ()
    name = "<"
    compare = staticmethod(np.less)


class LessEqual(Comparison):
    __slots__ = ()
    name = "<="
    compare = staticmethod(np.less_equal)


class Greater(Comparison):
    __slots__ = ()
    name = ">"
    compare = staticmethod(np.greater)


class GreaterEqual(Comparison):
    __slots__ = ()
    name = ">="
    compare = staticmethod(np.greater_equal)


class Equal(Comparison):
    __slots__ = ()
    name = "=="
    compare = staticmethod(np.equal)


class NotEqual(Comparison):
    __slots__ = ()
    name = "!="
    compare = staticmethod(np.not_equal)


COMPARISONS = {cls.name: cls for cls in (Less, LessEqual, Greater, GreaterEqual, Equal, NotEqual)}


def _logic(value, *xs) -> np.ndarray:
    """A truth value as 1.0 or 0.0, and nan where any operand is nan."""
    nan = np.zeros(np.broadcast(*xs).shape, dtype=bool)
    for x in xs:
        nan = nan | (x != x)
    return np.where(nan, np.nan, value.astype(np.float64))


class And(Function):
    __slots__ = ()
    arity = 2
    name = "and"

    def forward(self, x0, x1):
        return _logic(truth(x0) & truth(x1), x0, x1)

    def backward(self, gy):
        return None, None


class Or(Function):
    __slots__ = ()
    arity = 2
    name = "or"

    def forward(self, x0, x1):
        return _logic(truth(x0) | truth(x1), x0, x1)

    def backward(self, gy):
        return None, None


class Not(Function):
    __slots__ = ()
    name = "not"

    def forward(self, x):
        return _logic(~truth(x), x)

    def backward(self, gy):
        return None


@operator("where")
class Select(Function):
    """where(c, a, b): a where c is true, b where it is false (both are evaluated)."""

    __slots__ = ()
    name = "where"
    arity = 3
    branches = True  # the compiler marks its second and third arguments as branches
    derivative = "d/da = 1 where c is true, else 0;  d/db = 1 where c is false, else 0"
    convention = (
        "both branches are evaluated, and each only matters where it is taken: a nan or inf "
        "in the branch not taken reaches neither the value nor any derivative nor a warning; "
        "c is true where nonzero; a nan c gives nan"
    )

    def forward(self, c, a, b):
        return np.where(c != c, np.nan, np.where(truth(c), a, b))

    def backward(self, gy):
        c, a, b = self.inputs
        gx1 = Select()(c, gy, 0.0) if a.requires_grad else None
        gx2 = Select()(c, 0.0, gy) if b.requires_grad else None
        return None, gx1, gx2


class SumTo(Function):
    """Sum a broadcast gradient back down to an input's shape."""

    __slots__ = ("shape",)

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        return sum_to(x, self.shape)

    def backward(self, gy):
        return BroadcastTo(self.inputs[0].shape)(gy)


class BroadcastTo(Function):
    __slots__ = ("shape",)

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        return np.broadcast_to(x, self.shape)

    def backward(self, gy):
        return SumTo(self.inputs[0].shape)(gy)


@operator("fit_shape")
def fit_shape(gx: Variable, shape: tuple[int, ...]) -> Variable:
    """Bring a gradient to its input's shape: sum what forward broadcast, broadcast a seed."""
    if len(gx.shape) > len(shape) or any(g > s for g, s in zip(gx.shape[::-1], shape[::-1])):
        gx = SumTo(shape)(gx)
    if gx.shape != shape:
        gx = BroadcastTo(shape)(gx)
    return gx
