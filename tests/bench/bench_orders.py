"""Higher-order derivatives of tanh(x): graph size and time per order, end to end.

Run: python tests/bench/bench_orders.py [MAX_ORDER]    (default 10)

For each order N it reports
- functions: Functions created while computing everything up to the N-th derivative,
- graph: Functions in the graph behind the N-th derivative (what `dezero graph --order N`
  draws; the textbook's engine has 21,219 at order 10),
- library: median seconds of `api.derivatives` in this process,
- cli: median seconds of `dezero grad "tanh(x)" --x 0.5 --order N` as a new process,
- cli/numpy: that time divided by `python -c "import numpy"` measured in the same run,
- growth: graph size divided by the previous order's,
- peak_MB: peak Python memory (tracemalloc) of `api.derivatives` at that order, and
  keep/free: the same peak when every level's graph is kept alive, divided by peak_MB.

A second table shows what symmetry saves with three variables: backward passes and time of
`api.derivatives` against a naive loop that backpropagates from every entry of the tensor.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
import tracemalloc

import numpy as np

from dezero_cli.api import derivative_graph, derivatives
from dezero_cli.engine import core
from dezero_cli.engine.dot import count_functions
from dezero_cli.engine.functions import Tanh
from dezero_cli.engine.higher import count_partials, partials
from dezero_cli.language.compiler import compile_expression

REPEAT = 5


def median_time(fn, repeat: int = REPEAT) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def functions_created(order: int) -> int:
    """Count Function calls that record a node, by wrapping __call__ for one run."""
    count = 0
    original = core.Function.__call__

    def counting(self, *inputs):
        nonlocal count
        y = original(self, *inputs)
        if core.Config.enable_backprop and hasattr(self, "inputs"):
            count += 1
        return y

    core.Function.__call__ = counting
    try:
        derivatives("tanh(x)", {"x": 0.5}, order)
    finally:
        core.Function.__call__ = original
    return count


def peak_bytes(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def keep_every_level(order: int) -> None:
    """What not freeing costs: hold on to every level (and so its whole graph)."""
    x = core.Variable(np.array(0.5), "x")
    y = core.Function.__call__(Tanh(), x)
    kept = list(partials(y, [x], order))
    assert len(kept) == order


MIXED = "x*y*z + sin(x*y) * exp(z)"
POINT = {"x": 0.3, "y": -0.7, "z": 0.5}


def naive(order: int) -> list:
    """Every partial of every order, each from its own backward pass (no symmetry)."""
    xs = [core.Variable(np.array(POINT[n]), n) for n in "xyz"]
    y = compile_expression(MIXED).run(dict(zip("xyz", xs)))
    frontier, levels = [y], []
    for k in range(1, order + 1):
        following = []
        for v in frontier:
            for x in xs:
                x.grad = None
            v.grad = None
            if v.creator is not None:
                v.backward(create_graph=k < order)
            following.extend(x.grad for x in xs)
        levels.append([None if g is None else g.data for g in following])
        frontier = [g for g in following if g is not None]
    return levels


def run(command: list[str]) -> None:
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("max_order", type=int, nargs="?", default=10, help="highest order")
    top = parser.parse_args().max_order
    exe = [sys.executable, "-m", "dezero_cli"]
    baseline = median_time(lambda: run([sys.executable, "-c", "import numpy"]))
    print(f"baseline python -c 'import numpy': {baseline:.3f} s")
    print("order  functions   graph  growth  library_s   cli_s  cli/numpy  peak_MB  keep/free")
    previous = None
    for order in range(1, top + 1):
        created = functions_created(order)
        graph = count_functions(derivative_graph("tanh(x)", {"x": 0.5}, order))
        growth = f"{graph / previous:6.2f}" if previous else "     -"
        previous = graph
        library = median_time(lambda o=order: derivatives("tanh(x)", {"x": 0.5}, o))
        cli = median_time(
            lambda o=order: run([*exe, "grad", "tanh(x)", "--x", "0.5", "--order", str(o)])
        )
        peak = peak_bytes(lambda o=order: derivatives("tanh(x)", {"x": 0.5}, o))
        kept = peak_bytes(lambda o=order: keep_every_level(o))
        print(
            f"{order:5d} {created:10d} {graph:7d}  {growth} {library:10.4f} {cli:7.3f} "
            f"{cli / baseline:10.2f} {peak / 1e6:8.2f} {kept / peak:10.2f}"
        )
    print(f"\n{MIXED} at {POINT}: symmetry against a naive loop")
    print("order  passes  naive_passes  seconds  naive/shared")
    for order in range(1, 6):
        passes = sum(count_partials(3, k) for k in range(order))
        naive_passes = sum(3**k for k in range(order))
        shared = median_time(lambda o=order: derivatives(MIXED, POINT, o))
        slow = median_time(lambda o=order: naive(o))
        print(f"{order:5d} {passes:7d} {naive_passes:13d} {shared:8.4f} {slow / shared:13.2f}")


if __name__ == "__main__":
    main()
