"""DeZero's define-by-run engine: Variable, Function, the backward loop, and the arithmetic.

The arithmetic is what Variable's operators call (`x ** 2` as in the textbook): + - * / and
unary minus, and power, whose rule needs `Log` and the mask `Where`, so those two are here as
well. Every other function belongs to the rule table (functions.py), which also registers
`Pow` and `Log` under their names.
"""

from __future__ import annotations

import contextlib
import heapq
import weakref
from contextvars import ContextVar

import numpy as np

from ..limits import node_budget, spend_nodes

_enable_backprop: ContextVar[bool] = ContextVar("enable_backprop", default=True)
# Leading axes that hold independent rows (batch mode): reductions never sum across them.
_batch_ndim: ContextVar[int] = ContextVar("batch_ndim", default=0)
_SWITCHES = {"enable_backprop": _enable_backprop, "batch_ndim": _batch_ndim}


class _Config:
    """Switches read while a graph is being built, one value per context: two threads (or
    tasks) that build graphs at once never see each other's settings."""

    __slots__ = ()

    @property
    def enable_backprop(self) -> bool:
        return _enable_backprop.get()

    @property
    def batch_ndim(self) -> int:
        return _batch_ndim.get()


Config = _Config()


@contextlib.contextmanager
def using_config(name: str, value):
    """Set one of Config's switches for the body of the `with`, in this context only."""
    switch = _SWITCHES[name]
    token = switch.set(value)
    try:
        yield
    finally:
        switch.reset(token)


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
        try:
            return self.data.shape  # ndarray or numpy scalar: the common case, kept quick
        except AttributeError:
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
        if self.creator is None:
            if self.grad is None:
                self.grad = Variable(np.ones_like(self.data), requires_grad=False)
            return
        if self.grad is None:
            # All ones without allocating or filling an array: Mul knows to skip it.
            self.grad = Variable(np.broadcast_to(ONE, self.shape), requires_grad=False)
        # Functions waiting in `funcs`, latest generation first. A popped function is never
        # added again (everything that could add it has a later generation and came out
        # before it), so `waiting` stays as small as the heap instead of growing with the graph.
        funcs: list = [(-self.creator.generation, 0, self.creator)]
        waiting = {self.creator}
        count = 0
        push, pop = heapq.heappush, heapq.heappop
        with using_config("enable_backprop", create_graph):
            while funcs:
                f = pop(funcs)[2]
                waiting.discard(f)
                outputs = f.outputs
                if len(outputs) == 1:
                    gxs = f.backward(outputs[0]().grad)
                else:
                    gxs = f.backward(*[y().grad for y in outputs])
                if type(gxs) is not tuple:
                    gxs = (gxs,)
                for x, gx in zip(f.inputs, gxs):
                    if gx is None or not x.requires_grad:
                        continue
                    if gx.shape != x.shape:
                        gx = fit_shape(gx, x.shape)
                    x.grad = gx if x.grad is None else x.grad + gx
                    creator = x.creator
                    if creator is not None and creator not in waiting:
                        waiting.add(creator)
                        count += 1
                        push(funcs, (-creator.generation, count, creator))
                if not retain_grad:
                    for y in outputs:
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


# The seed gradient's only element, read-only: np.broadcast_to views of it are all ones.
ONE = np.ones(())
ONE.flags.writeable = False


def is_ones(a) -> bool:
    """Whether `a` is a view of ONE, that is all ones, known without reading it."""
    return getattr(a, "base", None) is ONE


def as_variable(obj) -> Variable:
    """Wrap a number or array as a constant; a Variable passes through."""
    if isinstance(obj, Variable):
        return obj
    return Variable(np.asarray(obj, dtype=np.float64), requires_grad=False)


class Function:
    """An operation in the graph. Subclasses give `forward` on arrays, `backward` on Variables."""

    __slots__ = ("inputs", "outputs", "generation")
    arity = 1
    name = ""  # how the expression language writes it

    def __call__(self, *inputs) -> Variable:
        if len(inputs) == 1:  # the common case, without the generic machinery
            x = inputs[0]
            if type(x) is not Variable:
                x = as_variable(x)
                inputs = (x,)
            ys = self.forward(x.data)
            record = x.requires_grad and _enable_backprop.get()
            generation = x.generation
        elif len(inputs) == 2:  # binary operators: the same, by hand
            x0, x1 = inputs
            if type(x0) is not Variable or type(x1) is not Variable:
                x0, x1 = inputs = (as_variable(x0), as_variable(x1))
            ys = self.forward(x0.data, x1.data)
            record = (x0.requires_grad or x1.requires_grad) and _enable_backprop.get()
            generation = x0.generation if x0.generation > x1.generation else x1.generation
        else:
            inputs = tuple(map(as_variable, inputs))
            ys = self.forward(*[x.data for x in inputs])
            record = _enable_backprop.get() and any(x.requires_grad for x in inputs)
            generation = max(x.generation for x in inputs) if record else 0
        if record:
            budget = node_budget.get()
            if budget is not None:
                spend_nodes(budget, ys)
        if type(ys) is not tuple:
            output = Variable(ys, requires_grad=record)
            if record:
                self.generation = generation
                output.creator = self
                output.generation = generation + 1
                self.inputs = inputs
                self.outputs = (weakref.ref(output),)
            return output
        if not record:
            outputs = [Variable(y, requires_grad=False) for y in ys]
            return outputs[0] if len(outputs) == 1 else outputs
        self.generation = generation
        outputs = []
        for y in ys:
            output = Variable(y)
            output.creator = self
            output.generation = generation + 1
            outputs.append(output)
        self.inputs = inputs
        self.outputs = tuple(weakref.ref(output) for output in outputs)
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
            base = Where(zero_power)(1.0, x0) if np.any(zero_power) else x0
            gx0 = gy * x1 * base ** (x1 - 1.0)
        if x1.requires_grad:
            # For a < 0 the real a^b exists only at integer b: d/db is nan there, as log(a) is.
            zero_base = (a == 0) & (b >= 0)
            base = Where(zero_base)(1.0, x0) if np.any(zero_base) else x0
            gx1 = gy * self.outputs[0]() * Log()(base)
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
