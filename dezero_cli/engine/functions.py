"""The rule table: one class per function of the expression language, registered by name.

Adding a function is one class here: the grammar has a generic call rule, the CLI lists
functions from `FUNCTIONS`, and the tests are generated from it. Each class carries its own
metadata (name, aliases, arity, derivative, convention). Backward rules are written with
Variable operations so that they can be differentiated again for higher orders.
"""

from __future__ import annotations

import numpy as np

from .core import Config, Function, Variable
from .operators import BroadcastTo, Log, Pow, Select

FUNCTIONS: dict[str, type[Function]] = {}


def register(cls: type[Function]) -> type[Function]:
    """Make a Function class callable from expressions as `cls.name` and each of its aliases."""
    for name in (cls.name, *getattr(cls, "aliases", ())):
        FUNCTIONS[name] = cls
    return cls


register(Pow)  # the arithmetic operator `^`, also callable as pow(a, b)
register(Log)
register(Select)  # where(c, a, b): the language's conditional, built into the engine


@register
class Square(Function):
    __slots__ = ()
    name = "square"
    derivative = "2 * x"

    def forward(self, x):
        return x * x

    def backward(self, gy):
        x = self.inputs[0]
        return gy * (2.0 * x)


@register
class Exp(Function):
    __slots__ = ()
    name = "exp"
    derivative = "exp(x)"
    convention = "overflows to inf above x = 709.78, with a warning; its derivative is inf too"

    def forward(self, x):
        return np.exp(x)

    def backward(self, gy):
        return gy * self.outputs[0]()


@register
class Sqrt(Function):
    __slots__ = ()
    name = "sqrt"
    derivative = "1 / (2 * sqrt(x))"
    convention = "sqrt(0) is 0 with derivative inf (also at -0.0); nan for x < 0"

    def forward(self, x):
        # + 0.0 turns sqrt(-0.0) = -0.0 into 0.0, so the derivative at 0 is +inf, not -inf.
        return np.sqrt(x) + 0.0

    def backward(self, gy):
        return gy / (2.0 * self.outputs[0]())


@register
class Sin(Function):
    __slots__ = ()
    name = "sin"
    derivative = "cos(x)"

    def forward(self, x):
        return np.sin(x)

    def backward(self, gy):
        return gy * Cos()(self.inputs[0])


@register
class Cos(Function):
    __slots__ = ()
    name = "cos"
    derivative = "-sin(x)"

    def forward(self, x):
        return np.cos(x)

    def backward(self, gy):
        return gy * -Sin()(self.inputs[0])


@register
class Tan(Function):
    __slots__ = ()
    name = "tan"
    derivative = "1 + tan(x)^2"

    def forward(self, x):
        return np.tan(x)

    def backward(self, gy):
        y = self.outputs[0]()
        return gy * (1.0 + y * y)


@register
class Tanh(Function):
    __slots__ = ()
    name = "tanh"
    derivative = "1 - tanh(x)^2 = sech(x)^2"
    convention = (
        "derivative computed as sech(x)^2, so accurate where tanh rounds to 1 or -1 "
        "(1 - tanh(x)^2 is 0 beyond |x| = 19.1)"
    )

    def forward(self, x):
        return np.tanh(x)

    def backward(self, gy):
        # 1 - y^2 cancels as tanh saturates (it is exactly 0 beyond |x| = 19.1).
        return gy * Sech2()(self.inputs[0])


class Sech2(Function):
    """sech(x)^2 = 1 / cosh(x)^2, tanh's derivative, to full relative precision for every x.

    One node instead of square(sech(x))'s two keeps tanh's higher-order graphs small; it is
    written `sech(x)^2` when a derivative is printed as a formula.
    """

    __slots__ = ()
    spelling = "sech(x)^2"

    def forward(self, x):
        # 4 / (e^|x| + e^-|x|)^2 rewritten in e^-2|x|, which never overflows.
        # In place on two fresh arrays: at a million points allocation costs as much as a pass.
        e = np.multiply(np.abs(x), -2.0, out=None)
        e = np.exp(e, out=e) if e.ndim else np.exp(e)
        d = e + 1.0
        d *= d
        e *= 4.0
        e /= d
        return e

    def backward(self, gy):
        return gy * (-2.0 * self.outputs[0]()) * Tanh()(self.inputs[0])


@register
class Sech(Function):
    __slots__ = ()
    name = "sech"
    derivative = "-sech(x) * tanh(x)"
    convention = (
        "1/cosh(x), computed without overflow to full relative precision wherever the value "
        "is a normal float64 (|x| < 708.4)"
    )

    def forward(self, x):
        # 2 e^-|x| / (1 + e^-2|x|): e^-|x| never overflows, and nothing cancels.
        e = np.exp(-np.abs(x))
        return 2.0 * e / (1.0 + e * e)

    def backward(self, gy):
        return gy * -(self.outputs[0]() * Tanh()(self.inputs[0]))


@register
class Sinh(Function):
    __slots__ = ()
    name = "sinh"
    derivative = "cosh(x)"
    convention = "overflows to inf or -inf beyond |x| = 710.48, with a warning"

    def forward(self, x):
        return np.sinh(x)

    def backward(self, gy):
        return gy * Cosh()(self.inputs[0])


@register
class Cosh(Function):
    __slots__ = ()
    name = "cosh"
    derivative = "sinh(x)"
    convention = "overflows to inf beyond |x| = 710.48, with a warning"

    def forward(self, x):
        return np.cosh(x)

    def backward(self, gy):
        return gy * Sinh()(self.inputs[0])


@register
class Sigmoid(Function):
    __slots__ = ()
    name = "sigmoid"
    derivative = "sigmoid(x) * (1 - sigmoid(x)) = sigmoid(x) * sigmoid(-x)"
    convention = (
        "1/(1+exp(-x)) without overflow for any x; the derivative keeps full precision "
        "for large |x|"
    )

    def forward(self, x):
        # exp of -|x| never overflows; each branch divides two well-scaled numbers.
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1.0, e) / (1.0 + e)

    def backward(self, gy):
        # 1 - y cancels for large x (y rounds to 1); sigmoid(-x) is the same number, accurate.
        y = self.outputs[0]()
        return gy * y * Sigmoid()(-self.inputs[0])


@register
class Abs(Function):
    __slots__ = ()
    name = "abs"
    derivative = "sign(x)"
    convention = "derivative 0 at x = 0 (and at -0.0)"

    def forward(self, x):
        return np.abs(x)

    def backward(self, gy):
        return gy * Sign()(self.inputs[0])


@register
class Sign(Function):
    __slots__ = ()
    name = "sign"
    derivative = "0"
    convention = "-1, 0 or 1; sign(0) is 0 (also at -0.0); derivative 0 everywhere, also at 0"

    def forward(self, x):
        # + 0.0: np.sign(-0.0) is -0.0, and sign(0) is 0 whichever zero it is.
        return np.sign(x) + 0.0

    def backward(self, gy):
        # Piecewise constant: the derivative is a constant 0, so nothing is recorded for it.
        return Variable(np.zeros_like(gy.data), requires_grad=False)


# Reductions. `Config.batch_ndim` leading axes are independent rows (batch mode): only the axes
# after them are reduced, and kept as length 1 so that `x - mean(x)` broadcasts back per row.
# With no batch axes the result is a scalar.


def _reduced_axes(ndim: int) -> tuple[tuple[int, ...], bool]:
    batch = min(Config.batch_ndim, ndim)
    return tuple(range(batch, ndim)), batch > 0


@register
class Sum(Function):
    __slots__ = ()
    name = "sum"
    elementwise = False
    derivative = "1 for each element"
    convention = "sums the elements (per row in batch mode)"

    def forward(self, x):
        axes, keepdims = _reduced_axes(np.ndim(x))
        return np.sum(x, axis=axes, keepdims=keepdims)

    def backward(self, gy):
        return BroadcastTo(self.inputs[0].shape)(gy)


@register
class Mean(Function):
    __slots__ = ()
    name = "mean"
    elementwise = False
    derivative = "1 / n for each of the n elements"
    convention = "mean of the elements (per row in batch mode)"

    def forward(self, x):
        axes, keepdims = _reduced_axes(np.ndim(x))
        return np.mean(x, axis=axes, keepdims=keepdims)

    def backward(self, gy):
        x = self.inputs[0]
        n = np.size(x.data) // max(np.size(gy.data), 1)  # elements averaged into each output
        return BroadcastTo(x.shape)(gy / float(n))


@register
class Dot(Function):
    __slots__ = ()
    name = "dot"
    arity = 2
    elementwise = False
    derivative = "d/da = b;  d/db = a"
    convention = "sum(a*b); vectors of equal length (a scalar broadcasts)"

    def forward(self, x0, x1):
        xy = x0 * x1
        axes, keepdims = _reduced_axes(np.ndim(xy))
        return np.sum(xy, axis=axes, keepdims=keepdims)

    def backward(self, gy):
        # gy keeps the reduced axes (or is a scalar), so it broadcasts against each input;
        # the backward loop sums the result back to the input's shape.
        x0, x1 = self.inputs
        gx0 = gy * x1 if x0.requires_grad else None
        gx1 = gy * x0 if x1.requires_grad else None
        return gx0, gx1
