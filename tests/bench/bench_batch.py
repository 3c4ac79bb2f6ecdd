"""Benchmark `dezero batch` against hand-written scripts, as ratios measured in one run.

    python tests/bench/bench_batch.py [--rows 1000000] [--big-rows 10000000] [--repeat 5]
                                      [--parquet-rows 5000000] [--baseline DIR]
                                      [--vectors 1500] [--only native,messy,parquet,...]

0. The native path (`--only native,messy,parquet`), against scripts written with the columnar
   libraries themselves, each run a whole process, runs alternating, every ratio the median of
   the ratios of the REPEAT rounds (at least 5):
   native   N rows of `x,y` CSV in and out: `dezero batch` against a polars script
            (read_csv with float64 x and y, the value and both partials by hand in numpy,
            write_csv) and a pyarrow script doing the same (target: at most 1.5 times the
            polars script).
   messy    the same rows with a text `id` column first and one bad row in 10,000 (`abc`
            for x): against a polars script that reads every cell as text, casts x and y
            leniently (a bad cell is null), computes, and writes an error column where a value
            is null (target: at most 2 times it).
   parquet  PARQUET_ROWS rows of two float64 columns in Parquet (row groups of 131,072 rows)
            in and out: against a polars script with read_parquet and write_parquet (target:
            at most 1.3 times it).
1. Points mode: N rows of `x,y` CSV, `--expr "x*y + sin(x)/(1 + y^2)"`, CSV out. Wall time of
   `dezero batch` divided by the wall time of a numpy script doing the same job by hand
   (`numpy.loadtxt`, value and both partials written out, `numpy.savetxt` with fmt '%.17g', which
   round-trips like our repr output but is not the shortest text). Medians, runs interleaved.
   The same with a quarter of the cells written as zeros (`0.0`, `0`, `-0.0`): the fast path
   reads zeros again, to refuse an underflow such as 1e-400.
2. The same with the big file: peak memory (maxrss of the subprocess) and rows per second.
3. Records mode: 100,000 JSONL records cycling through 1,000 distinct expressions: records/s.
4. JSON Lines memory: records of 8,000-element vectors (`sum(x*x)`), VECTORS of them (1,500:
   190 MB) and a third as many, in one file each: peak memory, which should not grow with the
   file (target < 300 MB).
5. Latency (`--only latency`): one-shot `dezero grad`, which batch's libraries must not slow;
   with --baseline, against that version.

With `--baseline DIR`, a source tree of another version (`git archive main | tar -x -C DIR`),
every `dezero batch` figure is also measured for that version, runs interleaved, and reported
as a ratio (this version / baseline). Every run is a real subprocess (start-up included, for
both sides). The machine is shared, so only the ratios within one run mean much.
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


def write_points(path: str, rows: int, seed: int = 0, zeros: bool = False) -> None:
    """`x,y` rows of random numbers in shortest repr text, written in blocks; with `zeros`, a
    quarter of the cells are 0.0 (written `0.0`, or `0` and `-0.0` on some rows)."""
    rng = np.random.default_rng(seed)
    with open(path, "w") as f:
        f.write("x,y\n")
        left = rows
        while left:
            n = min(left, 200_000)
            xy = rng.uniform(-3.0, 3.0, size=(n, 2))
            if zeros:
                xy[rng.random(size=(n, 2)) < 0.25] = 0.0
            text = repr(xy.tolist())[2:-2].replace(", ", ",").replace("],[", "\n") + "\n"
            if zeros:
                text = text.replace("\n0.0,", "\n0,").replace(",0.0\n", ",-0.0\n")
            f.write(text)
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


# Commands run as a user's would: from compiled bytecode (PYTHONDONTWRITEBYTECODE is dropped,
# and PYTHONPYCACHEPREFIX points at a scratch directory, so that checkouts stay clean), each
# version's package compiled before its first run (Versions).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), f"dezero-bench-pyc-{os.getuid()}")


def timed(cmd: list[str], env: dict | None = None, cwd: str | None = None, ok=(0,)):
    """Wall seconds, peak resident memory in bytes, and CPU seconds of one subprocess.

    CPU time (user + system) suffers less than wall time when other jobs share the machine.
    """
    env = ENV if env is None else env
    proc = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *cmd], capture_output=True, text=True, check=False,
        env=env, cwd=cwd,
    )  # fmt: skip
    wall, rss, cpu, code = proc.stdout.split()
    if int(code) not in ok:
        raise SystemExit(f"{' '.join(cmd)} failed ({code})")
    return float(wall), int(rss), float(cpu)


def check_same(ours: str, theirs: str) -> float:
    """Largest relative difference between the two outputs' numbers (a sanity check)."""
    a = np.loadtxt(ours, delimiter=",", skiprows=1, usecols=(0, 1, 2, 3, 4), max_rows=100_000)
    b = np.loadtxt(theirs, delimiter=",", skiprows=1, max_rows=100_000)
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b))))


class Versions:
    """This version of dezero and, with --baseline, another one: commands and environments."""

    def __init__(self, baseline: str | None):
        self.runs = {"this": (dezero_command(), None, None)}
        compile_package(ENV, None)
        if baseline:
            # Run from the baseline's folder too: `python -m` puts the working directory first
            # on the path, so run from a checkout it would import that checkout instead.
            folder = os.path.abspath(baseline)
            env = {**ENV, "PYTHONPATH": folder}
            self.runs["baseline"] = ([sys.executable, "-m", "dezero_cli"], env, folder)
            compile_package(env, folder)

    def measure(self, args: list[str], repeat: int, extra: dict | None = None) -> dict:
        """Median (wall, rss, cpu) of each version (and of each `extra` command), interleaved."""
        got: dict[str, list] = {}
        for _ in range(repeat):
            for name, (cmd, env, cwd) in self.runs.items():
                got.setdefault(name, []).append(timed([*cmd, *args], env, cwd))
            for name, cmd in (extra or {}).items():
                got.setdefault(name, []).append(timed(cmd))
        return {
            name: tuple(statistics.median(run[k] for run in runs) for k in range(3))
            for name, runs in got.items()
        }


def compile_package(env: dict, cwd: str | None) -> None:
    """Compile the dezero_cli that `env` run from `cwd` imports, into the bytecode cache."""
    find = "import dezero_cli, os; print(os.path.dirname(dezero_cli.__file__))"
    where = subprocess.run(
        [sys.executable, "-c", find],
        env=env, cwd=cwd or tempfile.gettempdir(), capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    subprocess.run([sys.executable, "-m", "compileall", "-q", where], env=env, check=True)


def ratio_line(label: str, result: dict, k: int = 2) -> str:
    """`label`, then this version's figure k (0 wall, 1 memory, 2 CPU) over the baseline's."""
    return f"  {label:36} {result['this'][k] / result['baseline'][k]:8.3f}"


def bench_points(versions: Versions, tmp: str, args, zeros: bool = False) -> None:
    points = os.path.join(tmp, "points.csv")
    write_points(points, args.rows, zeros=zeros)
    baseline = os.path.join(tmp, "baseline.py")
    with open(baseline, "w") as f:
        f.write(BASELINE)
    ours_out, theirs_out = os.path.join(tmp, "ours.csv"), os.path.join(tmp, "theirs.csv")
    theirs_cmd = [sys.executable, baseline, points, theirs_out]
    result = versions.measure(
        ["batch", "--expr", EXPR, points, "-o", ours_out], args.repeat, {"numpy": theirs_cmd}
    )
    (t_ours, _, c_ours), (t_theirs, _, c_theirs) = result["this"], result["numpy"]
    what = "a quarter of the cells zeros" if zeros else "CSV in and out"
    print(f"points, {args.rows:,} rows, {what} (median of {args.repeat}):")
    print(f"  numpy by hand (loadtxt/savetxt %.17g) {t_theirs:8.3f} s")
    print(f"  dezero batch                         {t_ours:8.3f} s")
    print(f"  ratio dezero / numpy, wall time      {t_ours / t_theirs:8.3f}  (target <= 1.0)")
    print(
        f"  ratio dezero / numpy, CPU time       {c_ours / c_theirs:8.3f}  "
        f"({c_ours:.2f} s / {c_theirs:.2f} s)"
    )
    if "baseline" in result:
        t_base, _, c_base = result["baseline"]
        print(
            f"  baseline / numpy, wall and CPU       {t_base / t_theirs:8.3f} "
            f"{c_base / c_theirs:6.3f}"
        )
        print(ratio_line("this / baseline, wall time", result, 0))
        print(ratio_line("this / baseline, CPU time", result))
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


def bench_big(versions: Versions, tmp: str, args) -> None:
    big = os.path.join(tmp, "big.csv")
    write_points(big, args.big_rows, seed=2)
    result = versions.measure(["batch", "--expr", EXPR, big, "-o", os.devnull], 1)
    wall, rss, _ = result["this"]
    size = os.path.getsize(big) / 1e6
    print(f"points, {args.big_rows:,} rows ({size:.0f} MB), CSV in, CSV to /dev/null:")
    print(
        f"  wall {wall:.2f} s, {args.big_rows / wall:,.0f} rows/s, "
        f"peak memory {rss / 2**20:.0f} MiB (target < 250 MB)"
    )
    if "baseline" in result:
        wall_b, rss_b, _ = result["baseline"]
        print(f"  baseline: wall {wall_b:.2f} s, peak memory {rss_b / 2**20:.0f} MiB")
    os.remove(big)


def bench_records(versions: Versions, tmp: str, args) -> None:
    records = os.path.join(tmp, "records.jsonl")
    write_records(records, args.records, args.distinct)
    result = versions.measure(["batch", records, "-o", os.devnull], args.repeat)
    wall, rss, cpu = result["this"]
    print(f"records, {args.records:,} JSONL records, {args.distinct:,} distinct expressions:")
    print(
        f"  wall {wall:.2f} s, {args.records / wall:,.0f} records/s (target >= 60,000), "
        f"CPU {cpu:.2f} s, peak memory {rss / 2**20:.0f} MiB"
    )
    if "baseline" in result:
        wall_b, rss_b, cpu_b = result["baseline"]
        print(
            f"  baseline: wall {wall_b:.2f} s, {args.records / wall_b:,.0f} records/s, "
            f"CPU {cpu_b:.2f} s, peak memory {rss_b / 2**20:.0f} MiB"
        )
        print(ratio_line("this / baseline, CPU time", result))
    os.remove(records)


def write_vectors(path: str, records: int, size: int = 8000, seed: int = 3) -> None:
    """JSONL records of `size`-element vectors, each for `sum(x*x)`."""
    rng = np.random.default_rng(seed)
    with open(path, "w") as out:
        for i in range(records):
            x = rng.uniform(-1.0, 1.0, size=size).tolist()
            out.write(json.dumps({"id": i, "expr": "sum(x*x)", "x": x}) + "\n")


def bench_vectors(versions: Versions, tmp: str, args) -> None:
    print("JSON Lines memory, records of 8,000-element vectors, `sum(x*x)`, to /dev/null:")
    for n in (max(1, args.vectors // 3), args.vectors):
        path = os.path.join(tmp, "vectors.jsonl")
        write_vectors(path, n)
        result = versions.measure(["batch", path, "-o", os.devnull], 1)
        size = os.path.getsize(path) / 1e6
        line = f"  {n:6,} records ({size:4.0f} MB):"
        for name, (wall, rss, _) in result.items():
            line += f"  {name} {rss / 2**20:5.0f} MiB in {wall:5.1f} s"
        if "baseline" in result:
            line += f"  (memory this / baseline {result['this'][1] / result['baseline'][1]:.3f})"
        print(line + "  (target < 300 MB)")
        os.remove(path)


POLARS_SCRIPT = """
import sys
import numpy as np
import polars as pl

df = pl.read_csv(sys.argv[1], schema_overrides={"x": pl.Float64, "y": pl.Float64})
x, y = df["x"].to_numpy(), df["y"].to_numpy()
q = 1.0 + y * y
s = np.sin(x)
df.with_columns(
    value=x * y + s / q, grad_x=y + np.cos(x) / q, grad_y=x - 2.0 * y * s / q**2,
    error=pl.lit(None, pl.String),
).write_csv(sys.argv[2])
"""

POLARS_LENIENT = """
import sys
import numpy as np
import polars as pl

df = pl.read_csv(sys.argv[1], infer_schema=False)  # every cell as text, passed through
xs = df["x"].cast(pl.Float64, strict=False)
ys = df["y"].cast(pl.Float64, strict=False)
x, y = xs.to_numpy(), ys.to_numpy()
q = 1.0 + y * y
s = np.sin(x)
bad = xs.is_null() | ys.is_null()
df.with_columns(
    value=x * y + s / q, grad_x=y + np.cos(x) / q, grad_y=x - 2.0 * y * s / q**2,
    error=pl.when(bad).then(pl.lit("not a number")).otherwise(pl.lit(None, pl.String)),
).write_csv(sys.argv[2])
"""

PYARROW_SCRIPT = """
import sys
import numpy as np
import pyarrow as pa
import pyarrow.csv as csv

types = {"x": pa.float64(), "y": pa.float64()}
table = csv.read_csv(sys.argv[1], convert_options=csv.ConvertOptions(column_types=types))
x, y = table["x"].to_numpy(), table["y"].to_numpy()
q = 1.0 + y * y
s = np.sin(x)
for name, col in (("value", x * y + s / q), ("grad_x", y + np.cos(x) / q),
                  ("grad_y", x - 2.0 * y * s / q**2)):
    table = table.append_column(name, pa.array(col))
table = table.append_column("error", pa.nulls(len(x), pa.string()))
csv.write_csv(table, sys.argv[2])
"""

POLARS_PARQUET = """
import sys
import numpy as np
import polars as pl

df = pl.read_parquet(sys.argv[1])
x, y = df["x"].to_numpy(), df["y"].to_numpy()
q = 1.0 + y * y
s = np.sin(x)
df.with_columns(
    value=x * y + s / q, grad_x=y + np.cos(x) / q, grad_y=x - 2.0 * y * s / q**2,
    error=pl.lit(None, pl.String),
).write_parquet(sys.argv[2])
"""


def write_messy(path: str, rows: int, seed: int = 4, every: int = 10_000) -> None:
    """`id,x,y` rows (ids `r0`, `r1`, ...), x replaced by `abc` on one row in `every`."""
    rng = np.random.default_rng(seed)
    with open(path, "w") as f:
        f.write("id,x,y\n")
        start = 0
        while start < rows:
            n = min(rows - start, 200_000)
            xy = rng.uniform(-3.0, 3.0, size=(n, 2)).tolist()
            lines = []
            for k, (x, y) in enumerate(xy, start):
                cell = "abc" if k % every == every // 2 else repr(x)
                lines.append(f"r{k},{cell},{y!r}\n")
            f.write("".join(lines))
            start += n


def write_parquet(path: str, rows: int, seed: int = 5, group: int = 131_072) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    schema = pa.schema([("x", pa.float64()), ("y", pa.float64())])
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, rows, group):
            n = min(group, rows - start)
            xy = rng.uniform(-3.0, 3.0, size=(2, n))
            writer.write_table(pa.table({"x": xy[0], "y": xy[1]}, schema=schema))


def rounds(commands: dict[str, list[str]], repeat: int, ok=(0,)) -> dict[str, list[tuple]]:
    """Each command `repeat` times, alternating: (wall, rss, cpu) of every run."""
    runs: dict[str, list[tuple]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, cmd in commands.items():
            runs[name].append(timed(cmd, ok=ok))
    return runs


def report(runs: dict[str, list[tuple]], against: str, target: float | None) -> None:
    """Median wall, CPU and memory of each command, and the median of the per-round wall
    ratios against `against`."""
    base = runs[against]
    for name, got in runs.items():
        ratios = [a[0] / b[0] for a, b in zip(got, base)]
        cpu = [a[2] / b[2] for a, b in zip(got, base)]
        wall = statistics.median(r[0] for r in got)
        rss = statistics.median(r[1] for r in got) / 2**20
        note = ""
        if name.startswith("dezero") and target is not None:
            verdict = "met" if statistics.median(ratios) <= target else "MISSED"
            note = f"  (target <= {target}: {verdict})"
        print(
            f"  {name:34} wall {wall:7.3f} s  ratio {statistics.median(ratios):6.3f} "
            f"[{min(ratios):.3f}-{max(ratios):.3f}]  CPU ratio {statistics.median(cpu):6.3f}  "
            f"peak {rss:5.0f} MiB{note}"
        )
    print(
        f"  (ratios: median over {len(base)} alternating rounds of each run / {against}'s run "
        f"of that round; load average now {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores)"
    )


def script(tmp: str, name: str, text: str) -> str:
    path = os.path.join(tmp, f"script_{name}.py")  # not polars.py: it would import itself
    with open(path, "w") as f:
        f.write(text)
    return path


def same_numbers(ours: str, theirs: str, columns: int = 5) -> float:
    """Largest relative difference of the numbers of the first rows (a sanity check)."""
    a = np.genfromtxt(ours, delimiter=",", skip_header=1, max_rows=50_000)[:, -1 - columns : -1]
    b = np.genfromtxt(theirs, delimiter=",", skip_header=1, max_rows=50_000)[:, -1 - columns : -1]
    both = np.isfinite(a) & np.isfinite(b)
    return float(np.max(np.abs(a[both] - b[both]) / np.maximum(1.0, np.abs(b[both]))))


def bench_native(tmp: str, args, messy: bool = False) -> None:
    points = os.path.join(tmp, "native.csv")
    if messy:
        write_messy(points, args.rows)
    else:
        write_points(points, args.rows)
    py = sys.executable
    out = {k: os.path.join(tmp, f"{k}.csv") for k in ("dezero", "polars", "pyarrow")}
    polars = script(tmp, "polars_lenient" if messy else "polars", POLARS_LENIENT if messy
                    else POLARS_SCRIPT)  # fmt: skip
    commands = {
        "polars script": [py, polars, points, out["polars"]],
        "dezero batch": [*dezero_command(), "batch", "--expr", EXPR, points, "-o", out["dezero"]],
    }
    if not messy:
        commands["pyarrow script"] = [py, script(tmp, "pyarrow", PYARROW_SCRIPT), points,
                                      out["pyarrow"]]  # fmt: skip
    what = "id,x,y with one bad row in 10,000" if messy else "x,y"
    print(f"native path: {args.rows:,} rows of {what} CSV ({os.path.getsize(points) / 1e6:.1f} "
          f"MB) in and out, {args.repeat} rounds:")  # fmt: skip
    runs = rounds(commands, args.repeat, ok=(0, 1) if messy else (0,))  # 1: rows failed
    report(runs, "polars script", 2.0 if messy else 1.5)
    diff = same_numbers(out["dezero"], out["polars"], 3)
    print(f"  max relative difference to polars    {diff:8.1e}")
    for path in (*out.values(), points):
        if os.path.exists(path):
            os.remove(path)


def bench_parquet(tmp: str, args) -> None:
    import pyarrow.parquet as pq

    source = os.path.join(tmp, "points.parquet")
    write_parquet(source, args.parquet_rows)
    ours, theirs = os.path.join(tmp, "ours.parquet"), os.path.join(tmp, "theirs.parquet")
    commands = {
        "polars script": [sys.executable, script(tmp, "polars_parquet", POLARS_PARQUET), source,
                          theirs],
        "dezero batch": [*dezero_command(), "batch", "--expr", EXPR, source, "-o", ours],
    }  # fmt: skip
    groups = pq.ParquetFile(source).metadata.num_row_groups
    print(f"Parquet: {args.parquet_rows:,} rows of x,y float64 ({groups} row groups, "
          f"{os.path.getsize(source) / 1e6:.0f} MB) in and out, {args.repeat} rounds:")  # fmt: skip
    runs = rounds(commands, args.repeat)
    report(runs, "polars script", 1.3)
    a, b = pq.read_table(ours), pq.read_table(theirs)
    diff = 0.0
    for c in ("value", "grad_x", "grad_y"):
        u, v = a[c].to_numpy(), b[c].to_numpy()
        diff = max(diff, float(np.nanmax(np.abs(u - v) / np.maximum(1.0, np.abs(v)))))
    print(f"  max relative difference to polars    {diff:8.1e}; output "
          f"{os.path.getsize(ours) / 1e6:.0f} MB ({pq.ParquetFile(ours).metadata.num_row_groups} "
          f"row groups), polars's {os.path.getsize(theirs) / 1e6:.0f} MB")  # fmt: skip
    for path in (ours, theirs, source):
        os.remove(path)


def bench_latency(versions: Versions, args) -> None:
    """One-shot `dezero grad`, which must not pay for batch's libraries: with --baseline, this
    version against the other, runs interleaved."""
    argv = ["grad", "square(exp(square(x)))", "--x", "0.5"]
    versions.measure(argv, 1)  # warm-up: bytecode compiled, files in the page cache
    repeat = max(20, 4 * args.repeat)
    result = versions.measure(argv, repeat)
    wall, _, cpu = result["this"]
    print(f"one-shot `dezero {' '.join(argv)}`, median of {repeat}:")
    print(f"  wall {wall * 1e3:.0f} ms, CPU {cpu * 1e3:.0f} ms")
    if "baseline" in result:
        wall_b, _, cpu_b = result["baseline"]
        print(f"  baseline: wall {wall_b * 1e3:.0f} ms, CPU {cpu_b * 1e3:.0f} ms")
        print(ratio_line("this / baseline, wall time", result, 0))
        print(ratio_line("this / baseline, CPU time", result))


SECTIONS = (
    "native", "messy", "parquet", "points", "zeros", "big", "records", "vectors", "latency"
)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--big-rows", type=int, default=10_000_000)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--distinct", type=int, default=1_000)
    parser.add_argument("--vectors", type=int, default=1_500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--parquet-rows", type=int, default=5_000_000)
    parser.add_argument("--baseline", metavar="DIR", help="source tree of another version")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    args = parser.parse_args()
    versions = Versions(args.baseline)
    if args.baseline:  # check that each side runs the version it should
        for name, (_, env, cwd) in versions.runs.items():
            where = subprocess.run(
                [sys.executable, "-c", "import dezero_cli; print(dezero_cli.__file__)"],
                env=env, cwd=cwd, capture_output=True, text=True, check=True,
            ).stdout.strip()  # fmt: skip
            print(f"{name}: {os.path.dirname(where)}")
    only = args.only.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        if "native" in only:
            bench_native(tmp, args)
        if "messy" in only:
            bench_native(tmp, args, messy=True)
        if "parquet" in only:
            bench_parquet(tmp, args)
        if "points" in only:
            bench_points(versions, tmp, args)
        if "zeros" in only:
            bench_points(versions, tmp, args, zeros=True)
        if "big" in only and args.big_rows:
            bench_big(versions, tmp, args)
        if "records" in only:
            bench_records(versions, tmp, args)
        if "vectors" in only and args.vectors:
            bench_vectors(versions, tmp, args)
        if "latency" in only:
            bench_latency(versions, args)


if __name__ == "__main__":
    main()
