"""What the graph-size limit costs in the engine's hot path, as ratios measured in one run.

    python tests/bench/bench_limits.py [--ops 200000] [--repeat 7] [--at-limit] [--batch]

Forward plus backward of a chain of sin calls built through the library's Variables, always
through the engine's own Function.__call__ (no copy of it here, so nothing can drift), two
ways, interleaved so that machine noise hits each alike; the median of each is divided by the
first's:
  no limit   no node budget in force: what a call pays is one look at the `node_budget`
             context variable
  limit on   under `enforce(Limits())`, the default 2,000,000 nodes: every recorded node is
             also counted against the budget
The one look that every call pays, limit or none, is timed by itself too (`node_budget.get()`
in a loop) and shown as a share of a call.
With --at-limit it also builds a chain until the default limit stops it, in a child process,
and reports the time and peak memory it took to get there.
With --batch it runs `dezero batch` over 50,000 rows of an expression of 3,000 terms (about
9,000 nodes: one graph over a whole chunk would hold 3.6 GB of values), under the default
limit and with --max-nodes 0, alternating, and reports wall time and peak memory of each and
their ratios.
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import subprocess
import sys
import time
import timeit

import numpy as np

from dezero_cli.engine.core import Variable
from dezero_cli.engine.functions import Sin
from dezero_cli.limits import Limits, enforce, node_budget


def chain(ops: int) -> float:
    # The cyclic collector's passes depend on what earlier rounds left behind: keep it out.
    gc.collect()
    gc.disable()
    try:
        t = time.perf_counter()
        x = Variable(np.array(0.5), "x")
        y = x
        for _ in range(ops):
            y = Sin()(y)
        y.backward()
        elapsed = time.perf_counter() - t
    finally:
        gc.enable()
    assert x.grad is not None
    return elapsed


def run_variant(name: str, ops: int) -> float:
    if name == "no limit":
        assert node_budget.get() is None
        return chain(ops)
    with enforce(Limits()):
        assert node_budget.get() is not None
        return chain(ops)


def budget_lookup_seconds(number: int = 1_000_000) -> float:
    """Seconds per `node_budget.get()`, the check every call makes: the best of five."""
    return min(timeit.repeat(node_budget.get, number=number, repeat=5)) / number


def at_limit() -> None:
    """Child process: build until the default limit stops it; print seconds and peak MB."""
    from dezero_cli.errors import GraphTooLarge

    t = time.perf_counter()
    x = Variable(np.array(0.5), "x")
    y = x
    try:
        with enforce(Limits()):
            while True:
                y = Sin()(y)
    except GraphTooLarge as exc:
        message = exc.message
    elapsed = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{elapsed:.2f} {peak:.0f} {message}")


def batch_large(repeat: int) -> None:
    """`dezero batch` on a large expression: what splitting chunks to fit the limit costs."""
    import os
    import tempfile

    expr = "+".join(f"sin(x*{i})" for i in range(3000))
    rows = "x,y\n" + "".join(f"{i / 1000},{i % 7}\n" for i in range(50_000))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "points.csv")
        with open(path, "w") as f:
            f.write(rows)
        variants = {"default limit": [], "--max-nodes 0": []}
        for _ in range(repeat):
            for name, extra in (("default limit", []), ("--max-nodes 0", ["--max-nodes", "0"])):
                argv = [sys.executable, "-m", "dezero_cli", "batch", path, "--expr", expr, *extra]
                t = time.perf_counter()
                proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
                _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak memory
                proc.returncode = os.waitstatus_to_exitcode(status)
                assert proc.returncode == 0, proc.returncode
                variants[name].append((time.perf_counter() - t, usage.ru_maxrss / 1024))
    base = statistics.median(t for t, _ in variants["--max-nodes 0"])
    peak_base = statistics.median(p for _, p in variants["--max-nodes 0"])
    print(f"batch, 50,000 rows of a 3,000-term expression, median of {repeat}")
    for name, runs in variants.items():
        m = statistics.median(t for t, _ in runs)
        p = statistics.median(p for _, p in runs)
        print(
            f"{name:14} {m:7.2f} s  ratio {m / base:5.2f}   peak RSS {p:7,.0f} MB  "
            f"ratio {p / peak_base:5.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ops", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--at-limit", action="store_true")
    parser.add_argument("--batch", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        at_limit()
        return
    if args.batch:
        batch_large(min(args.repeat, 3))
        return
    variants = ["no limit", "limit on"]
    times: dict[str, list[float]] = {v: [] for v in variants}
    chain(1000)  # warm up
    for i in range(args.repeat):
        for v in variants[i % 2 :] + variants[: i % 2]:  # alternate the order each round
            times[v].append(run_variant(v, args.ops))
    base = statistics.median(times["no limit"])
    print(f"chain of {args.ops} sin calls, forward + backward, median of {args.repeat}")
    print(f"{'variant':10} {'us/op':>8} {'ratio':>7}")
    for v in variants:
        m = statistics.median(times[v])
        print(f"{v:10} {m / args.ops * 1e6:8.2f} {m / base:7.3f}")
    lookup = budget_lookup_seconds()
    print(
        f"the budget check every call makes: {lookup * 1e9:.0f} ns, "
        f"{lookup / (base / args.ops):.1%} of a call with no limit"
    )
    if args.at_limit:
        out = subprocess.run(
            [sys.executable, __file__, "--child"], capture_output=True, text=True, check=True
        ).stdout.split(maxsplit=2)
        print(f"building to the default limit: {out[0]} s, peak RSS {out[1]} MB; error: {out[2]}")


if __name__ == "__main__":
    main()
