"""More of the rule table: inverse trigonometric and hyperbolic functions, logarithms to other
bases, log1p and expm1, the real cube root and hypot.

Each backward rule is written with registered functions, so that it can be differentiated
again, and arranged so that it neither overflows nor cancels where the derivative itself is a
normal number: 1 - x^2 as (1 - x)(1 + x), sqrt(x^2 + 1) as hypot(x, 1), x^2 + y^2 through
hypot(x, y).
"""

from __future__ import annotations

import numpy as np

from .core import Function
from .functions import Exp, Sqrt, register
from .operators import Equal, Select

LN2 = float(np.log(2.0))
LN10 = float(np.log(10.0))


@register
class Asin(Function):
    __slots__ = ()
    name = "asin"
    derivative = "1 / sqrt(1 - x^2)"
    convention = (
        "asin(1) is pi/2 and asin(-1) is -pi/2, with derivative inf (a warning); nan for |x| > 1"
    )

    def forward(self, x):
        return np.arcsin(x)

    def backward(self, gy):
        x = self.inputs[0]
        # (1 - x)(1 + x), not 1 - x^2: exact factors near |x| = 1, where the derivative grows.
        return gy / Sqrt()((1.0 - x) * (1.0 + x))


@register
class Acos(Function):
    __slots__ = ()
    name = "acos"
    derivative = "-1 / sqrt(1 - x^2)"
    convention = (
        "acos(1) is 0 and acos(-1) is pi, with derivative -inf (a warning); nan for |x| > 1"
    )

    def forward(self, x):
        return np.arccos(x)

    def backward(self, gy):
        x = self.inputs[0]
        return gy / -Sqrt()((1.0 - x) * (1.0 + x))


@register
class Atan(Function):
    __slots__ = ()
    name = "atan"
    derivative = "1 / (1 + x^2)"

    def forward(self, x):
        return np.arctan(x)

    def backward(self, gy):
        x = self.inputs[0]
        return gy / (1.0 + x * x)


@register
class Atan2(Function):
    __slots__ = ()
    name = "atan2"
    arity = 2
    parameters = ("y", "x")
    derivative = "d/dy = x / (x^2 + y^2);  d/dx = -y / (x^2 + y^2)"
    convention = (
        "the angle of the point (x, y), in [-pi, pi], as C's atan2: atan2(0, 0) is 0 (pi at "
        "x = -0.0, and -0 or -pi at y = -0.0); the derivatives at (0, 0) are nan, with a "
        "warning, as they have no limit there; computed as x / hypot(x, y)^2, so finite for "
        "huge and tiny arguments"
    )

    def forward(self, y, x):
        return np.arctan2(y, x)

    def backward(self, gz):
        y, x = self.inputs
        r = Hypot()(x, y)  # x^2 + y^2 would overflow beyond 1e154 and underflow below 1e-154
        gy = gz * (x / r / r) if y.requires_grad else None
        gx = gz * (-y / r / r) if x.requires_grad else None
        return gy, gx


@register
class Asinh(Function):
    __slots__ = ()
    name = "asinh"
    derivative = "1 / sqrt(x^2 + 1)"
    convention = "derivative computed as 1 / hypot(x, 1), without overflow for any x"

    def forward(self, x):
        return np.arcsinh(x)

    def backward(self, gy):
        return gy / Hypot()(self.inputs[0], 1.0)


@register
class Acosh(Function):
    __slots__ = ()
    name = "acosh"
    derivative = "1 / sqrt(x^2 - 1)"
    convention = (
        "acosh(1) is 0 with derivative inf (a warning); nan for x < 1; the derivative is "
        "computed as 1 / (sqrt(x - 1) * sqrt(x + 1)), without overflow for any x"
    )

    def forward(self, x):
        return np.arccosh(x)

    def backward(self, gy):
        x = self.inputs[0]
        return gy / (Sqrt()(x - 1.0) * Sqrt()(x + 1.0))


@register
class Atanh(Function):
    __slots__ = ()
    name = "atanh"
    derivative = "1 / (1 - x^2)"
    convention = "atanh(1) is inf and atanh(-1) is -inf (poles, with a warning); nan for |x| > 1"

    def forward(self, x):
        return np.arctanh(x)

    def backward(self, gy):
        x = self.inputs[0]
        return gy / ((1.0 - x) * (1.0 + x))


@register
class Log2(Function):
    __slots__ = ()
    name = "log2"
    derivative = "1 / (x * log(2))"
    convention = "log2(0) is -inf with derivative inf; nan for x < 0 (warning)"

    def forward(self, x):
        return np.log2(x)

    def backward(self, gy):
        return gy / (self.inputs[0] * LN2)


@register
class Log10(Function):
    __slots__ = ()
    name = "log10"
    derivative = "1 / (x * log(10))"
    convention = "log10(0) is -inf with derivative inf; nan for x < 0 (warning)"

    def forward(self, x):
        return np.log10(x)

    def backward(self, gy):
        return gy / (self.inputs[0] * LN10)


@register
class Log1p(Function):
    __slots__ = ()
    name = "log1p"
    derivative = "1 / (1 + x)"
    convention = (
        "log(1 + x), to full precision for tiny x; log1p(-1) is -inf with derivative inf; "
        "nan for x < -1 (warning)"
    )

    def forward(self, x):
        return np.log1p(x)

    def backward(self, gy):
        return gy / (1.0 + self.inputs[0])


@register
class Expm1(Function):
    __slots__ = ()
    name = "expm1"
    derivative = "exp(x)"
    convention = (
        "exp(x) - 1, to full precision for tiny x; overflows to inf above x = 709.78, "
        "with a warning"
    )

    def forward(self, x):
        return np.expm1(x)

    def backward(self, gy):
        return gy * Exp()(self.inputs[0])


@register
class Cbrt(Function):
    __slots__ = ()
    name = "cbrt"
    derivative = "1 / (3 * cbrt(x)^2)"
    convention = (
        "the real cube root, also for x < 0 (cbrt(-8) is -2), as the C library's: within an "
        "ulp (cbrt(27) may be 3.0000000000000004); cbrt(0) is 0 with derivative inf (a "
        "warning), also at -0.0"
    )

    def forward(self, x):
        return np.cbrt(x)

    def backward(self, gy):
        y = self.outputs[0]()
        return gy / (3.0 * (y * y))


@register
class Hypot(Function):
    __slots__ = ()
    name = "hypot"
    arity = 2
    derivative = "d/da = a / hypot(a, b);  d/db = b / hypot(a, b)"
    convention = (
        "sqrt(a^2 + b^2) without overflow or underflow; at a = b = 0 the derivatives are 0, "
        "at every order, as abs's are at 0"
    )

    def forward(self, a, b):
        return np.hypot(a, b)

    def backward(self, gy):
        a, b = self.inputs
        r = self.outputs[0]()
        if np.any(r.data == 0):
            # Only at a = b = 0: there 0 / 1, a constant 0 at every order, as abs's sign(x).
            origin = Equal()(r, 0.0)
            a, b, r = Select()(origin, 0.0, a), Select()(origin, 0.0, b), Select()(origin, 1.0, r)
        ga = gy * (a / r) if self.inputs[0].requires_grad else None
        gb = gy * (b / r) if self.inputs[1].requires_grad else None
        return ga, gb
