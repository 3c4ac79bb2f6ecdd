"""Higher-order derivatives the DeZero way: record the backward pass, then differentiate it.

Level k holds the k-th partials as Variables. Level k+1 backpropagates once from each partial
whose variables are in non-decreasing order (mixed partials of smooth functions are symmetric),
and the other entries of the tensor are filled in by symmetry. Each level is dropped once the
next one exists, so only the graph still referenced stays in memory.
"""

from __future__ import annotations

import collections
import itertools
import math
from collections.abc import Iterable, Iterator, Mapping

import numpy as np

from .api import (
    Result,
    _explain_nonfinite,
    _kind,
    _run,
    as_program,
    check_values,
    pointwise,
    select_wrt,
)
from .compiler import Program
from .core import Variable
from .errors import ValueProblem
from .limits import Growth

MAX_ENTRIES = 1_000_000  # partials in the full k-th derivative tensor, over all levels
# Each level walks the whole graph built so far, so even where the graph grows by a constant
# each order (exp) the work grows with the square of the order: exp(x) at order 3,000 takes 2 s.
MAX_ORDER = 100


def derivatives(
    expr: str | Program,
    values: Mapping[str, object],
    order: int,
    wrt: Iterable[str] | None = None,
) -> Result:
    """The value of `expr` and all its partial derivatives up to `order`.

    `Result.grad` is the first derivative; `Result.derivatives[k - 1]` maps each k-tuple of
    names to the k-th partial. With order 2 or more, vector values are broadcast to one shape
    first: each element is its own point, so every derivative has that shape.
    """
    program, names, xs, given, warnings = _prepare(expr, values, order, wrt)
    inputs = {name: np.asarray(x.data) for name, x in xs.items()}
    levels: list[dict[tuple[str, ...], np.ndarray]] = []
    with np.errstate(all="ignore"):
        y = _run(program, xs)
        value = np.asarray(y.data, dtype=np.float64)
        wanted = [xs[name] for name in names]
        for level in partials(y, wanted, order):
            if not levels:
                del y  # the forward graph lives on only where the backward graph uses it
            levels.append(_numbers(level, names, inputs))
    grads = {name: levels[0][(name,)] for name in names}
    result = Result(program.text, given, value, grads, warnings)
    result.derivatives = [_full_tensor(level, names) for level in levels]
    _explain_nonfinite(program, result)
    if np.all(np.isfinite(value)):
        for level in levels[1:]:
            for key, a in level.items():
                if not np.all(np.isfinite(a)):
                    result.warnings.append(f"the derivative {label(key)} is {_kind(a)}")
    return result


def derivative_graph(
    expr: str | Program,
    values: Mapping[str, object],
    order: int,
    wrt: Iterable[str] | None = None,
) -> list[Variable]:
    """The Variables of the `order`-th derivative with their graph kept (order 0: the value).

    Each is named by its label (`d2f/dxdy`); one per distinct partial.
    """
    program, names, xs, _, _ = _prepare(expr, values, order, wrt, min_order=0)
    with np.errstate(all="ignore"):
        y = _run(program, xs)
        y.name = "f"
        if order == 0:
            return [y]
        wanted = [xs[name] for name in names]
        (level,) = collections.deque(partials(y, wanted, order, keep_graph=True), maxlen=1)
    outputs = []
    for key, v in level.items():
        if v is None:  # identically zero: a constant node still says so
            v = Variable(np.zeros_like(wanted[key[-1]].data), requires_grad=False)
        v.name = label(tuple(names[i] for i in key))
        outputs.append(v)
    return outputs


def partials(
    y: Variable, xs: list[Variable], order: int, keep_graph: bool = False
) -> Iterator[dict[tuple[int, ...], Variable | None]]:
    """For k = 1..order, the k-th partials of `y` keyed by non-decreasing index tuples.

    None stands for a partial that is identically zero. The last level keeps its graph only
    with `keep_graph`. Under a node limit, a steady growth that would pass it stops the
    computation early (limits.Growth).
    """
    current: dict[tuple[int, ...], Variable | None] = {(): y}
    del y  # the caller decides how long the value itself lives
    growth = Growth(order, order if keep_graph else order - 1)
    for k in range(1, order + 1):
        create = keep_graph or k < order
        following: dict[tuple[int, ...], Variable | None] = {}
        for key, v in current.items():
            grads = _backprop(v, xs, create)
            for j in range(key[-1] if key else 0, len(xs)):
                following[key + (j,)] = grads[j]
        current = following
        v = grads = following = None  # hold no Variable of the level just left
        if create:
            growth.level_done()  # refuses early when the levels to come cannot fit
        yield current


def _backprop(v: Variable | None, xs: list[Variable], create_graph: bool) -> list:
    if v is None:
        return [None] * len(xs)
    if v.creator is None:  # a constant, or one of the variables itself
        return [Variable(np.ones_like(x.data), requires_grad=False) if v is x else None for x in xs]
    for x in xs:
        x.grad = None
    v.grad = None
    v.backward(create_graph=create_graph)
    grads = [x.grad for x in xs]
    for x in xs:
        x.grad = None
    return grads


def label(names: tuple[str, ...]) -> str:
    """`df/dx`, `d2f/dx2`, `d2f/dxdy`, `d3f/dx2dy`; a power after a name ending in a digit
    gets a caret (`d2f/dx1^2`) so it cannot be read as part of the name."""
    k = len(names)
    parts = []
    for name, group in itertools.groupby(names):
        n = len(list(group))
        power = "" if n == 1 else (f"^{n}" if name[-1].isdigit() else str(n))
        parts.append(f"d{name}{power}")
    return f"d{'' if k == 1 else k}f/{''.join(parts)}"


def _prepare(expr, values, order, wrt, min_order: int = 1):
    if isinstance(order, bool) or not isinstance(order, int) or order < min_order:
        raise ValueProblem(f"the order must be a whole number of at least {min_order}, got {order}")
    if order > MAX_ORDER:
        raise ValueProblem(f"the order must be at most {MAX_ORDER}, got {order}")
    program = as_program(expr)
    names = select_wrt(program, wrt)
    entries = len(names) ** order if names else 0  # at most MAX_ORDER: a few hundred digits
    if entries > MAX_ENTRIES:
        raise ValueProblem(
            f"order {order} with {len(names)} variables has {entries} partials "
            f"(at most {MAX_ENTRIES}): lower the order or select variables with --wrt"
        )
    given, warnings = check_values(program, values)
    inputs = pointwise(program, given, order)
    xs = {name: Variable(x, name, requires_grad=name in names) for name, x in inputs.items()}
    return program, names, xs, given, warnings


def _numbers(level, names, inputs) -> dict[tuple[str, ...], np.ndarray]:
    out = {}
    for key, v in level.items():
        last = inputs[names[key[-1]]]
        out[tuple(names[i] for i in key)] = (
            np.zeros_like(last) if v is None else np.asarray(v.data, dtype=np.float64)
        )
    return out


def _full_tensor(level, names) -> dict[tuple[str, ...], np.ndarray]:
    """Every ordering of every partial, in row-major order of `names`, from the sorted ones."""
    if not level:  # no variables to differentiate by
        return {}
    k = len(next(iter(level)))
    rank = {name: i for i, name in enumerate(names)}
    return {
        key: level[tuple(sorted(key, key=rank.__getitem__))]
        for key in itertools.product(names, repeat=k)
    }


def count_partials(n_variables: int, order: int) -> int:
    """How many distinct k-th partials (backward passes for the next level) there are."""
    return math.comb(n_variables + order - 1, order)
