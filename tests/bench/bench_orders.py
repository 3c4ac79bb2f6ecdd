"""Higher-order derivatives of tanh(x): graph size and time per order, end to end.

Run: python tests/bench/bench_orders.py [max_order]

For each order N it reports
- functions: Functions created while computing everything up to the N-th derivative,
- graph: Functions in the graph behind the N-th derivative (what `dezero graph --order N`
  draws; the textbook's engine has 21,219 at order 10),
- library: median seconds of `orders.derivatives` in this process,
- cli: median seconds of `dezero grad "tanh(x)" --x 0.5 --order N` as a new process,
- cli/numpy: that time divided by `python -c "import numpy"` measured in the same run.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from dezero_cli import core
from dezero_cli.dot import count_functions
from dezero_cli.orders import derivative_graph, derivatives

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


def run(command: list[str]) -> None:
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def main() -> None:
    top = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    exe = [sys.executable, "-m", "dezero_cli"]
    baseline = median_time(lambda: run([sys.executable, "-c", "import numpy"]))
    print(f"baseline python -c 'import numpy': {baseline:.3f} s")
    print("order  functions   graph  library_s   cli_s  cli/numpy")
    for order in range(1, top + 1):
        created = functions_created(order)
        graph = count_functions(derivative_graph("tanh(x)", {"x": 0.5}, order))
        library = median_time(lambda o=order: derivatives("tanh(x)", {"x": 0.5}, o))
        cli = median_time(
            lambda o=order: run([*exe, "grad", "tanh(x)", "--x", "0.5", "--order", str(o)])
        )
        print(
            f"{order:5d} {created:10d} {graph:7d} {library:10.4f} {cli:7.3f} {cli / baseline:10.2f}"
        )


if __name__ == "__main__":
    main()
