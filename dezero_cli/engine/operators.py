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
    parameters = ("c", "a", "b")
    branching = True  # the compiler marks its second and third arguments as branches
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
