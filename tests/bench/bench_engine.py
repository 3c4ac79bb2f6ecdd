"""Speed and memory of the engine path, each figure a ratio against a baseline run alongside.

Run from the project root with the package installed (the `dezero` console script on PATH):

    python tests/bench/bench_engine.py            # the full table, a few minutes
    python tests/bench/bench_engine.py --quick    # fewer repeats, smaller sizes

The machine may be shared and noisy, so each measurement alternates with its baseline and the
table shows medians over the repeats. Commands run as a user's would: with compiled bytecode
(PYTHONDONTWRITEBYTECODE is dropped, and PYTHONPYCACHEPREFIX points at a scratch directory so
the checkout stays clean), after one warm-up run of each.

Memory: for the chain, the child's peak resident set size (VmHWM from /proc, or `ru_maxrss`
elsewhere) minus that of a child that only imports numpy and the engine, which is what the
graph itself costs; for the deep expression, the whole `dezero` process's peak (ru_maxrss of
the waited-for child) next to that of `python -c "import numpy"`.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

from dezero_cli import api

ROWS: list[tuple[str, str, str, str]] = []


def row(name: str, figure: str, ratio: str, target: str) -> None:
    ROWS.append((name, figure, ratio, target))
    print(f"  {name}: {figure}  ratio {ratio}  (target {target})", file=sys.stderr, flush=True)


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), f"dezero-bench-pyc-{os.getuid()}")


def wall(cmd: list[str], stdin: bytes | None = None, env: dict | None = None) -> float:
    return timed(cmd, stdin, env)[0]


def timed(cmd: list[str], stdin: bytes | None = None, env: dict | None = None):
    """Wall-clock seconds, and CPU seconds (user + system) of the child, for one run."""
    env = ENV if env is None else env
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        cmd, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True
    )
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return elapsed, cpu


def dezero_command() -> list[str]:
    exe = shutil.which("dezero")
    if exe is None:
        sys.exit("the dezero console script is not on PATH: pip install -e '.[test]' first")
    return [exe]


# ---------------------------------------------------------------------------------------------
def bench_latency(repeats: int) -> None:
    """One-shot `dezero grad` against `python -c "import numpy"`, interleaved."""
    dezero = dezero_command() + ["grad", "square(exp(square(x)))", "--x", "0.5"]
    numpy_only = [sys.executable, "-c", "import numpy"]
    wall(numpy_only)  # warm-up: bytecode compiled, files in the page cache
    wall(dezero)
    # A user's first run: a home and a cache directory with nothing in them (the parse tables
    # are a module of the package, so there is nothing to build or fill there).
    firsts = []
    for _ in range(3):
        with tempfile.TemporaryDirectory() as home, tempfile.TemporaryDirectory() as cache:
            firsts.append(wall(dezero, env=dict(ENV, HOME=home, XDG_CACHE_HOME=cache)))
    first_time = statistics.median(firsts)
    ours, base = [], []
    for _ in range(repeats):
        base.append(timed(numpy_only))
        ours.append(timed(dezero))
    b = statistics.median(t for t, _ in base)
    m = statistics.median(t for t, _ in ours)
    row(
        "one-shot `dezero grad` / `python -c 'import numpy'`",
        f"{m * 1e3:.0f} ms vs {b * 1e3:.0f} ms",
        f"{m / b:.2f}",
        "<= 1.2",
    )
    # CPU time is less disturbed than wall time by other work on a shared machine.
    b_cpu = statistics.median(c for _, c in base)
    m_cpu = statistics.median(c for _, c in ours)
    row(
        "  same, CPU time (user + system)",
        f"{m_cpu * 1e3:.0f} ms vs {b_cpu * 1e3:.0f} ms",
        f"{m_cpu / b_cpu:.2f}",
        "-",
    )
    row(
        "  same, first run (HOME and XDG_CACHE_HOME empty)",
        f"{first_time * 1e3:.0f} ms",
        f"{first_time / b:.2f}",
        "-",
    )


# ---------------------------------------------------------------------------------------------
# Hand-written numpy: what a competent person writes for the value and the derivative,
# reusing shared subexpressions and letting numpy work in place where it is natural.
def np_square_exp_square(x):
    s = x * x
    e = np.exp(s)
    y = e * e
    return y, 4.0 * x * y  # d/dx exp(x^2)^2 = 2 e * e * 2x


def np_gauss_log(x):
    x2 = x * x
    g = np.exp(-0.5 * x2)
    s = np.sin(x)
    one_x2 = 1.0 + x2
    y = s * g + np.log(one_x2)
    gx = g * (np.cos(x) - x * s) + 2.0 * x / one_x2
    return y, gx


def np_two_vars(x, y):
    s = np.sin(x)
    d = 1.0 + y * y
    f = x * y + s / d
    gx = y + np.cos(x) / d
    gy = x - 2.0 * y * s / (d * d)
    return f, gx, gy


def np_tanh_sin(x, depth):
    # Forward keeps what the derivative needs; backward multiplies the local derivatives.
    saved = []
    h = x
    for i in range(depth):
        if i % 2 == 0:
            saved.append(np.cos(h))
            h = np.sin(h)
        else:
            h = np.tanh(h)
            saved.append(1.0 - h * h)
    g = saved.pop()
    while saved:
        g *= saved.pop()
    return h, g


def nested(depth: int) -> str:
    """tanh(sin(tanh(sin(...x...)))) with `depth` calls, sin innermost."""
    names = ["sin" if i % 2 == 0 else "tanh" for i in range(depth)]
    return "".join(f"{n}(" for n in reversed(names)) + "x" + ")" * depth


def bench_throughput(n: int, repeats: int) -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(-2.0, 2.0, n)
    y = rng.uniform(-2.0, 2.0, n)
    cases = [
        ("square(exp(square(x)))", {"x": x}, lambda: np_square_exp_square(x)),
        ("sin(x)*exp(-x^2/2) + log(1+x^2)", {"x": x}, lambda: np_gauss_log(x)),
        ("x*y + sin(x)/(1+y^2)", {"x": x, "y": y}, lambda: np_two_vars(x, y)),
        ("100-deep tanh(sin(...))", {"x": x}, lambda: np_tanh_sin(x, 100)),
    ]
    for label, values, hand in cases:
        expr = nested(100) if label.startswith("100-deep") else label
        program = api.compile(expr)
        ours_result = api.grad(program, values)
        hand_result = hand()
        # The baseline must compute the same thing, or the ratio means nothing.
        np.testing.assert_allclose(ours_result.value, hand_result[0], rtol=1e-9, atol=1e-12)
        for got, want in zip(ours_result.grad.values(), hand_result[1:]):
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
        ours, base = [], []
        for _ in range(repeats):
            start = time.perf_counter()
            hand()
            base.append(time.perf_counter() - start)
            start = time.perf_counter()
            api.grad(program, values)
            ours.append(time.perf_counter() - start)
        m, b = statistics.median(ours), statistics.median(base)
        row(
            f"value+grad at {n:,} points: {label}",
            f"{m * 1e3:.1f} ms vs numpy {b * 1e3:.1f} ms",
            f"{m / b:.2f}",
            "<= 1.3",
        )


# ---------------------------------------------------------------------------------------------
CHAIN_CHILD = """
import resource, sys, time
import numpy as np
from dezero_cli.engine.core import Variable
from dezero_cli.engine.functions import Sin
n = int(sys.argv[1])
work = sys.argv[2]
g = 0.0
start = time.process_time()
if work == "engine":
    x = Variable(np.array(0.5), "x")
    y = x
    for _ in range(n):
        y = Sin()(y)
    y.backward()
    g = float(x.grad.data)
elif work == "numpy":
    # The same arithmetic with no graph: forward keeping cos, backward multiplying.
    h = np.array(0.5)
    saved = []
    for _ in range(n):
        saved.append(np.cos(h))
        h = np.sin(h)
    g = np.array(1.0)
    while saved:
        g = g * saved.pop()
    g = float(g)
elapsed = time.process_time() - start
try:  # VmHWM starts afresh at exec; ru_maxrss may carry the forking parent's peak over
    with open("/proc/self/status") as f:
        peak = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
except OSError:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(elapsed, peak, g)
"""


def run_child(code: str, *args: str, stdin: bytes | None = None) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], input=stdin, capture_output=True, check=True, env=ENV
    )
    return out.stdout.decode().split()


def bench_chain(n: int, repeats: int) -> None:
    """A chain of n sin calls built with the library API: us/op forward+backward, peak memory.

    Times are the child's CPU time (time.process_time), which other work on a shared machine
    disturbs less than wall time; the baseline does the same arithmetic with numpy alone.
    """
    idle = int(run_child(CHAIN_CHILD, "0", "none")[1])
    ours, base, mems = [], [], []
    for _ in range(repeats):
        t, _, g_base = run_child(CHAIN_CHILD, str(n), "numpy")
        base.append(float(t))
        t, rss, g = run_child(CHAIN_CHILD, str(n), "engine")
        assert g == g_base, (g, g_base)
        ours.append(float(t))
        mems.append((int(rss) - idle) / 1024)  # ru_maxrss is in KiB on Linux
    m, b = statistics.median(ours), statistics.median(base)
    row(
        f"{n:,}-op sin chain, forward+backward (CPU time)",
        f"{m / n * 1e6:.2f} us/op vs numpy-only {b / n * 1e6:.2f} us/op",
        f"{m / b:.2f}",
        "<= 12 us/op",
    )
    row(
        f"  peak memory of the {n:,}-op chain (peak RSS above idle)",
        f"{statistics.median(mems):.0f} MB",
        "-",
        "<= 400 MB",
    )


DEEP_CHILD = """
import resource, subprocess, sys, time
start = time.perf_counter()
subprocess.run(sys.argv[1:], stdin=sys.stdin, stdout=subprocess.DEVNULL, check=True)
elapsed = time.perf_counter() - start
print(elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def bench_deep(depth: int, repeats: int) -> None:
    """A depth-deep sin(sin(...)) through `dezero grad -` from stdin: seconds and peak memory."""
    text = ("sin(" * depth + "x" + ")" * depth).encode()
    dezero = dezero_command() + ["grad", "-", "--x", "0.5"]
    numpy_only = [sys.executable, "-c", "import numpy"]
    ours, base, mems, base_mems = [], [], [], []
    run_child(DEEP_CHILD, *dezero, stdin=b"x")  # warm-up
    for _ in range(repeats):
        t, rss = run_child(DEEP_CHILD, *numpy_only, stdin=b"")
        base.append(float(t))
        base_mems.append(int(rss))
        t, rss = run_child(DEEP_CHILD, *dezero, stdin=text)
        ours.append(float(t))
        mems.append(int(rss))
    m, b = statistics.median(ours), statistics.median(base)
    row(
        f"{depth:,}-deep sin(...) via `dezero grad -`",
        f"{m:.2f} s vs import numpy {b:.2f} s",
        f"{m / b:.1f}",
        "-",
    )
    row(
        f"  peak memory of the {depth:,}-deep run (maxrss; import numpy alone)",
        f"{statistics.median(mems) / 1024:.0f} MB ({statistics.median(base_mems) / 1024:.0f} MB)",
        "-",
        "-",
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats and smaller sizes")
    ap.add_argument("--only", choices=["latency", "throughput", "chain", "deep"], action="append")
    opts = ap.parse_args()
    quick = opts.quick
    only = set(opts.only or ["latency", "throughput", "chain", "deep"])
    if "latency" in only:
        bench_latency(repeats=7 if quick else 21)
    if "throughput" in only:
        bench_throughput(n=100_000 if quick else 1_000_000, repeats=5 if quick else 11)
    if "chain" in only:
        bench_chain(n=100_000 if quick else 1_000_000, repeats=1 if quick else 3)
    if "deep" in only:
        bench_deep(depth=100_000, repeats=1 if quick else 3)
    print("| benchmark | measured | ratio | target |")
    print("|---|---|---|---|")
    for name, figure, ratio, target in ROWS:
        print(f"| {name} | {figure} | {ratio} | {target} |")


if __name__ == "__main__":
    main()
