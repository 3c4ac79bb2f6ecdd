"""DeZero's define-by-run engine: Variable, Function, the backward loop, and the arithmetic."""

from __future__ import annotations

import contextlib
import heapq
import weakref

import numpy as np

from .errors import GraphTooLarge


class Config:
    """Switches read while a graph is being built."""

    enable_backprop = True
    # Leading axes that hold independent rows (batch mode): reductions never sum across them.
    batch_ndim = 0
    # [nodes left, limit] while a graph-size limit is in force (see limits.py), else None.
    # A node whose value holds n elements counts 1 + n // 64, so the limit bounds memory.
    node_budget: list[int] | None = None


@contextlib.contextmanager
def using_config(name: str, value):
    old = getattr(Config, name)
    setattr(Config, name, value)
    try:
        yield
    finally:
        setattr(Config, name, old)


def no_grad():
    """Evaluate without recording a graph."""
    return using_config("enable_backprop", False)


class Variable:
    """A value in the graph: numpy data, its gradient, and the Function that created it."""

    __slots__ = ("data", "name", "grad", "creator", "generation", "requires_grad", "__weakref__")
    __array_priority__ = 200  # ndarray <op> Variable defers to Variable's reflected operators

    def __init__(self, data, name: str | None = None, requires_grad: bool = True):
        self.data = data
        self.name = name
        self.grad: Variable | None = None
        self.creator: Function | None = None
        self.generation = 0
        self.requires_grad = requires_grad

    @property
    def shape(self) -> tuple[int, ...]:
        return np.shape(self.data)

    def __repr__(self) -> str:
        return f"Variable({self.data!r})" if self.name is None else f"Variable({self.name})"

    def cleargrad(self) -> None:
        self.grad = None

    def backward(self, retain_grad: bool = False, create_graph: bool = False) -> None:
        """Fill in `grad` of every input this variable depends on.

        Functions are visited latest generation first, so a variable used several times has
        received every contribution before its creator passes the sum further back. With
        `create_graph` the backward pass is itself recorded and can be differentiated again.
        """
        if self.grad is None:
            self.grad = Variable(np.ones_like(self.data), requires_grad=False)
        if self.creator is None:
            return
        funcs: list = []
        seen: set = set()
        count = 0

        def add_func(f: Function) -> None:
            nonlocal count
            if f not in seen:
                seen.add(f)
                count += 1
                heapq.heappush(funcs, (-f.generation, count, f))

        add_func(self.creator)
        with using_config("enable_backprop", create_graph):
            while funcs:
                f = heapq.heappop(funcs)[2]
                gys = [y().grad for y in f.outputs]
                gxs = f.backward(*gys)
                if not isinstance(gxs, tuple):
                    gxs = (gxs,)
                for x, gx in zip(f.inputs, gxs):
                    if gx is None or not x.requires_grad:
                        continue
                    if gx.shape != x.shape:
                        gx = fit_shape(gx, x.shape)
                    x.grad = gx if x.grad is None else x.grad + gx
                    if x.creator is not None:
                        add_func(x.creator)
                if not retain_grad:
                    for y in f.outputs:
                        y().grad = None

    # Operators, so that backward rules read like the formulas they implement.
    def __add__(self, other):
        return Add()(self, other)

    def __radd__(self, other):
        return Add()(other, self)

    def __sub__(self, other):
        return Sub()(self, other)

    def __rsub__(self, other):
        return Sub()(other, self)

    def __mul__(self, other):
        return Mul()(self, other)

    def __rmul__(self, other):
        return Mul()(other, self)

    def __truediv__(self, other):
        return Div()(self, other)

    def __rtruediv__(self, other):
        return Div()(other, self)

    def __neg__(self):
        return Neg()(self)

    def __pow__(self, other):
        return Pow()(self, other)

    def __rpow__(self, other):
        return Pow()(other, self)


def as_variable(obj) -> Variable:
    """Wrap a number or array as a constant; a Variable passes through."""
    if isinstance(obj, Variable):
        return obj
    return Variable(np.asarray(obj, dtype=np.float64), requires_grad=False)


class Function:
    """An operation in the graph. Subclasses give `forward` on arrays, `backward` on Variables."""

    __slots__ = ("inputs", "outputs", "generation")
    arity = 1
    name = ""  # how the expression language writes it; set by the registry

    def __call__(self, *inputs) -> Variable:
        inputs = [as_variable(x) for x in inputs]
        ys = self.forward(*[x.data for x in inputs])
        if not isinstance(ys, tuple):
            ys = (ys,)
        if Config.enable_backprop and any(x.requires_grad for x in inputs):
            budget = Config.node_budget
            if budget is not None:
                # What a node costs in memory: its objects, about as much as 64 float64 values.
                budget[0] -= 1 + getattr(ys[0], "size", 1) // 64
                if budget[0] < 0:
                    raise GraphTooLarge(budget[1])
            self.generation = max(x.generation for x in inputs)
            outputs = []
            for y in ys:
                output = Variable(y)
                output.creator = self
                output.generation = self.generation + 1
                outputs.append(output)
            self.inputs = inputs
            self.outputs = [weakref.ref(output) for output in outputs]
        else:
            outputs = [Variable(y, requires_grad=False) for y in ys]
        return outputs[0] if len(outputs) == 1 else outputs

    def forward(self, *xs):
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def backward(self, *gys):
        raise NotImplementedError(f"no derivative rule for {type(self).__name__}")


class Add(Function):
    __slots__ = ()
    arity = 2
    name = "+"

    def forward(self, x0, x1):
        return x0 + x1

    def backward(self, gy):
        return gy, gy


class Sub(Function):
    __slots__ = ()
    arity = 2
    name = "-"

    def forward(self, x0, x1):
        return x0 - x1

    def backward(self, gy):
        return gy, (-gy if self.inputs[1].requires_grad else None)


class Neg(Function):
    __slots__ = ()
    name = "unary -"

    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


class Mul(Function):
    __slots__ = ()
    arity = 2
    name = "*"

    def forward(self, x0, x1):
        return x0 * x1

    def backward(self, gy):
        x0, x1 = self.inputs
        gx0 = gy * x1 if x0.requires_grad else None
        gx1 = gy * x0 if x1.requires_grad else None
        return gx0, gx1


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


class Pow(Function):
    __slots__ = ()
    arity = 2
    name = "^"

    def forward(self, x0, x1):
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
            zero_power = (b == 0) & (a == 0)
            base = Where(zero_power)(1.0, x0) if np.any(zero_power) else x0
            gx0 = gy * x1 * base ** (x1 - 1.0)
        if x1.requires_grad:
            # For a < 0 the real a^b exists only at integer b: d/db is nan there, as log(a) is.
            zero_base = (a == 0) & (b >= 0)
            base = Where(zero_base)(1.0, x0) if np.any(zero_base) else x0
            gx1 = gy * self.outputs[0]() * log(base)
        return gx0, gx1


class Where(Function):
    """x0 where `mask` holds, x1 elsewhere; the mask is a constant of the graph."""

    __slots__ = ("mask",)
    arity = 2

    def __init__(self, mask):
        self.mask = mask

    def forward(self, x0, x1):
        return np.where(self.mask, x0, x1)

    def backward(self, gy):
        x0, x1 = self.inputs
        gx0 = Where(self.mask)(gy, 0.0) if x0.requires_grad else None
        gx1 = Where(self.mask)(0.0, gy) if x1.requires_grad else None
        return gx0, gx1


class Log(Function):
    """Natural logarithm: here rather than in functions.py because Pow's rule needs it."""

    __slots__ = ()
    name = "log"
    derivative = "1 / x"

    def forward(self, x):
        return np.log(x)

    def backward(self, gy):
        return gy / self.inputs[0]


def log(x) -> Variable:
    return Log()(x)


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


def sum_to(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum `x` over the axes that broadcasting added to an array of `shape`."""
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1)
    y = x.sum(axis=axes, keepdims=True)
    return y.reshape(shape) if lead else y


def fit_shape(gx: Variable, shape: tuple[int, ...]) -> Variable:
    """Bring a gradient to its input's shape: sum what forward broadcast, broadcast a seed."""
    if len(gx.shape) > len(shape) or any(g > s for g, s in zip(gx.shape[::-1], shape[::-1])):
        gx = SumTo(shape)(gx)
    if gx.shape != shape:
        gx = BroadcastTo(shape)(gx)
    return gx
