"""DeZero's define-by-run engine: Variable, Function, the backward loop, and Config.

The mechanism knows no function: the rules are classes in operators.py (the language's
operators) and functions.py (its named functions), and what the mechanism calls by operator
(`x * y` in a backward rule, say) it finds in `OPERATORS`.
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
# Inside branches of `where(c, a, b)`: for each, its condition and whether the branch is the
# one taken where the condition is true (outermost first); None outside any branch.
_branch_mask: ContextVar[tuple | None] = ContextVar("branch_mask", default=None)
# Called as hook(f, gxs) for each Function the backward loop pops, after its rule ran (a
# trace for learners: --trace). Read once per backward() call, so that it costs the loop
# nothing while it is None.
_backward_hook: ContextVar = ContextVar("backward_hook", default=None)
# The rules the mechanism itself calls, by the operator they implement: Variable's operators
# (+ - * / ^ and unary minus, so that backward rules read like formulas), `where` for the
# branches, and `fit_shape` for gradients of broadcast values. The rule table (operators.py)
# fills it when the engine package is imported; this module names no function itself.
OPERATORS: dict = {}

_SWITCHES = {
    "enable_backprop": _enable_backprop,
    "batch_ndim": _batch_ndim,
    "branch_mask": _branch_mask,
}


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


@contextlib.contextmanager
def watching_backward(hook):
    """Call hook(f, gxs) for each Function that backward() pops in the body of the `with`:
    `f` with its inputs and outputs (their `grad` is its gy), `gxs` what its rule gave."""
    token = _backward_hook.set(hook)
    try:
        yield
    finally:
        _backward_hook.reset(token)


def branch_mask() -> tuple | None:
    """The branches of `where` being built: ((condition, taken where true), ...), or None."""
    return _branch_mask.get()


def in_branch(condition: Variable, when: bool):
    """Build the branch of a `where` that is taken where `condition` is true (`when`) or false
    (not `when`), within any outer branch.

    Each Function recorded in it remembers the branch, and its backward rule gives exactly 0
    where the branch is not taken: a nan or inf computed there never reaches a derivative.
    """
    outer = _branch_mask.get() or ()
    return using_config("branch_mask", (*outer, (condition, when)))


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
        hook = _backward_hook.get()
        with using_config("enable_backprop", create_graph):
            while funcs:
                f = pop(funcs)[2]
                waiting.discard(f)
                outputs = f.outputs
                if f.branches is not None:
                    gxs = _masked_backward(f)
                elif len(outputs) == 1:
                    gxs = f.backward(outputs[0]().grad)
                else:
                    gxs = f.backward(*[y().grad for y in outputs])
                if type(gxs) is not tuple:
                    gxs = (gxs,)
                if hook is not None:
                    hook(f, gxs)
                for x, gx in zip(f.inputs, gxs):
                    if gx is None or not x.requires_grad:
                        continue
                    if gx.shape != x.shape:
                        gx = OPERATORS["fit_shape"](gx, x.shape)
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
        return OPERATORS["+"]()(self, other)

    def __radd__(self, other):
        return OPERATORS["+"]()(other, self)

    def __sub__(self, other):
        return OPERATORS["-"]()(self, other)

    def __rsub__(self, other):
        return OPERATORS["-"]()(other, self)

    def __mul__(self, other):
        return OPERATORS["*"]()(self, other)

    def __rmul__(self, other):
        return OPERATORS["*"]()(other, self)

    def __truediv__(self, other):
        return OPERATORS["/"]()(self, other)

    def __rtruediv__(self, other):
        return OPERATORS["/"]()(other, self)

    def __neg__(self):
        return OPERATORS["neg"]()(self)

    def __pow__(self, other):
        return OPERATORS["^"]()(self, other)

    def __rpow__(self, other):
        return OPERATORS["^"]()(other, self)


def _masked_backward(f: Function) -> tuple:
    """The backward rule of a Function built in a branch of `where`: recorded in the same
    branch (for higher orders), and exactly 0 where the branch is not taken, written as the
    `where` of the language so that the derivative reads as a formula."""
    with using_config("branch_mask", f.branches):
        gxs = f.backward(*[y().grad for y in f.outputs])
    if type(gxs) is not tuple:
        gxs = (gxs,)
    masked = []
    for gx in gxs:
        if gx is not None:
            select = OPERATORS["where"]
            for condition, when in reversed(f.branches):
                gx = select()(condition, gx, 0.0) if when else select()(condition, 0.0, gx)
        masked.append(gx)
    return tuple(masked)


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

    __slots__ = ("inputs", "outputs", "generation", "branches")
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
            self.branches = _branch_mask.get()
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


def sum_to(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum `x` over the axes that broadcasting added to an array of `shape`."""
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1)
    y = x.sum(axis=axes, keepdims=True)
    return y.reshape(shape) if lead else y
