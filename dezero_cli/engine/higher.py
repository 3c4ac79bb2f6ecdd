"""Higher-order derivatives the DeZero way: record the backward pass, then differentiate it.

Level k holds the k-th partials as Variables. Level k+1 backpropagates once from each partial
whose variables are in non-decreasing order (mixed partials of smooth functions are symmetric),
and the other entries of the tensor are filled in by symmetry. Each level is dropped once the
next one exists, so only the graph still referenced stays in memory.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

import numpy as np

from ..limits import Growth
from .core import Variable

MAX_ENTRIES = 1_000_000  # partials in the full k-th derivative tensor, over all levels
# Each level walks the whole graph built so far, so even where the graph grows by a constant
# each order (exp) the work grows with the square of the order: exp(x) at order 3,000 takes 2 s.
MAX_ORDER = 100


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
            grads = backprop(v, xs, create)
            for j in range(key[-1] if key else 0, len(xs)):
                following[key + (j,)] = grads[j]
        current = following
        v = grads = following = None  # hold no Variable of the level just left
        if create:
            growth.level_done()  # refuses early when the levels to come cannot fit
        yield current


def backprop(v: Variable | None, xs: list[Variable], create_graph: bool = False) -> list:
    """The gradient of `v` by each of `xs` (None where it is identically zero).

    The graph `v` belongs to is kept (backward never frees it, as in DeZero), and the
    gradients of `xs` and `v` are cleared before and after: so passes from several Variables
    of one graph, such as the outputs of a vector result, reuse its forward pass and never
    add up each other's gradients.
    """
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


def full_tensor(level, names) -> dict[tuple[str, ...], np.ndarray]:
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
