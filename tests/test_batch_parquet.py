"""`dezero batch` with Parquet: the schema out, values and errors by row, numbers as CSV reads
them, slices of huge row groups, and an output file as safe as a text one."""

from __future__ import annotations

import decimal
import io
import os
import subprocess
import sys

import numpy as np
import pytest

from dezero_cli import api, batch
from dezero_cli.batch import files

pytestmark = [
    pytest.mark.requires_module("pyarrow", extra="fast"),
    pytest.mark.usefixtures("batch_path"),  # text inputs on both paths
]

try:
    import pyarrow as pa
    import pyarrow.parquet as pq
except ImportError:  # every test is skipped by its marker (failed under DEZERO_REQUIRE_TOOLS=1)
    pa = pq = None

EXPR = "x*y + sin(x)/(1 + y^2)"
FAILED = "error: {} of {} records failed, the first on row {} (see the error field)\n"


def write(path, **columns) -> str:
    pq.write_table(pa.table(columns), path)
    return str(path)


def rows(path) -> list[dict]:
    return pq.read_table(path).to_pylist()


def exact(expr: str, **values) -> dict:
    """What `dezero grad` gives at one point, as a Parquet row has it (nan and inf: null)."""
    one = api.grad(expr, values)
    out = {"value": float(one.value)}
    out.update({f"grad_{k}": float(g) for k, g in one.grad.items()})
    return {k: (v if np.isfinite(v) else None) for k, v in out.items()}


def test_parquet_in_and_out(tmp_path, dezero):
    src = write(tmp_path / "in.parquet", id=["a", "b"], x=[0.5, 2.0], y=pa.array([1, -3]))
    code, out, err = dezero("batch", "--expr", EXPR, src, "-o", str(tmp_path / "out.parquet"))
    assert (code, out, err) == (0, "", "")
    table = pq.read_table(tmp_path / "out.parquet")
    assert table.schema.names == ["id", "x", "y", "value", "grad_x", "grad_y", "error"]
    assert [str(t) for t in table.schema.types] == [
        "string", "double", "int64", "double", "double", "double", "string"
    ]  # fmt: skip
    assert rows(tmp_path / "out.parquet") == [
        {"id": "a", "x": 0.5, "y": 1, **exact(EXPR, x=0.5, y=1.0), "error": None},
        {"id": "b", "x": 2.0, "y": -3, **exact(EXPR, x=2.0, y=-3.0), "error": None},
    ]


def test_the_output_format_comes_from_the_option_or_the_extension(tmp_path, dezero):
    src = write(tmp_path / "in.parquet", x=[1.0])
    dest = tmp_path / "out.bin"
    assert (
        dezero("batch", "--expr", "x", src, "-o", str(dest), "--output-format", "parquet")[0] == 0
    )
    assert rows(dest) == [{"x": 1.0, "value": 1.0, "grad_x": 1.0, "error": None}]
    assert dezero("batch", "--expr", "x", "-o", str(tmp_path / "t.parquet"), stdin="x\n2\n")[0] == 0
    assert rows(tmp_path / "t.parquet") == [{"x": "2", "value": 2.0, "grad_x": 1.0, "error": None}]


def test_errors_and_warnings_name_rows(tmp_path, dezero):
    src = write(
        tmp_path / "in.parquet",
        x=pa.array([1.0, None, 2.0, 4.0]),
        s=["2", "3", "1e400", "abc"],
    )
    dest = tmp_path / "out.parquet"
    code, out, err = dezero("batch", "--expr", "log(x)*s", src, "-o", str(dest))
    assert (code, out, err) == (1, "", FAILED.format(3, 4, 2))
    got = rows(dest)
    assert [r["error"] for r in got] == [
        None,
        "row 2: no value for variable 'x'",
        "row 3: value of s: 1e400 is outside the float64 range (largest about 1.8e308)",
        "row 4: value of s is not a number: 'abc'",
    ]
    assert got[0]["value"] == 0.0 and got[1]["value"] is None


def test_results_that_are_not_finite_are_null_with_a_warning(tmp_path, dezero):
    src = write(tmp_path / "in.parquet", x=[1.0, -1.0, 0.0, float("nan")])
    dest = tmp_path / "out.parquet"
    code, out, err = dezero("batch", "--expr", "log(x)", src, "-o", str(dest))
    assert (code, out) == (0, "")
    assert err == (
        "warning: row 2: log gave nan (outside its domain)\n"
        "warning: row 3: log gave -inf (overflow or division by zero)\n"
        "warning: row 4: input x is nan\n"
    )
    assert [(r["value"], r["grad_x"]) for r in rows(dest)] == [
        (0.0, 1.0), (None, -1.0), (None, None), (None, None)
    ]  # fmt: skip


def test_numbers_are_read_as_the_same_digits_in_a_csv_cell(tmp_path, dezero):
    big = 2**53 + 1  # float64 holds it not: the nearest, as float("9007199254740993") gives
    cells = ["1.5", "-0.0", "5e-324", "1e-400", "infinity", "+1", " 2", "0x10"]
    columns = {
        "i": pa.array([big, -(2**63), 7, 0, 1, 2, 3, 4], pa.int64()),
        "u": pa.array([2**64 - 1, 0, 1, 2, 3, 4, 5, 6], pa.uint64()),
        "f": pa.array([0.1, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5], pa.float32()),
        "d": pa.array([decimal.Decimal("0.1")] * 8, pa.decimal128(5, 2)),
        "s": pa.array(cells).dictionary_encode(),
    }
    src = write(tmp_path / "in.parquet", **columns)
    dest = tmp_path / "out.parquet"
    dezero("batch", "--expr", "i + u + f + d + s", src, "-o", str(dest), "--no-grad")
    got = rows(dest)
    csv_text = "i,u,f,d,s\n" + "".join(
        f"{i},{u},{f!r},0.10,{s}\n"
        for i, u, f, s in zip(
            columns["i"].to_pylist(),
            columns["u"].to_pylist(),
            np.float32(columns["f"].to_numpy()).astype(np.float64).tolist(),
            cells,
        )
    )
    code, out, _ = dezero("batch", "--expr", "i + u + f + d + s", "--no-grad", "--output-format",
                          "jsonl", stdin=csv_text)  # fmt: skip
    import json

    want = [json.loads(line) for line in out.splitlines()]
    for row, (k, record) in zip(got, enumerate(want)):
        if "error" in record:
            assert row["error"] == record["error"].replace(f"line {k + 2}", f"row {k + 1}")
        else:
            assert row["value"] == record["value"] and row["error"] is None


def test_a_variable_column_of_another_kind_cannot_start(tmp_path, dezero):
    src = write(tmp_path / "in.parquet", x=[True, False])
    assert dezero("batch", "--expr", "x", src, "-o", str(tmp_path / "o.parquet")) == (
        2,
        "",
        "error: column 'x' holds bool values, not numbers or text: a variable's column must "
        "hold one or the other\n",
    )
    assert not (tmp_path / "o.parquet").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--expr", "x", "{src}", "--output-format", "jsonl"], "Parquet input can only be "
         "written as Parquet (--output-format parquet, or -o FILE.parquet)"),
        (["--expr", "x", "{src}", "-o", "{dir}/o.csv"], "Parquet input can only be written as "
         "Parquet (--output-format parquet, or -o FILE.parquet)"),
        (["--expr", "z", "{src}", "-o", "{dir}/o.parquet"], "no column for variable 'z': the "
         "Parquet schema has 'x', 'id'"),
        (["--expr", "x", "{clash}", "-o", "{dir}/o.parquet"], "column 'value' of the Parquet "
         "schema has the name of an output column (value, error, grad_*, d2f/dx2...): rename it"),
        (["--expr", "x", "--input-format", "parquet", "{dir}/text.csv", "-o", "{dir}/o.parquet"],
         "the input is not a Parquet file"),
        (["{src}"], "Parquet input is a table of points: give the expression with --expr "
         "(records with their own expressions are JSON Lines)"),
    ],
)  # fmt: skip
def test_unusable_arguments_exit_2_and_leave_the_output_as_it_was(tmp_path, args, message, dezero):
    src = write(tmp_path / "in.parquet", x=[1.0], id=["a"])
    clash = write(tmp_path / "clash.parquet", x=[1.0], value=[2.0])
    (tmp_path / "text.csv").write_text("x\n1\n")
    (tmp_path / "o.parquet").write_bytes(b"old")
    argv = [a.format(src=src, clash=clash, dir=tmp_path) for a in args]
    code, out, err = dezero("batch", *argv)
    assert (code, out) == (2, "")
    assert err.startswith(f"error: {message}")
    assert (tmp_path / "o.parquet").read_bytes() == b"old"
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_parquet_from_a_pipe_is_refused(tmp_path, dezero_process):
    with open(write(tmp_path / "in.parquet", x=[1.0]), "rb") as f:
        data = f.read()
    assert dezero_process(
        "batch",
        "--expr",
        "x",
        "--input-format",
        "parquet",
        "-o",
        str(tmp_path / "o.parquet"),
        stdin=data,
    ) == (  # fmt: skip
        2,
        "",
        "error: Parquet input must be a file: it is read from its end, not as a stream\n",
    )


def test_parquet_to_standard_output_that_is_not_a_terminal(tmp_path, dezero_process):
    src = write(tmp_path / "in.parquet", x=[3.0])
    proc = subprocess.run(
        dezero_process.command("batch", "--expr", "x^2", src), capture_output=True, check=False
    )
    assert proc.returncode == 0
    assert pq.read_table(pa.BufferReader(proc.stdout)).to_pylist() == [
        {"x": 3.0, "value": 9.0, "grad_x": 6.0, "error": None}
    ]


@pytest.mark.requires_module("pty")
def test_parquet_to_a_terminal_is_refused(tmp_path, dezero_process):
    import pty

    src = write(tmp_path / "in.parquet", x=[3.0])
    parent, child = pty.openpty()
    try:
        proc = dezero_process.start(
            "batch", "--expr", "x", src, stdout=child, stderr=subprocess.PIPE
        )
        _, err = proc.communicate(timeout=120)
    finally:
        os.close(child)
        os.close(parent)
    assert proc.returncode == 2
    assert err == (
        b"error: Parquet is not for a terminal: give -o FILE, or redirect standard output\n"
    )


def test_a_huge_row_group_is_read_and_written_in_slices(tmp_path, dezero):
    n = 150_000
    x = np.arange(n, dtype=np.float64)
    src = tmp_path / "in.parquet"
    pq.write_table(pa.table({"x": x}), src, row_group_size=n)  # one row group
    assert pq.ParquetFile(src).metadata.num_row_groups == 1
    dest = tmp_path / "out.parquet"
    assert dezero("batch", "--expr", "2*x", str(src), "-o", str(dest)) == (0, "", "")
    meta = pq.ParquetFile(dest).metadata
    assert [meta.row_group(k).num_rows for k in range(meta.num_row_groups)] == [
        65536, 65536, 18928
    ]  # fmt: skip
    table = pq.read_table(dest)
    np.testing.assert_array_equal(table["value"].to_numpy(), 2 * x)


def test_fail_fast_stops_at_the_first_bad_row(tmp_path, dezero):
    src = write(tmp_path / "in.parquet", x=pa.array([1.0, None, 3.0]))
    dest = tmp_path / "out.parquet"
    code, out, err = dezero("batch", "--expr", "x", "--fail-fast", src, "-o", str(dest))
    assert (code, err) == (1, "error: stopped at the first bad record, row 2\n")
    assert [r["x"] for r in rows(dest)] == [1.0, None]


def test_order_two_names_its_columns_as_csv_does(tmp_path, dezero):
    src = write(tmp_path / "in.parquet", x=[2.0], y=[1.0])
    dest = tmp_path / "out.parquet"
    assert dezero("batch", "--expr", "x^2*y", "--order", "2", src, "-o", str(dest))[0] == 0
    assert pq.read_table(dest).schema.names == [
        "x", "y", "value", "grad_x", "grad_y", "d2f/dx2", "d2f/dxdy", "d2f/dydx", "d2f/dy2",
        "error",
    ]  # fmt: skip
    assert rows(dest)[0]["d2f/dxdy"] == 4.0


def test_text_in_parquet_out_keeps_every_cell_and_the_csv_numbers(tmp_path, dezero):
    text = 'id,x,y\na,1,2\n"b,c",0.5,-1\nd,abc,3\ne,1e-7,1E5\n'
    dest = tmp_path / "out.parquet"
    code, _, _ = dezero("batch", "--expr", EXPR, "-o", str(dest), stdin=text)
    assert code == 1
    code, out, _ = dezero("batch", "--expr", EXPR, stdin=text)
    import csv

    want = list(csv.DictReader(io.StringIO(out)))
    got = rows(dest)
    assert [r["id"] for r in got] == ["a", "b,c", "d", "e"]
    for r, w in zip(got, want):
        for key in ("x", "y"):
            assert r[key] == w[key]
        for key in ("value", "grad_x", "grad_y"):
            assert r[key] == (float(w[key]) if w[key] else None)
        assert r["error"] == (w["error"] or None)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_an_output_that_cannot_be_written_is_exit_74(tmp_path, dezero):
    src = write(tmp_path / "in.parquet", x=[1.0])
    outcome = dezero("batch", "--expr", "x", src, "-o", "/dev/full", "--output-format", "parquet")
    assert outcome == (74, "", "error: cannot write /dev/full: No space left on device\n")


def test_a_run_cut_short_leaves_a_valid_prefix(tmp_path):
    src = tmp_path / "in.parquet"
    pq.write_table(pa.table({"x": np.arange(200_000, dtype=np.float64)}), src)
    dest = tmp_path / "out.parquet"
    dest.write_bytes(b"old")
    options = batch.BatchOptions(expr=api.as_program("x"))

    def progress(done: int) -> None:
        if done > 65536:  # the first slice has been taken to be written
            raise KeyboardInterrupt

    with (
        pytest.raises(KeyboardInterrupt),
        open(src, "rb") as source,
        files.Output(str(dest), source, binary=True) as sink,
    ):
        batch.run(source, sink, "parquet", "parquet", options, progress)
    table = pq.read_table(dest)  # whole row groups, and the footer
    assert table.num_rows in (65536, 131072)
    np.testing.assert_array_equal(table["value"].to_numpy(), np.arange(table.num_rows))
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_without_pyarrow_parquet_is_one_error_line(tmp_path, monkeypatch, dezero):
    src = write(tmp_path / "in.parquet", x=[1.0])
    for name in ("pyarrow", "pyarrow.parquet"):
        monkeypatch.setitem(sys.modules, name, None)
    message = "error: Parquet needs pyarrow, not installed: pip install 'dezero-cli[fast]'\n"
    assert dezero("batch", "--expr", "x", src, "-o", str(tmp_path / "o.parquet")) == (
        2, "", message
    )  # fmt: skip
    assert dezero("batch", "--expr", "x", "-o", str(tmp_path / "o.parquet"), stdin="x\n1\n") == (
        2, "", message
    )  # fmt: skip
    assert not (tmp_path / "o.parquet").exists()


def test_uncertainty_columns_as_in_csv(tmp_path, dezero):
    src = write(tmp_path / "in.parquet", x=[2.0, 1.0, 3.0], x_sd=pa.array([0.1, -1.0, None]))
    dest = tmp_path / "out.parquet"
    code, _, err = dezero("batch", "--expr", "x^2", src, "-o", str(dest))
    assert (code, err) == (1, FAILED.format(2, 3, 2))
    assert pq.read_table(dest).schema.names == ["x", "x_sd", "value", "value_sd", "grad_x", "error"]
    csv_out = dezero("batch", "--expr", "x^2", stdin="x,x_sd\n2.0,0.1\n").stdout.splitlines()
    value, value_sd, grad_x = map(float, csv_out[1].split(",")[2:5])
    assert rows(dest) == [
        {"x": 2.0, "x_sd": 0.1, "value": value, "value_sd": value_sd, "grad_x": grad_x,
         "error": None},
        {"x": 1.0, "x_sd": -1.0, "value": None, "value_sd": None, "grad_x": None,
         "error": "row 2: the uncertainty of x (x_sd) must be a finite number at least 0, not "
                  "-1.0"},
        {"x": 3.0, "x_sd": None, "value": None, "value_sd": None, "grad_x": None,
         "error": "row 3: no value for the uncertainty of x (x_sd)"},
    ]  # fmt: skip
