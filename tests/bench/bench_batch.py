"""Benchmark `dezero batch` against a hand-written numpy script, as ratios measured in one run.

    python tests/bench/bench_batch.py [--rows 1000000] [--big-rows 10000000] [--repeat 3]

1. Points mode: N rows of `x,y` CSV, `--expr "x*y + sin(x)/(1 + y^2)"`, CSV out. Wall time of
   `dezero batch` divided by the wall time of a numpy script doing the same job by hand
   (`numpy.loadtxt`, value and both partials written out, `numpy.savetxt` with fmt '%.17g', which
   round-trips like our repr output but is not the shortest text). Medians, runs interleaved.
2. The same with the big file: peak memory (maxrss of the subprocess) and rows per second.
3. Records mode: 100,000 JSONL records cycling through 1,000 distinct expressions: records/s.

Every run is a real subprocess (start-up included, for both sides). The machine is shared, so
only the ratios within one run mean much.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

import numpy as np

EXPR = "x*y + sin(x)/(1 + y^2)"

BASELINE = """
import sys
import numpy as np

data = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1, ndmin=2)
x, y = data[:, 0], data[:, 1]
q = 1.0 + y**2
s = np.sin(x)
f = x * y + s / q
fx = y + np.cos(x) / q
fy = x - 2.0 * y * s / q**2
np.savetxt(sys.argv[2], np.column_stack([x, y, f, fx, fy]), delimiter=",", fmt="%.17g",
           header="x,y,value,grad_x,grad_y", comments="")
"""


def dezero_command() -> list[str]:
    exe = shutil.which("dezero", path=os.path.dirname(sys.executable))
    return [exe] if exe else [sys.executable, "-m", "dezero_cli"]


def write_points(path: str, rows: int, seed: int = 0) -> None:
    """`x,y` rows of random numbers in shortest repr text, written in blocks."""
    rng = np.random.default_rng(seed)
    with open(path, "w") as f:
        f.write("x,y\n")
        left = rows
        while left:
            n = min(left, 200_000)
            xy = rng.uniform(-3.0, 3.0, size=(n, 2))
            f.write(repr(xy.tolist())[2:-2].replace(", ", ",").replace("],[", "\n") + "\n")
            left -= n


def write_records(path: str, records: int, distinct: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    unary = ["sin", "cos", "exp", "tanh", "sigmoid", "square", "sinh", "cosh"]
    exprs = []
    for k in range(distinct):
        f, g = unary[k % len(unary)], unary[(k // len(unary)) % len(unary)]
        exprs.append(f"{f}(x)*{g}(y) + {k}*x^2 - y/{k + 1}")
    with open(path, "w") as out:
        for i in range(records):
            x, y = rng.uniform(-1.0, 1.0, size=2).tolist()
            out.write(json.dumps({"id": i, "expr": exprs[i % distinct], "x": x, "y": y}) + "\n")


# Runs one command and reports its resources. A small process of its own, because a child's
# ru_maxrss also counts the memory of the process it was forked from (this script holds
# hundreds of MB while it generates data).
LAUNCHER = """
import os, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)
wall = time.perf_counter() - start
cpu = usage.ru_utime + usage.ru_stime
print(wall, usage.ru_maxrss * 1024, cpu, os.waitstatus_to_exitcode(status))
"""


def timed(cmd: list[str]) -> tuple[float, int, float]:
    """Wall seconds, peak resident memory in bytes, and CPU seconds of one subprocess.

    CPU time (user + system) suffers less than wall time when other jobs share the machine.
    """
    proc = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *cmd], capture_output=True, text=True, check=False
    )
    wall, rss, cpu, code = proc.stdout.split()
    if int(code) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({code})")
    return float(wall), int(rss), float(cpu)


def check_same(ours: str, theirs: str) -> float:
    """Largest relative difference between the two outputs' numbers (a sanity check)."""
    a = np.loadtxt(ours, delimiter=",", skiprows=1, usecols=(0, 1, 2, 3, 4), max_rows=100_000)
    b = np.loadtxt(theirs, delimiter=",", skiprows=1, max_rows=100_000)
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--big-rows", type=int, default=10_000_000)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--distinct", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    dezero = dezero_command()
    with tempfile.TemporaryDirectory() as tmp:
        points = os.path.join(tmp, "points.csv")
        write_points(points, args.rows)
        baseline = os.path.join(tmp, "baseline.py")
        with open(baseline, "w") as f:
            f.write(BASELINE)
        ours_out, theirs_out = os.path.join(tmp, "ours.csv"), os.path.join(tmp, "theirs.csv")
        ours_cmd = [*dezero, "batch", "--expr", EXPR, points, "-o", ours_out]
        theirs_cmd = [sys.executable, baseline, points, theirs_out]
        ours, theirs, cpu_ours, cpu_theirs = [], [], [], []
        for _ in range(args.repeat):  # interleaved, so drifting load hits both alike
            wall, _, cpu = timed(theirs_cmd)
            theirs.append(wall)
            cpu_theirs.append(cpu)
            wall, _, cpu = timed(ours_cmd)
            ours.append(wall)
            cpu_ours.append(cpu)
        t_ours, t_theirs = statistics.median(ours), statistics.median(theirs)
        c_ours, c_theirs = statistics.median(cpu_ours), statistics.median(cpu_theirs)
        print(f"points, {args.rows:,} rows, CSV in and out (median of {args.repeat}):")
        print(f"  numpy by hand (loadtxt/savetxt %.17g) {t_theirs:8.3f} s")
        print(f"  dezero batch                         {t_ours:8.3f} s")
        print(f"  ratio dezero / numpy, wall time      {t_ours / t_theirs:8.3f}  (target <= 1.0)")
        print(
            f"  ratio dezero / numpy, CPU time       {c_ours / c_theirs:8.3f}  "
            f"({c_ours:.2f} s / {c_theirs:.2f} s)"
        )
        print(
            f"  load average at the end              {os.getloadavg()[0]:8.2f}  "
            f"(on {os.cpu_count()} cores)"
        )
        print(f"  max relative difference              {check_same(ours_out, theirs_out):8.1e}")
        print(
            f"  dezero output {os.path.getsize(ours_out) / 1e6:.1f} MB, "
            f"numpy output {os.path.getsize(theirs_out) / 1e6:.1f} MB"
        )
        for path in (ours_out, theirs_out, points):
            os.remove(path)

        if args.big_rows:
            big = os.path.join(tmp, "big.csv")
            write_points(big, args.big_rows, seed=2)
            wall, rss, _ = timed([*dezero, "batch", "--expr", EXPR, big, "-o", os.devnull])
            size = os.path.getsize(big) / 1e6
            print(f"points, {args.big_rows:,} rows ({size:.0f} MB), CSV in, CSV to /dev/null:")
            print(
                f"  wall {wall:.2f} s, {args.big_rows / wall:,.0f} rows/s, "
                f"peak memory {rss / 2**20:.0f} MiB (target < 250 MB)"
            )
            os.remove(big)

        records = os.path.join(tmp, "records.jsonl")
        write_records(records, args.records, args.distinct)
        wall, rss, _ = timed([*dezero, "batch", records, "-o", os.devnull])
        print(f"records, {args.records:,} JSONL records, {args.distinct:,} distinct expressions:")
        print(
            f"  wall {wall:.2f} s, {args.records / wall:,.0f} records/s (target >= 20,000), "
            f"peak memory {rss / 2**20:.0f} MiB"
        )


if __name__ == "__main__":
    main()
