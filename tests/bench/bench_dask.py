"""Benchmark `dezero batch` over many files: one process, a plain loop, and Dask workers.

    python tests/bench/bench_dask.py [--parts 8] [--rows 500000] [--repeat 3]
                                     [--tiny-parts 48]

The job: PARTS CSV files of ROWS rows of `x,y` each, `--expr "x*y + sin(x)/(1 + y^2)"`, value
and gradient out, one output part per input. Every run is a real process (start-up, and the
start of the local cluster, included), the variants alternate within each round, and each
figure is the median over the rounds:

    loop       one `dezero batch PART -o OUT/PART` process per part, one after another (a
               shell loop: the baseline)
    one        `dezero batch DIR -o OUT`: the parts one after another in one process
    workers 1  `dezero batch DIR -o OUT --workers 1`: a local Dask cluster of one process
    workers 2  the same with two worker processes

Every variant's outputs are compared byte for byte with the loop's. Then the cost of a part
beyond its rows, from TINY_PARTS parts of 10 rows against one such part: in one process (the
fixed cost of a part: open, header, compile) and with --workers 1 (that, plus Dask's per-task
overhead). docs/scale.md turns these figures into throughput on paper.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

EXPR = "x*y + sin(x)/(1 + y^2)"


def dezero(*argv: str) -> list[str]:
    return [sys.executable, "-m", "dezero_cli", "batch", "--expr", EXPR, *argv]


def write_parts(folder: str, parts: int, rows: int, seed: int = 0) -> list[str]:
    os.makedirs(folder)
    rng = np.random.default_rng(seed)
    paths = []
    for k in range(parts):
        xy = rng.uniform(-10, 10, size=(rows, 2))
        path = os.path.join(folder, f"part-{k:03d}.csv")
        np.savetxt(path, xy, delimiter=",", header="x,y", comments="", fmt="%.6f")
        paths.append(path)
    return paths


CPU: dict[str, list[float]] = {}  # CPU seconds (user + system) of the last runs, by variant
_cpu = [0.0]


def run(cmd: list[str]) -> float:
    """Wall seconds of a process; its CPU seconds, with its children's (the workers), are
    added to _cpu."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    _cpu[0] += (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall


def fresh(path: str) -> str:
    shutil.rmtree(path, ignore_errors=True)
    return path


def variants(data: str, paths: list[str], out: str) -> dict:
    """name -> a function that runs it into a fresh directory and gives its wall time."""

    def loop():
        folder = fresh(os.path.join(out, "loop"))
        os.makedirs(folder)
        start = time.perf_counter()
        for path in paths:
            run(dezero(path, "-o", os.path.join(folder, os.path.basename(path))))
        return time.perf_counter() - start

    def many(*extra):
        def go():
            name = "-".join(["one", *extra[1:]]) if extra else "one"
            return run(dezero(data, "-o", fresh(os.path.join(out, name)), *extra))

        return go

    return {
        "loop": loop,
        "one": many(),
        "workers 1": many("--workers", "1"),
        "workers 2": many("--workers", "2"),
    }


def same_outputs(out: str) -> None:
    reference = os.path.join(out, "loop")
    names = sorted(os.listdir(reference))
    for other in ("one", "one-1", "one-2"):
        folder = os.path.join(out, other)
        found = sorted(n for n in os.listdir(folder) if n.endswith(".csv"))
        assert found == names, (other, found)
        _, mismatch, errors = filecmp.cmpfiles(reference, folder, names, shallow=False)
        assert not mismatch and not errors, (other, mismatch, errors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", type=int, default=8)
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tiny-parts", type=int, default=48)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-dask-")
    try:
        data = os.path.join(tmp, "data")
        paths = write_parts(data, args.parts, args.rows)
        total = args.parts * args.rows
        out = os.path.join(tmp, "out")
        os.makedirs(out)
        runs = variants(data, paths, out)
        times: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.repeat):
            for name, go in runs.items():
                _cpu[0] = 0.0
                times[name].append(go())
                CPU.setdefault(name, []).append(_cpu[0])
            same_outputs(out)
        print(f"{args.parts} parts x {args.rows:,} rows = {total:,} rows, {os.cpu_count()} CPUs")
        print(f"  load average before: {os.getloadavg()[0]:.2f} (other work on the machine)")
        median = {name: statistics.median(t) for name, t in times.items()}
        for name, seconds in median.items():
            spread = ", ".join(f"{t:.2f}" for t in times[name])
            cpu = statistics.median(CPU[name])
            print(
                f"  {name:10} {seconds:7.2f} s  {total / seconds:12,.0f} rows/s  ({spread}); "
                f"CPU {cpu:.2f} s"
            )
        print(f"  speed-up workers 2 / workers 1: {median['workers 1'] / median['workers 2']:.2f}")
        print(f"  workers 2 against the loop:     {median['loop'] / median['workers 2']:.2f}")
        print(f"  workers 2 against one process:  {median['one'] / median['workers 2']:.2f}")
        tiny(tmp, args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def tiny(tmp: str, args) -> None:
    """The cost of a part beyond its rows: many 10-row parts against one."""
    many = os.path.join(tmp, "tiny")
    write_parts(many, args.tiny_parts, 10, seed=1)
    one = os.path.join(tmp, "tiny1")
    write_parts(one, 1, 10, seed=1)
    for label, extra in (("one process", []), ("workers 1", ["--workers", "1"])):
        t_many, t_one = [], []
        for _ in range(args.repeat):
            t_many.append(run(dezero(many, "-o", fresh(os.path.join(tmp, "o1")), *extra)))
            t_one.append(run(dezero(one, "-o", fresh(os.path.join(tmp, "o2")), *extra)))
        a, b = statistics.median(t_many), statistics.median(t_one)
        per = (a - b) / (args.tiny_parts - 1)
        print(
            f"  {label:11}: 1 tiny part {b:.2f} s, {args.tiny_parts} tiny parts {a:.2f} s: "
            f"{per * 1000:.1f} ms a part"
        )


if __name__ == "__main__":
    main()
