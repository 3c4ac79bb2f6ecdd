"""Measure a columnar fast path for `dezero batch`: polars against pyarrow, ratios in one run.

    python tests/bench/bench_columnar.py [--rows 1000000] [--parquet-rows 5000000] [--repeat 5]
                                         [--records 100000] [--sections csv,block,...]

Sections (all by default):

csv      The whole job as separate processes: N rows of `x,y` CSV (repr text), the value and
         gradient of x*y + sin(x)/(1 + y^2) (derivatives by hand), CSV out. polars and pyarrow
         reading and writing whole files, the same two parsing and formatting 1 MiB blocks the
         way batch streams (numbers spelled exactly as Python's repr), the current pure-Python
         block approach with the same hand derivatives, against `dezero batch` as the baseline.
block    In-process cost per 1 MiB block of CSV lines: (i) split into string columns, (ii) cast
         to float64 and find the cells that need a second look, (iii) format floats as repr
         would and build the output bytes. Baseline: the current pure-Python approach.
spell    How each library spells floats, against repr, and whether the normalisation used by the
         block approach gives repr exactly on a large random sample.
cast     What each library's string -> float64 cast does with awkward cells, next to
         `dezero_cli.api.parse_value` (the rules batch must keep).
reader   What each CSV reader does with quotes, CRLF, NUL, ragged rows, blank lines, a BOM.
parquet  5M rows of two floats: row groups streamed in and out (pyarrow with its defaults and
         tuned, polars) against the all-in-memory polars read_parquet / write_parquet script.
         Wall time and peak memory.
import   Import time of each library (wall of a whole `python -c "import ..."`) and its size
         on disk with its dependencies.
json     JSON Lines: records per second for json, orjson and msgspec, and which of them keep the
         exactness rules (big integers, 1e400, duplicate keys, NaN).

Processes are timed with wall time, CPU time (user + system) and peak RSS; runs alternate so
drifting load hits every contender alike, and the median is reported. The machine is shared,
so only ratios within one run mean much.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import io
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator

import numpy as np

EXPR = "x*y + sin(x)/(1 + y^2)"
BLOCK_BYTES = 1 << 20
OUT_NAMES = ["value", "grad_x", "grad_y"]
SECTIONS = ("csv", "block", "spell", "cast", "reader", "parquet", "import", "json")

# Cells `dezero batch` must judge exactly as `dezero grad --x CELL` does.
CAST_CELLS = [
    "1e400", "1e-400", "infinity", "Inf", "inf", "nan", "NaN", "0x10", "1_000", "+1", "-0.0",
    "5e-324", " 1", "1 ", "1.", ".5", "1e5", "\uff11", "", "-inf", "+nan", "INFINITY", "1E5",
    "1d5", "e5", "1e", "\t1", "1\x00", "1e-320", "2.4703282292062328e-324",
    "2.4703282292062327e-324", "1.7976931348623158e308", "1.7976931348623159e308",
    "9007199254740993", "0.1000000000000000055511151231257827021181583404541015625",
    "2.2250738585072011e-308",
]  # fmt: skip

SPELL_VALUES = [
    1.5e-07, 1e-05, 1e16, 1e22, 123456789012345680.0, 0.1, -0.0, 5e-324, math.nan, math.inf,
    1.0, 100.0, 1e300, 1e-4, 1e15, 1e10, 2.5e-06, -1.5e-07,
]  # fmt: skip

READER_CASES = {
    "CRLF": b"1,2\r\n3,4\r\n",
    "quoted": b'"1",2\n"3,5",4\n',
    "quote inside": b'1"x,2\n3,4\n',
    "unclosed quote": b'"1,2\n3,4\n',
    "short row": b"1,2\n3\n5,6\n",
    "short first row": b"3\n1,2\n",
    "long row": b"1,2\n3,4,5\n5,6\n",
    "blank line": b"1,2\n\n5,6\n",
    "spaces line": b"1,2\n  \n5,6\n",
    "NUL": b"1\x00,2\n3,4\n",
    "bare CR": b"1\r2,2\n3,4\n",
    "CR CRLF": b"1,2\r\r\n3,4\n",
    "empty cells": b",\n3,4\n",
    "BOM first": b"\xef\xbb\xbf1,2\n3,4\n",
    "BOM later": b"1,2\n\xef\xbb\xbf3,4\n",
    "not UTF-8": b"\xff,2\n3,4\n",
    "# comment": b"#1,2\n3,4\n",
}

JSON_CASES = {
    "int 1e30": b'{"x": 1000000000000000000000000000000}',
    "int 2**64": b'{"x": 18446744073709551616}',
    "int -2**63-1": b'{"x": -9223372036854775809}',
    "1e400": b'{"x": 1e400}',
    "1e-400": b'{"x": 1e-400}',
    "duplicate key": b'{"x": 1, "x": 2}',
    "NaN": b'{"x": NaN}',
    "Infinity": b'{"x": Infinity}',
    "-0": b'{"x": -0}',
    "0.1 (55 digits)": b'{"x": 0.1000000000000000055511151231257827021181583404541015625}',
    "lone surrogate": b'{"x": "\\ud800"}',
    "nested 2000": b"[" * 2000 + b"]" * 2000,
    "trailing comma": b'{"x": 1,}',
}


# Data ---------------------------------------------------------------------------------------


def points_text(rows: int, seed: int = 0) -> Iterator[str]:
    """`x,y` lines of random numbers in shortest repr text, in pieces."""
    rng = np.random.default_rng(seed)
    left = rows
    while left:
        n = min(left, 200_000)
        xy = rng.uniform(-3.0, 3.0, size=(n, 2))
        yield repr(xy.tolist())[2:-2].replace(", ", ",").replace("],[", "\n") + "\n"
        left -= n


def write_points(path: str, rows: int, seed: int = 0) -> None:
    with open(path, "w") as f:
        f.write("x,y\n")
        for piece in points_text(rows, seed):
            f.write(piece)


def one_block(text: str) -> bytes:
    """The first BLOCK_BYTES of `text`, cut after the last whole line."""
    data = text.encode()
    return data[: data.rfind(b"\n", 0, BLOCK_BYTES) + 1]


def awkward_numbers(n: int, seed: int = 3) -> np.ndarray:
    """Floats over the whole range and integral values, where spellings differ most."""
    rng = np.random.default_rng(seed)
    mantissa = rng.uniform(1.0, 10.0, n) * rng.choice([-1.0, 1.0], n)
    exponent = rng.integers(-12, 20, n).astype(np.float64)
    values = mantissa * 10.0**exponent
    values[::4] = np.round(values[::4])
    values[1::8] = np.round(rng.uniform(-1e6, 1e6, values[1::8].size))
    return values


def spelling_sample(n: int = 300_000, seed: int = 4) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mantissa = rng.uniform(1.0, 10.0, n) * rng.choice([-1.0, 1.0], n)
    exponent = rng.integers(-325, 309, n).astype(np.float64)
    with np.errstate(all="ignore"):
        wide = mantissa * 10.0**exponent
    extra = [0.0, -0.0, 5e-324, 1e-05, 1e-4, 1e15, 1e16, 1e10, 2.5e-06, 1.7976931348623157e308]
    values = np.concatenate([wide, awkward_numbers(n), rng.uniform(-3, 3, n), extra])
    return values[np.isfinite(values)]


def derive(x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """Value and gradient of x*y + sin(x)/(1 + y^2), by hand."""
    q = 1.0 + y**2
    s = np.sin(x)
    return [x * y + s / q, y + np.cos(x) / q, x - 2.0 * y * s / q**2]


# Block approaches ---------------------------------------------------------------------------
#
# Each approach parses a block of whole CSV lines (no header) into string columns, casts the
# variables' columns to float64, and formats result columns after the input line. `parse`
# returns None, and `floats` returns suspects, where batch must fall back to its Python path:
# the fallback itself is not measured (the data here is clean).

NUMBER_RE = (  # what parse_value accepts, but no surrounding spaces (those go to Python)
    r"^[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[iI][nN][fF]|[nN][aA][nN])$"
)


def _unsafe(block: bytes) -> bool:
    """Bytes a columnar reader treats differently from batch: quotes, stray CRs, a BOM."""
    return (
        b'"' in block
        or b"\xef\xbb\xbf" in block
        or (b"\r" in block and block.count(b"\r") != block.count(b"\r\n"))
    )


class PythonBlocks:
    """Today's approach (batch's `_lines`, `_split`, `_column`, `_points_fast` on clean data)."""

    name = "python"

    def parse(self, block: bytes, names: list[str]):
        lines = block.decode("utf-8").split("\n")
        lines.pop()
        if b"\r" in block:
            lines = [line[:-1] if line.endswith("\r") else line for line in lines]
        ncols = len(names)
        flat = ",".join(lines).split(",")
        if len(flat) != ncols * len(lines):
            return None
        return lines, [flat[j::ncols] for j in range(ncols)]

    def floats(self, table, j: int) -> tuple[np.ndarray, np.ndarray]:
        texts = table[1][j]
        try:
            col = np.array(texts, dtype=np.float64)
        except ValueError:
            return np.zeros(len(texts)), np.arange(len(texts))
        # Zeros as well as inf and nan get a second look: 1e-400 underflows to 0 silently.
        return col, np.flatnonzero(~np.isfinite(col) | (col == 0.0))

    def format(self, table, numbers: list[np.ndarray]) -> bytes:
        matrix = np.column_stack(numbers)
        text = repr(matrix.tolist())[2:-2].replace(", ", ",").replace("],[", ",\n,")
        cells = ("," + text + ",").split("\n")
        finite = np.isfinite(matrix)
        if not finite.all():
            for i in np.flatnonzero(~finite.all(axis=1)).tolist():
                row = (repr(x) if math.isfinite(x) else "" for x in matrix[i].tolist())
                cells[i] = "," + ",".join(row) + ","
        return ("\n".join(map(str.__add__, table[0], cells)) + "\n").encode()


class PolarsBlocks:
    name = "polars"

    def __init__(self):
        import polars as pl

        self.pl = pl

    def parse(self, block: bytes, names: list[str]):
        pl = self.pl
        if _unsafe(block):
            return None
        try:
            df = pl.read_csv(
                block, has_header=False, new_columns=names, infer_schema=False, quote_char=None
            )
        except (pl.exceptions.PolarsError, ValueError):  # ragged, not UTF-8, ...
            return None
        # A short row is padded with nulls and a blank line is a row of nulls: fall back.
        if df.height != block.count(b"\n") or any(df.null_count().row(0)):
            return None
        return df

    def floats(self, df, j: int) -> tuple[np.ndarray, np.ndarray]:
        col = df.to_series(j).cast(self.pl.Float64, strict=False)  # failures become null
        values = col.fill_null(math.nan).to_numpy()
        return values, np.flatnonzero(~np.isfinite(values) | (values == 0.0))

    def spell(self, values: np.ndarray):
        """Strings as repr spells them; non-finite numbers as empty cells, as batch writes."""
        pl = self.pl
        text = pl.Series(values).cast(pl.Utf8)
        magnitude = np.abs(values)
        small = np.flatnonzero((magnitude < 1e-4) & (magnitude > 0.0))
        if small.size:  # 1e-05..1e-04 written out in full; exponents without a leading 0
            fixed = (
                text.gather(small)
                .str.replace(r"e-(\d)$", "e-0${1}")
                .str.replace(r"^(-?)0\.0000([1-9])$", "${1}${2}e-05")
                .str.replace(r"^(-?)0\.0000([1-9])(\d+)$", "${1}${2}.${3}e-05")
            )
            text = text.scatter(small, fixed)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            text = text.scatter(bad, "")
        return text

    def format(self, df, numbers: list[np.ndarray]) -> bytes:
        pl = self.pl
        numbers = [self.spell(a).alias(f"_{k}") for k, a in enumerate(numbers)]
        line = df.hstack(numbers).select(pl.concat_str(pl.all(), pl.lit(""), separator=","))
        line = line.to_series()
        return (line.str.join("\n").item() + "\n").encode()


class ArrowBlocks:
    name = "pyarrow"

    def __init__(self):
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.csv as pacsv

        self.pa, self.pc, self.csv = pa, pc, pacsv

    def parse(self, block: bytes, names: list[str]):
        pa, csv = self.pa, self.csv
        if _unsafe(block):
            return None
        try:
            table = csv.read_csv(
                io.BytesIO(block),
                read_options=csv.ReadOptions(column_names=names),
                parse_options=csv.ParseOptions(quote_char=False, ignore_empty_lines=False),
                convert_options=csv.ConvertOptions(
                    column_types={name: pa.string() for name in names}, strings_can_be_null=False
                ),
            )
        except pa.ArrowInvalid:  # ragged, not UTF-8, ...
            return None
        if table.num_rows != block.count(b"\n"):
            return None
        return table.combine_chunks()

    def floats(self, table, j: int) -> tuple[np.ndarray, np.ndarray]:
        pa, pc = self.pa, self.pc
        col = table.column(j)
        try:
            values = pc.cast(col, pa.float64()).to_numpy()
            return values, np.flatnonzero(~np.isfinite(values) | (values == 0.0))
        except pa.ArrowInvalid:  # no lenient cast: validate, then cast what is valid
            valid = pc.match_substring_regex(col, NUMBER_RE)
            values = pc.cast(pc.if_else(valid, col, "nan"), pa.float64()).to_numpy()
            bad = np.asarray(pc.invert(valid))
            return values, np.flatnonzero(bad | ~np.isfinite(values) | (values == 0.0))

    def spell(self, values: np.ndarray):
        pa, pc = self.pa, self.pc
        text = pc.cast(pa.array(values), pa.string())
        magnitude = np.abs(values)
        # Spelled apart from repr: no ".0" on integral values, 1e-06..1e-04 written out, 1e10..1e16
        # in exponent form, exponents without a leading 0. Those cells go through repr.
        odd = (
            ~np.isfinite(values)
            | ((magnitude < 1e-4) & (magnitude > 0.0))
            | ((magnitude >= 1e10) & (magnitude < 1e16))
            | (values == np.trunc(values))
        )
        where = np.flatnonzero(odd)
        if where.size:
            fixed = [repr(x) if math.isfinite(x) else "" for x in values[where].tolist()]
            text = pc.replace_with_mask(text, pa.array(odd), pa.array(fixed, pa.string()))
        return text

    def format(self, table, numbers: list[np.ndarray]) -> bytes:
        pc = self.pc
        columns = [*table.columns, *(self.spell(a) for a in numbers)]
        line = pc.binary_join_element_wise(*columns, "\n", ",")  # x,y,value,...,grad_y,\n
        line = line.combine_chunks() if hasattr(line, "combine_chunks") else line
        offsets = np.frombuffer(line.buffers()[1], dtype=np.int32)
        start, stop = offsets[line.offset], offsets[line.offset + len(line)]
        return line.buffers()[2][start:stop].to_pybytes()


APPROACHES: dict[str, Callable[[], object]] = {
    "python": PythonBlocks,
    "polars": PolarsBlocks,
    "pyarrow": ArrowBlocks,
}


def read_blocks(f) -> Iterator[bytes]:
    """Blocks of whole lines (the stream reader batch uses, without its long-line cap)."""
    while True:
        block = f.read(BLOCK_BYTES)
        if not block:
            return
        if not block.endswith(b"\n"):
            block += f.readline()
            if not block.endswith(b"\n"):
                block += b"\n"
        yield block


def run_blocks(kind: str, src: str, dst: str) -> None:
    """Whole-process job: the block approach `kind` over a file, as batch would stream it."""
    approach = APPROACHES[kind]()
    with open(src, "rb") as f, open(dst, "wb") as out:
        header = f.readline().rstrip(b"\r\n")
        names = header.decode("utf-8-sig").split(",")
        var = [names.index("x"), names.index("y")]
        out.write(header + b"," + ",".join([*OUT_NAMES, "error"]).encode() + b"\n")
        for block in read_blocks(f):
            table = approach.parse(block, names)
            if table is None:
                raise SystemExit("this block needs the Python fallback, which is not measured")
            (x, bad_x), (y, bad_y) = (approach.floats(table, j) for j in var)
            if bad_x.size or bad_y.size:
                raise SystemExit("cells need a second look, which is not measured")
            out.write(approach.format(table, derive(x, y)))


# Whole-job scripts --------------------------------------------------------------------------

POLARS_WHOLE = """
import sys
import polars as pl
from bench_columnar import derive

df = pl.read_csv(sys.argv[1], schema={"x": pl.Float64, "y": pl.Float64})
value, gx, gy = derive(df["x"].to_numpy(), df["y"].to_numpy())
df.with_columns(value=value, grad_x=gx, grad_y=gy).write_csv(sys.argv[2])
"""

ARROW_WHOLE = """
import sys
import pyarrow as pa
import pyarrow.csv as csv
from bench_columnar import derive

types = {"x": pa.float64(), "y": pa.float64()}
table = csv.read_csv(sys.argv[1], convert_options=csv.ConvertOptions(column_types=types))
value, gx, gy = derive(table["x"].to_numpy(), table["y"].to_numpy())
for name, col in zip(("value", "grad_x", "grad_y"), (value, gx, gy)):
    table = table.append_column(name, pa.array(col))
csv.write_csv(table, sys.argv[2])
"""

BLOCKS = """
import sys
from bench_columnar import run_blocks

run_blocks(sys.argv[1], sys.argv[2], sys.argv[3])
"""

PARQUET = {
    "polars read/write_parquet (all in memory)": """
import sys
import polars as pl
from bench_columnar import derive

df = pl.read_parquet(sys.argv[1])
value, gx, gy = derive(df["x"].to_numpy(), df["y"].to_numpy())
df.with_columns(value=value, grad_x=gx, grad_y=gy).write_parquet(sys.argv[2])
""",
    "pyarrow iter_batches + ParquetWriter, defaults": """
import sys
import pyarrow as pa
import pyarrow.parquet as pq
from bench_columnar import derive

names = ["x", "y", "value", "grad_x", "grad_y"]
schema = pa.schema([(name, pa.float64()) for name in names])
with pq.ParquetWriter(sys.argv[2], schema, compression="zstd") as writer:
    for batch in pq.ParquetFile(sys.argv[1]).iter_batches(batch_size=65536):
        x, y = batch.column(0).to_numpy(), batch.column(1).to_numpy()
        writer.write_batch(pa.record_batch([x, y, *derive(x, y)], schema=schema))
""",
    "pyarrow, pre_buffer=False use_dictionary=False": """
import sys
import pyarrow as pa
import pyarrow.parquet as pq
from bench_columnar import derive

names = ["x", "y", "value", "grad_x", "grad_y"]
schema = pa.schema([(name, pa.float64()) for name in names])
with pq.ParquetWriter(sys.argv[2], schema, compression="zstd", use_dictionary=False) as writer:
    for batch in pq.ParquetFile(sys.argv[1], pre_buffer=False).iter_batches(batch_size=65536):
        x, y = batch.column(0).to_numpy(), batch.column(1).to_numpy()
        writer.write_batch(pa.record_batch([x, y, *derive(x, y)], schema=schema))
""",
    "polars collect_batches + pyarrow ParquetWriter": """
import sys
import polars as pl
import pyarrow.parquet as pq
from bench_columnar import derive

writer = None
for df in pl.scan_parquet(sys.argv[1]).collect_batches(chunk_size=65536):
    value, gx, gy = derive(df["x"].to_numpy(), df["y"].to_numpy())
    table = df.with_columns(value=value, grad_x=gx, grad_y=gy).to_arrow()
    options = {"compression": "zstd", "use_dictionary": False}
    writer = writer or pq.ParquetWriter(sys.argv[2], table.schema, **options)
    writer.write_table(table)
writer.close()
""",
    "polars scan_parquet.map_batches.sink_parquet": """
import sys
import polars as pl
from bench_columnar import derive

def step(df):
    value, gx, gy = derive(df["x"].to_numpy(), df["y"].to_numpy())
    return df.with_columns(value=value, grad_x=gx, grad_y=gy)

names = ["x", "y", "value", "grad_x", "grad_y"]
schema = {name: pl.Float64 for name in names}
lazy = pl.scan_parquet(sys.argv[1]).map_batches(step, schema=schema, streamable=True)
lazy.sink_parquet(sys.argv[2])
""",
    "polars register_io_source + sink_parquet": """
import sys
import polars as pl
from polars.io.plugins import register_io_source
from bench_columnar import derive

def source(with_columns, predicate, n_rows, batch_size):
    for df in pl.scan_parquet(sys.argv[1]).collect_batches(chunk_size=65536):
        value, gx, gy = derive(df["x"].to_numpy(), df["y"].to_numpy())
        yield df.with_columns(value=value, grad_x=gx, grad_y=gy)

names = ["x", "y", "value", "grad_x", "grad_y"]
register_io_source(source, schema={name: pl.Float64 for name in names}).sink_parquet(sys.argv[2])
""",
}

# Runs one command and reports its resources: a small process of its own, because a child's
# ru_maxrss also counts the memory of the process it was forked from.
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
    """Wall seconds, peak resident bytes and CPU seconds of one subprocess."""
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *cmd], capture_output=True, text=True, env=env
    )
    wall, rss, cpu, code = proc.stdout.split()
    if int(code) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({code}): {proc.stderr[-500:]}")
    return float(wall), int(rss), float(cpu)


def alternate(cmds: dict[str, list[str]], repeat: int) -> dict[str, list[tuple]]:
    """Each command `repeat` times, in rotating order, so drifting load hits all alike."""
    runs: dict[str, list[tuple]] = {name: [] for name in cmds}
    names = list(cmds)
    for r in range(repeat):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            runs[name].append(timed(cmds[name]))
    return runs


def print_runs(runs: dict[str, list[tuple]], baseline: str, rows: int | None = None) -> None:
    base_wall = statistics.median(r[0] for r in runs[baseline])
    base_cpu = statistics.median(r[2] for r in runs[baseline])
    width = max(map(len, runs)) + 2
    head = f"  {'':{width}} {'wall s':>8} {'ratio':>6} {'CPU s':>7} {'ratio':>6} {'peak MiB':>9}"
    print(head + ("  rows/s" if rows else ""))
    for name, samples in runs.items():
        wall = statistics.median(r[0] for r in samples)
        cpu = statistics.median(r[2] for r in samples)
        rss = statistics.median(r[1] for r in samples) / 2**20
        line = (
            f"  {name:{width}} {wall:8.3f} {wall / base_wall:6.2f} {cpu:7.2f} "
            f"{cpu / base_cpu:6.2f} {rss:9.0f}"
        )
        print(line + (f"  {rows / wall:,.0f}" if rows else ""))
    print(f"  (ratios against {baseline!r}; load average now {os.getloadavg()[0]:.2f})")


def script(tmp: str, name: str, text: str) -> str:
    path = os.path.join(tmp, name + ".py")
    with open(path, "w") as f:
        f.write(text)
    return path


def dezero_command() -> list[str]:
    exe = shutil.which("dezero", path=os.path.dirname(sys.executable))
    return [exe] if exe else [sys.executable, "-m", "dezero_cli"]


def available(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        print(f"  ({module} is not installed: skipped)")
        return False
    return True


# Sections -----------------------------------------------------------------------------------


def section_csv(args, tmp: str) -> None:
    print(f"\n== 1. whole job, {args.rows:,} rows of x,y CSV in, CSV out (median of {args.repeat})")
    points = os.path.join(tmp, "points.csv")
    write_points(points, args.rows)
    print(f"  input {os.path.getsize(points) / 1e6:.1f} MB")
    py = sys.executable
    blocks = script(tmp, "blocks", BLOCKS)
    jobs = {
        "dezero batch (baseline)": [*dezero_command(), "batch", "--expr", EXPR, points, "-o"],
        "python blocks (today's I/O, hand derivatives)": [py, blocks, "python", points],
    }
    if available("polars"):
        jobs["polars read_csv/write_csv"] = [py, script(tmp, "plw", POLARS_WHOLE), points]
        jobs["polars 1 MiB blocks, repr text"] = [py, blocks, "polars", points]
    if available("pyarrow"):
        jobs["pyarrow read_csv/write_csv"] = [py, script(tmp, "paw", ARROW_WHOLE), points]
        jobs["pyarrow 1 MiB blocks, repr text"] = [py, blocks, "pyarrow", points]
    out = {name: os.path.join(tmp, f"out{k}.csv") for k, name in enumerate(jobs)}
    cmds = {name: [*cmd, out[name]] for name, cmd in jobs.items()}
    runs = alternate(cmds, args.repeat)
    print_runs(runs, "dezero batch (baseline)", args.rows)
    check_outputs(out, "dezero batch (baseline)", "python blocks (today's I/O, hand derivatives)")


def check_outputs(out: dict[str, str], dezero: str, python: str) -> None:
    """Numbers agree with dezero's; the block approaches' bytes equal the Python approach's."""
    ref = np.loadtxt(out[dezero], delimiter=",", skiprows=1, usecols=range(5), max_rows=100_000)
    with open(out[python], "rb") as f:
        python_bytes = f.read()
    for name, path in out.items():
        got = np.loadtxt(path, delimiter=",", skiprows=1, usecols=range(5), max_rows=100_000)
        diff = float(np.max(np.abs(got - ref) / np.maximum(1.0, np.abs(ref))))
        note = ""
        if "blocks" in name:
            with open(path, "rb") as f:
                same = f.read() == python_bytes
            note = ", bytes identical to python blocks" if same else ", BYTES DIFFER from python"
        print(f"  check {name}: max relative difference to dezero {diff:.1e}{note}")
        os.remove(path)


def best_of(funcs: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Median seconds per call of each function, calls alternating."""
    times: dict[str, list[float]] = {name: [] for name in funcs}
    for f in funcs.values():
        f()  # warm up
    for _ in range(repeat):
        for name, f in funcs.items():
            start = time.perf_counter()
            f()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def section_block(args) -> None:
    runs = max(args.repeat, 5) * 3
    block = one_block(next(points_text(100_000, seed=5)))
    lines = block.count(b"\n")
    print(f"\n== 2. one block in-process: {len(block):,} bytes, {lines:,} lines (median of {runs})")
    names = ["x", "y"]
    approaches = [APPROACHES[k]() for k in APPROACHES if k == "python" or available(k)]
    dirty = block[:-30] + b"abc" + block[-27:]  # one bad cell in the last line or so
    rng = np.random.default_rng(6)
    plain = [rng.uniform(-3, 3, lines) for _ in range(3)]
    awkward = [awkward_numbers(lines, seed) for seed in (7, 8, 9)]
    results: dict[str, dict[str, float]] = {}
    for a in approaches:
        table = a.parse(block, names)
        dirty_table = a.parse(dirty, names)
        x, y = (a.floats(table, j)[0] for j in (0, 1))
        bad = a.floats(dirty_table, 0)[1].tolist() + a.floats(dirty_table, 1)[1].tolist()
        assert bad, f"{a.name} did not find the bad cell"
        numbers = derive(x, y)
        results[a.name] = best_of(
            {
                "(i) parse to string columns": lambda a=a: a.parse(block, names),
                "(ii) cast 2 columns, clean": lambda a=a, t=table: [a.floats(t, j) for j in (0, 1)],
                "(ii) cast 2 columns, 1 bad cell": lambda a=a, t=dirty_table: [
                    a.floats(t, j) for j in (0, 1)
                ],
                "(iii) format 3 columns + build lines": lambda a=a, t=table, n=numbers: a.format(
                    t, n
                ),
                "(iii) same, plain random floats": lambda a=a, t=table: a.format(t, plain),
                "(iii) same, awkward floats": lambda a=a, t=table: a.format(t, awkward),
                "total (i)+(ii)+(iii)": lambda a=a: run_one_block(a, block, names),
            },
            runs,
        )
    steps = list(results["python"])
    header = "".join(f"{a.name + ' ms':>12}{'ratio':>7}" for a in approaches)
    print(f"  {'':38}{header}")
    for step in steps:
        base = results["python"][step]
        cells = "".join(
            f"{results[a.name][step] * 1e3:12.2f}{results[a.name][step] / base:7.2f}"
            for a in approaches
        )
        print(f"  {step:38}{cells}")
    total = {a.name: results[a.name]["total (i)+(ii)+(iii)"] for a in approaches}
    print("  rows/s for the total: " + ", ".join(f"{k} {lines / v:,.0f}" for k, v in total.items()))
    outputs = {a.name: run_one_block(a, block, names) for a in approaches}
    same = all(v == outputs["python"] for v in outputs.values())
    print(f"  output bytes identical across approaches: {same}")


def run_one_block(a, block: bytes, names: list[str]) -> bytes:
    table = a.parse(block, names)
    x, y = (a.floats(table, j)[0] for j in (0, 1))
    return a.format(table, derive(x, y))


def section_spell() -> None:
    print("\n== 2b. float spellings (cast float64 -> string; write_csv spells the same)")
    libs = {}
    if available("polars"):
        import polars as pl

        libs["polars"] = lambda v: pl.Series(v).cast(pl.Utf8).to_list()
    if available("pyarrow"):
        import pyarrow as pa
        import pyarrow.compute as pc

        libs["pyarrow"] = lambda v: pc.cast(pa.array(v, pa.float64()), pa.string()).to_pylist()
    spelled = {name: f(np.array(SPELL_VALUES)) for name, f in libs.items()}
    print(f"  {'repr':26}" + "".join(f"{name:26}" for name in libs))
    for k, v in enumerate(SPELL_VALUES):
        cells = "".join(f"{s[k] + ('' if s[k] == repr(v) else '  *'):26}" for s in spelled.values())
        print(f"  {repr(v):26}{cells}")
    print("  (* differs from repr)")
    sample = spelling_sample()
    want = [repr(x) for x in sample.tolist()]
    for name, f in libs.items():
        raw = f(sample)
        differ = sum(a != b for a, b in zip(raw, want))
        back = sum(float(a) != b for a, b in zip(raw, sample.tolist()))
        spell = APPROACHES[name]().spell(sample)
        fixed = spell.to_list() if hasattr(spell, "to_list") else spell.to_pylist()
        left = sum(a != b for a, b in zip(fixed, want))
        print(
            f"  {name}: {len(sample):,} finite floats, raw spelling differs from repr for "
            f"{differ:,} ({describe_diffs(raw, want)}); not round-tripping {back}; "
            f"after normalisation {left} differ"
        )


def describe_diffs(raw: list[str], want: list[str]) -> str:
    kinds: dict[str, int] = {}
    for got, ref in zip(raw, want):
        if got == ref:
            continue
        if re.sub(r"e-(\d)$", r"e-0\1", got) == ref:
            kind = "1-digit exponent"
        elif "e" in ref and "e" not in got:
            kind = "written out, repr uses exponent"
        elif "e" not in ref and "e" in got:
            kind = "exponent, repr writes out"
        elif ref.endswith(".0") and got == ref[:-2]:
            kind = "no .0"
        else:
            kind = "other"
        kinds[kind] = kinds.get(kind, 0) + 1
    return "; ".join(f"{k} {v:,}" for k, v in kinds.items())


def section_cast() -> None:
    print("\n== 3. cast string -> float64 on awkward cells")
    try:
        from dezero_cli.api import parse_value
    except ImportError:
        parse_value = None
    columns: dict[str, Callable[[str], str]] = {}

    def show(x: float) -> str:
        return repr(x) if x == x else "nan"

    if parse_value is not None:

        def dezero(cell: str) -> str:
            try:
                return show(float(parse_value(cell, "x")))
            except Exception:  # noqa: BLE001 - any refusal is what we show
                return "error"

        columns["dezero parse_value"] = dezero
    columns["python float()"] = lambda c: _try(lambda: show(float(c)))
    if available("polars"):
        import polars as pl

        def polars_lenient(cell: str) -> str:
            v = pl.Series([cell]).cast(pl.Float64, strict=False).item()
            return "null" if v is None else show(v)

        columns["polars strict=False"] = polars_lenient
        columns["polars strict=True"] = lambda c: _try(
            lambda: show(pl.Series([c]).cast(pl.Float64).item())
        )
    if available("pyarrow"):
        import pyarrow as pa
        import pyarrow.compute as pc

        columns["pyarrow cast"] = lambda c: _try(
            lambda: show(pc.cast(pa.array([c]), pa.float64())[0].as_py())
        )
    print(f"  {'cell':28}" + "".join(f"{name:25}" for name in columns))
    for cell in CAST_CELLS:
        shown = repr(cell) if len(cell) <= 26 else repr(cell[:20]) + "..."
        row = [f(cell) for f in columns.values()]
        print(f"  {shown:28}" + "".join(f"{v[:24]:25}" for v in row))


def _try(f: Callable[[], str]) -> str:
    try:
        return f()
    except Exception:  # noqa: BLE001 - any refusal is what we show
        return "error"


def section_reader() -> None:
    print("\n== 3b. CSV readers on awkward blocks (2 columns, no header, all as strings)")
    print("  polars: quote_char=None, infer_schema=False (default empty_string_is_null=True)")
    print("  pyarrow: quote_char=False, ignore_empty_lines=False, strings_can_be_null=False")
    readers: dict[str, Callable[[bytes], str]] = {}
    names = ["a", "b"]
    if available("polars"):
        import polars as pl

        def polars_rows(data: bytes) -> str:
            df = pl.read_csv(
                data, has_header=False, new_columns=names, infer_schema=False, quote_char=None
            )
            return str(df.rows())

        def polars_quoted(data: bytes) -> str:
            df = pl.read_csv(data, has_header=False, new_columns=names, infer_schema=False)
            return str(df.rows())

        readers["polars"] = polars_rows
        readers["polars, quote_char='\"'"] = polars_quoted
    if available("pyarrow"):
        import pyarrow as pa
        import pyarrow.csv as csv

        def arrow_rows(data: bytes) -> str:
            table = csv.read_csv(
                io.BytesIO(data),
                read_options=csv.ReadOptions(column_names=names),
                parse_options=csv.ParseOptions(quote_char=False, ignore_empty_lines=False),
                convert_options=csv.ConvertOptions(
                    column_types={n: pa.string() for n in names}, strings_can_be_null=False
                ),
            )
            return str([tuple(r.values()) for r in table.to_pylist()])

        readers["pyarrow"] = arrow_rows
    for case, data in READER_CASES.items():
        print(f"  {case} {data!r}")
        for name, f in readers.items():
            print(f"    {name:24} {_try_msg(lambda f=f, data=data: f(data))}")


def _try_msg(f: Callable[[], str]) -> str:
    try:
        return f()
    except Exception as exc:  # noqa: BLE001 - the error is what we show
        return f"error {type(exc).__name__}: {str(exc).splitlines()[0][:70]}"


def section_parquet(args, tmp: str) -> None:
    if not (available("pyarrow") and available("polars")):
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = args.parquet_rows
    print(f"\n== 4. Parquet, {n:,} rows of x,y float64, 128Ki-row groups (median of {args.repeat})")
    src = os.path.join(tmp, "in.parquet")
    rng = np.random.default_rng(10)
    with pq.ParquetWriter(src, pa.schema([("x", pa.float64()), ("y", pa.float64())])) as w:
        for start in range(0, n, 1 << 17):
            k = min(1 << 17, n - start)
            w.write_table(pa.table({"x": rng.uniform(-3, 3, k), "y": rng.uniform(-3, 3, k)}))
    groups = pq.ParquetFile(src).num_row_groups
    print(f"  input {os.path.getsize(src) / 1e6:.0f} MB, {groups} row groups")
    cmds, outs = {}, {}
    for k, (name, text) in enumerate(PARQUET.items()):
        outs[name] = os.path.join(tmp, f"out{k}.parquet")
        cmds[name] = [sys.executable, script(tmp, f"pq{k}", text), src, outs[name]]
    runs = alternate(cmds, args.repeat)
    baseline = next(iter(PARQUET))
    print_runs(runs, baseline, n)
    ref = pq.ParquetFile(outs[baseline])
    for name, path in outs.items():
        f = pq.ParquetFile(path)
        same = f.schema_arrow.names == ref.schema_arrow.names and all(
            column(path, c).equals(column(outs[baseline], c)) for c in ref.schema_arrow.names
        )
        print(
            f"  check {name}: {f.metadata.num_rows:,} rows in {f.num_row_groups} groups, "
            f"{os.path.getsize(path) / 1e6:.0f} MB, equal to the baseline's: {same}"
        )


def column(path: str, name: str):
    import pyarrow.parquet as pq

    return pq.read_table(path, columns=[name]).column(0)


def section_import(args) -> None:
    print(f"\n== 5. import time (whole `python -c`, median of {max(args.repeat, 5)}) and size")
    modules = ["numpy", "polars", "pyarrow", "pyarrow.csv", "pyarrow.parquet", "orjson", "msgspec"]
    modules = [m for m in modules if available(m.split(".")[0])]
    cmds = {"(nothing)": [sys.executable, "-c", "pass"]}
    cmds.update({m: [sys.executable, "-c", f"import {m}"] for m in modules})
    for lib, m in (("polars", "polars"), ("pyarrow", "pyarrow.csv, pyarrow.compute")):
        if lib in modules:  # what batch would import, numpy included
            cmds[f"numpy, {m}"] = [sys.executable, "-c", f"import numpy, {m}"]
    cmds["dezero_cli.cli"] = [sys.executable, "-c", "import dezero_cli.cli"]
    runs = alternate(cmds, max(args.repeat, 5))
    base = statistics.median(r[0] for r in runs["numpy"])
    bare = statistics.median(r[0] for r in runs["(nothing)"])
    print(f"  {'import':36} {'wall ms':>8} {'- bare':>8} {'/ numpy':>8} {'importtime ms':>14}")
    for name, samples in runs.items():
        wall = statistics.median(r[0] for r in samples)
        single = "," not in name and name != "(nothing)"
        cumulative = import_time(name) if single else math.nan
        print(
            f"  {name:36} {wall * 1e3:8.0f} {(wall - bare) * 1e3:8.0f} {wall / base:8.2f} "
            f"{cumulative:14.0f}"
        )
    print("  installed size (files listed in each distribution's RECORD, with its dependencies):")
    for dist in ["numpy", "polars", "pyarrow", "orjson", "msgspec"]:
        try:
            closure = dependencies(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
        sizes = {d: dist_size(d) for d in closure}
        detail = ", ".join(f"{d} {s / 2**20:.1f}" for d, s in sizes.items())
        print(f"    {dist:10} {sum(sizes.values()) / 2**20:7.1f} MiB  ({detail})")
    try:
        meta = importlib.metadata.distribution("polars")
        native = [str(p) for p in meta.files or [] if str(p).endswith((".so", ".pyd"))]
        needs = [r for r in meta.requires or [] if "extra ==" not in r]
        print(f"    polars wheel: {len(native)} native libraries of its own; requires {needs}")
    except importlib.metadata.PackageNotFoundError:
        pass


def import_time(module: str) -> float:
    """Cumulative milliseconds for `module` from python -X importtime."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
    )
    for line in reversed(proc.stderr.splitlines()):
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 3 and parts[2] == module:
            return int(parts[1]) / 1e3
    return math.nan


def dependencies(dist: str) -> list[str]:
    """`dist` and what it requires (no extras), transitively."""
    seen: list[str] = []
    todo = [dist]
    while todo:
        name = todo.pop()
        meta = importlib.metadata.distribution(name)
        key = meta.metadata["Name"]
        if key in seen:
            continue
        seen.append(key)
        for req in meta.requires or []:
            if "extra ==" in req:
                continue
            todo.append(re.split(r"[ ;<>=!~\[(]", req, maxsplit=1)[0])
    return seen


def dist_size(dist: str) -> int:
    meta = importlib.metadata.distribution(dist)
    total = 0
    for f in meta.files or []:
        path = f.locate()
        if os.path.isfile(path):
            total += os.path.getsize(path)
    return total


def section_json(args) -> None:
    n = args.records
    runs = max(args.repeat, 5)
    print(f"\n== 6. JSON Lines: {n:,} small records (median of {runs})")
    rng = np.random.default_rng(11)
    xs = rng.uniform(-1, 1, n).tolist()
    lines = [
        json.dumps({"id": i, "expr": "x*y", "x": x, "y": 2}) for i, x in enumerate(xs)
    ]  # {"id": 1, "expr": "x*y", "x": 0.5, "y": 2} with a random x
    window = "[" + ",".join(lines) + "]"
    data = ("\n".join(lines) + "\n").encode()
    funcs: dict[str, Callable[[], object]] = {
        "json.loads per line (baseline)": lambda: [json.loads(s) for s in lines],
        "json.loads of one [..] window (today)": lambda: json.loads(window),
    }
    decoders = {"json": json.loads}
    if available("orjson"):
        import orjson

        decoders["orjson"] = orjson.loads
        funcs["orjson.loads per line"] = lambda: [orjson.loads(s) for s in lines]
        funcs["orjson.loads of one [..] window"] = lambda: orjson.loads(window)
    if available("msgspec"):
        import msgspec

        dec = msgspec.json.Decoder()
        exact = msgspec.json.Decoder(float_hook=str)
        decoders["msgspec"] = dec.decode
        decoders["msgspec float_hook=str"] = exact.decode
        funcs["msgspec decode per line"] = lambda: [dec.decode(s) for s in lines]
        funcs["msgspec decode_lines(bytes)"] = lambda: dec.decode_lines(data)
        funcs["msgspec float_hook=str per line"] = lambda: [exact.decode(s) for s in lines]
    times = best_of(funcs, runs)
    base = times["json.loads per line (baseline)"]
    for name, t in times.items():
        print(f"  {name:40} {t * 1e3:8.1f} ms {n / t:12,.0f} rec/s  ratio {t / base:5.2f}")
    print("  exactness (python value or error):")
    print(f"  {'case':18}" + "".join(f"{name:28}" for name in decoders))
    for case, raw in JSON_CASES.items():
        cells = []
        for f in decoders.values():
            cells.append(_try_msg(lambda f=f, raw=raw: _short(f(raw)))[:27])
        print(f"  {case:18}" + "".join(f"{c:28}" for c in cells))


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 27 else text[:24] + "..."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--parquet-rows", type=int, default=5_000_000)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sections", default=",".join(SECTIONS))
    args = parser.parse_args()
    chosen = args.sections.split(",")
    unknown = set(chosen) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}: choose from {', '.join(SECTIONS)}")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, " + versions())
    with tempfile.TemporaryDirectory() as tmp:
        if "csv" in chosen:
            section_csv(args, tmp)
        if "block" in chosen:
            section_block(args)
        if "spell" in chosen:
            section_spell()
        if "cast" in chosen:
            section_cast()
        if "reader" in chosen:
            section_reader()
        if "parquet" in chosen:
            section_parquet(args, tmp)
        if "import" in chosen:
            section_import(args)
        if "json" in chosen:
            section_json(args)


def versions() -> str:
    found = []
    for dist in ["numpy", "polars", "polars-runtime-32", "pyarrow", "orjson", "msgspec"]:
        try:
            found.append(f"{dist} {importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{dist} missing")
    return ", ".join(found)


if __name__ == "__main__":
    main()
