"""More of the rule table: functions smooth only piece by piece, and softplus.

Where a derivative is not defined (a jump, a kink, a tie) each class says in `convention`
which value it gives there. Their derivatives are written with the comparison operators, so
that they are 0 and 1 at the same points at every order, and read as formulas.
"""

from __future__ import annotations

import functools

import numpy as np

from .core import Function, Variable
from .functions import Sigmoid, register
from .operators import Equal, Greater, Less, LessEqual


class Step(Function):
    """A piecewise constant function: derivative 0 everywhere, also at its jumps."""

    __slots__ = ()
    derivative = "0"

    def backward(self, gy):
        # A constant 0: nothing is recorded for it, at any order.
        return Variable(np.zeros_like(gy.data), requires_grad=False)


@register
class Floor(Step):
    __slots__ = ()
    name = "floor"
    convention = (
        "the largest integer <= x; derivative 0 everywhere, also at the jumps (the integers); "
        "never -0.0 (floor(-0.0) is 0)"
    )

    def forward(self, x):
        return np.floor(x) + 0.0  # -0.0 + 0.0 is 0.0


@register
class Ceil(Step):
    __slots__ = ()
    name = "ceil"
    convention = (
        "the smallest integer >= x; derivative 0 everywhere, also at the jumps (the integers); "
        "never -0.0 (ceil(-0.5) is 0)"
    )

    def forward(self, x):
        return np.ceil(x) + 0.0


@register
class Round(Step):
    __slots__ = ()
    name = "round"
    convention = (
        "to the nearest integer, a half to the even one (round(2.5) is 2, round(-0.5) is 0); "
        "derivative 0 everywhere, also at the jumps (the halves); never -0.0"
    )

    def forward(self, x):
        return np.rint(x) + 0.0


class Extremum(Function):
    """max or min of two or more arguments, as one Function: a tie among k arguments gives
    each 1/k of the derivative (pairwise nesting would give 1/4, 1/4, 1/2 for three)."""

    __slots__ = ()
    arity = (2, None)
    pick = staticmethod(np.maximum)

    def forward(self, *xs):
        # np.maximum and np.minimum propagate a nan (np.fmax would drop it).
        return functools.reduce(self.pick, xs)

    def backward(self, gy):
        y = self.outputs[0]()
        xs = self.inputs
        counts = sum((x.data == y.data).astype(np.float64) for x in xs)
        if np.all(counts == 1):  # no tie and no nan: the usual case, one comparison each
            return tuple(gy * Equal()(x, y) if x.requires_grad else None for x in xs)
        hits = [Equal()(x, y) for x in xs]
        share = gy / functools.reduce(lambda a, b: a + b, hits)  # 0 / 0, nan, where y is nan
        return tuple(share * hit if x.requires_grad else None for x, hit in zip(xs, hits))


@register
class Max(Extremum):
    __slots__ = ()
    name = "max"
    pick = staticmethod(np.maximum)
    derivative = "1 by the largest argument, 0 by the others"
    convention = (
        "two or more arguments (max(v) of one vector is an error: there is no reduction); a "
        "tie among k arguments gives each a derivative of 1/k (1/2 each at max(x, y) with "
        "x == y, as JAX and PyTorch); a nan argument gives nan, value and derivatives"
    )


@register
class Min(Extremum):
    __slots__ = ()
    name = "min"
    pick = staticmethod(np.minimum)
    derivative = "1 by the smallest argument, 0 by the others"
    convention = (
        "two or more arguments (min(v) of one vector is an error: there is no reduction); a "
        "tie among k arguments gives each a derivative of 1/k (1/2 each at min(x, y) with "
        "x == y, as JAX and PyTorch); a nan argument gives nan, value and derivatives"
    )


@register
class Clip(Function):
    __slots__ = ()
    name = "clip"
    arity = 3
    parameters = ("x", "lo", "hi")
    derivative = (
        "d/dx = 1 where lo <= x <= hi, else 0;  d/dlo = 1 where x < lo <= hi, else 0;  "
        "d/dhi = 1 where hi < x or hi < lo, else 0"
    )
    convention = (
        "min(max(x, lo), hi), as numpy.clip: hi wherever lo > hi; at a bound (x == lo or "
        "x == hi) the derivative by x is 1 and by the bound 0, as PyTorch's clamp; a nan "
        "argument gives a nan value"
    )

    def forward(self, x, lo, hi):
        return np.minimum(np.maximum(x, lo), hi)

    def backward(self, gy):
        x, lo, hi = self.inputs
        at_x = LessEqual()(x, hi)
        gx = gy * (LessEqual()(lo, x) * at_x) if x.requires_grad else None
        glo = gy * (Less()(x, lo) * LessEqual()(lo, hi)) if lo.requires_grad else None
        ghi = gy * (Less()(hi, x) + Less()(hi, lo) * at_x) if hi.requires_grad else None
        return gx, glo, ghi


@register
class Relu(Function):
    __slots__ = ()
    name = "relu"
    derivative = "1 where x > 0, else 0"
    convention = "max(x, 0); derivative 0 at x = 0"

    def forward(self, x):
        return np.maximum(x, 0.0)

    def backward(self, gy):
        return gy * Greater()(self.inputs[0], 0.0)


@register
class Softplus(Function):
    __slots__ = ()
    name = "softplus"
    derivative = "sigmoid(x)"
    convention = (
        "log(1 + exp(x)) without overflow for any x (softplus(1000) is 1000) and to full "
        "precision far below 0 (softplus(-40) is 4.248e-18)"
    )

    def forward(self, x):
        # max(x, 0) + log(1 + e^-|x|): e^-|x| never overflows, and log1p keeps it when tiny.
        return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))

    def backward(self, gy):
        return gy * Sigmoid()(self.inputs[0])
