"""`dezero batch`: formats, pass-through, bad records, order, identity with `dezero grad`."""

from __future__ import annotations

import csv
import io
import json
import math
import shlex
import signal
import subprocess
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dezero_cli import api, batch
from dezero_cli.batch.job import DELIMITERS
from dezero_cli.batch.rows import grad_rows
from dezero_cli.engine.core import Config, Function
from dezero_cli.engine.functions import FUNCTIONS
from dezero_cli.engine.operators import BroadcastTo

pytestmark = pytest.mark.usefixtures("batch_path")  # each test on both paths

EXPR = "x*y + sin(x)/(1 + y^2)"


def by_hand(x: float, y: float) -> tuple[float, float, float]:
    """Value and partials of EXPR, derived by hand."""
    q = 1.0 + y * y
    return x * y + math.sin(x) / q, y + math.cos(x) / q, x - 2.0 * y * math.sin(x) / q**2


def jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


# Points mode ----------------------------------------------------------------------------------


def test_points_csv_exact_output(dezero):
    code, out, err = dezero("batch", "--expr", "x*y + sin(x)", stdin="x,y\n1,2\n0.5,-1\n")
    assert (code, err) == (0, "")
    assert out == (
        "x,y,value,grad_x,grad_y,error\n"
        "1,2,2.8414709848078967,2.5403023058681398,1.0,\n"
        "0.5,-1,-0.020574461395796995,-0.12241743810962724,0.5,\n"
    )


def test_points_agree_with_hand_derived_partials(dezero):
    rng = np.random.default_rng(3)
    xy = rng.uniform(-3, 3, size=(500, 2))
    text = "x,y\n" + "".join(f"{x!r},{y!r}\n" for x, y in xy.tolist())
    code, out, _ = dezero("batch", "--expr", EXPR, stdin=text)
    assert code == 0
    got = np.loadtxt(io.StringIO(out), delimiter=",", skiprows=1, usecols=(0, 1, 2, 3, 4))
    want = np.array([by_hand(x, y) for x, y in xy.tolist()])
    np.testing.assert_array_equal(got[:, :2], xy)
    np.testing.assert_allclose(got[:, 2:], want, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize(
    "expr",
    [EXPR, "square(exp(square(x)))", "x^y", "tanh(x)*cosh(y) - sqrt(abs(x*y))", "log(x) + y/x"],
)
def test_identical_to_dezero_grad(expr, dezero):
    """Every number equals, bit for bit, what `dezero grad --format json` gives at that point."""
    rng = np.random.default_rng(7)
    points = rng.uniform(-2, 2, size=(40, 2)).round(3).tolist() + [[0.0, 0.0], [-1.0, 0.5]]
    text = "x,y\n" + "".join(f"{x!r},{y!r}\n" for x, y in points)
    code, out, _ = dezero(
        "batch", "--expr", expr, "--output-format", "jsonl", "--input-format", "csv", stdin=text
    )
    assert code == 0
    records = jsonl(out)
    assert len(records) == len(points)
    program_vars = api.as_program(expr).variables
    for record, (x, y) in zip(records, points):
        args = ["grad", expr, "--format", "json"]
        for name, v in (("x", x), ("y", y)):
            if name in program_vars:
                args += [f"--{name}={v!r}"]
        single = dezero(*args)
        assert single.code == 0, single.stderr
        expected = json.loads(single.stdout)
        del expected["schema"]  # a document's, not a batch record's
        passed = {key: record.pop(key) for key in list(record) if key not in expected}
        assert passed == ({} if "y" in program_vars else {"y": repr(y)})
        assert record == expected


def test_identical_to_api_grad_including_warnings(dezero):
    """Rows with nan or inf carry exactly the warnings `api.grad` gives for that row alone."""
    expr = "log(x) + 1/y + exp(x*y) + sqrt(y - x)"
    points = [(1.0, 2.0), (-1.0, 2.0), (1.0, 0.0), (800.0, 2.0), (3.0, 1.0), (0.0, 1.0), (1.0, 1.0)]
    text = "x,y\n" + "".join(f"{x},{y}\n" for x, y in points)
    code, out, err = dezero("batch", "--expr", expr, "--output-format", "jsonl", stdin=text)
    assert (code, err) == (0, "")
    for record, (x, y) in zip(jsonl(out), points):
        single = api.grad(expr, {"x": x, "y": y})
        assert record["warnings"] == single.warnings
        assert record["value"] == (float(single.value) if np.isfinite(single.value) else None)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(-5, 5, allow_nan=False, allow_infinity=False),
            st.floats(-5, 5, allow_nan=False, allow_infinity=False),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_rows_equal_one_at_a_time(points):
    program = api.as_program(EXPR)
    xs = np.array([p[0] for p in points])
    ys = np.array([p[1] for p in points])
    rows = grad_rows(program, {"x": xs, "y": ys}, len(points))
    for k, (x, y) in enumerate(points):
        one = api.grad(program, {"x": x, "y": y})
        assert rows.value[k] == one.value
        assert rows.grad["x"][k] == one.grad["x"]
        assert rows.grad["y"][k] == one.grad["y"]


def test_nonfinite_results_are_empty_cells_with_warnings(dezero):
    code, out, err = dezero("batch", "--expr", "log(x)", stdin="x\n1\n-1\n0\n")
    assert code == 0
    assert out == "x,value,grad_x,error\n1,0.0,1.0,\n-1,,-1.0,\n0,,,\n"
    assert err == (
        "warning: line 3: log gave nan (outside its domain)\n"
        "warning: line 4: log gave -inf (overflow or division by zero)\n"
    )


def test_pass_through_columns_stay_in_place(dezero):
    text = 'id,x,note,y\na7,1.50,"hello, world",2\nb8,  3 ,plain,4e0\n'
    code, out, _ = dezero("batch", "--expr", "x*y", stdin=text)
    assert code == 0
    assert out == (
        "id,x,note,y,value,grad_x,grad_y,error\n"
        'a7,1.50,"hello, world",2,3.0,2.0,1.5,\n'
        "b8,  3 ,plain,4e0,12.0,4.0,3.0,\n"
    )


def test_wrt_selects_columns(dezero):
    code, out, _ = dezero("batch", "--expr", "x*y", "--wrt", "y", stdin="x,y\n2,3\n")
    assert (code, out) == (0, "x,y,value,grad_y,error\n2,3,6.0,2.0,\n")


def test_no_grad_gives_values_only(dezero):
    code, out, _ = dezero("batch", "--expr", "x*y", "--no-grad", stdin="x,y\n2,3\n")
    assert (code, out) == (0, "x,y,value,error\n2,3,6.0,\n")


def test_order_two_against_closed_forms(dezero):
    code, out, _ = dezero("batch", "--expr", "x^4 - 2*x^2", "--order", "3", stdin="x\n2\n-0.5\n")
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["x", "value", "grad_x", "d2f/dx2", "d3f/dx3", "error"]
    for row in rows[1:]:
        x = float(row[0])
        want = [x**4 - 2 * x**2, 4 * x**3 - 4 * x, 12 * x**2 - 4, 24 * x]
        assert [float(c) for c in row[1:5]] == pytest.approx(want, rel=1e-14)


def test_order_two_hessian_is_symmetric_and_right(dezero):
    x, y = 0.7, -1.3
    code, out, _ = dezero("batch", "--expr", EXPR, "--order", "2", stdin=f"x,y\n{x},{y}\n")
    assert code == 0
    header, row = list(csv.reader(io.StringIO(out)))
    got = dict(zip(header, row))
    q = 1 + y * y
    fxx = -math.sin(x) / q
    fxy = 1 - 2 * y * math.cos(x) / q**2
    fyy = math.sin(x) * (6 * y * y - 2) / q**3
    assert float(got["d2f/dx2"]) == pytest.approx(fxx, rel=1e-13)
    assert float(got["d2f/dxdy"]) == float(got["d2f/dydx"]) == pytest.approx(fxy, rel=1e-13)
    assert float(got["d2f/dy2"]) == pytest.approx(fyy, rel=1e-13)


class RowSum(Function):
    """A test reduction that, like the real `sum`, keeps the leading batch axes."""

    __slots__ = ()
    arity = 1
    name = "rowsum"

    def forward(self, x):
        return x.sum(axis=tuple(range(Config.batch_ndim, x.ndim)))

    def backward(self, gy):
        return BroadcastTo(self.inputs[0].shape)(gy)


@pytest.mark.parametrize("name", ["rowsum", "sum", "mean"])
def test_reductions_stay_per_row(monkeypatch, name, dezero):
    if name == "rowsum":
        monkeypatch.setitem(FUNCTIONS, "rowsum", RowSum)
    assert name in FUNCTIONS, f"the reduction {name} is not registered"
    expr = f"x * {name}(x) + {name}(y)"
    code, out, _ = dezero("batch", "--expr", expr, stdin="x,y\n1,10\n2,20\n3,30\n")
    assert code == 0
    got = np.loadtxt(io.StringIO(out), delimiter=",", skiprows=1, usecols=(2, 3, 4))
    x, y = np.array([1.0, 2.0, 3.0]), np.array([10.0, 20.0, 30.0])
    # Per row, sum and mean of one number are that number: f = x^2 + y, df/dx = 2x, df/dy = 1.
    np.testing.assert_array_equal(got, np.column_stack([x * x + y, 2 * x, np.ones(3)]))


# Formats ------------------------------------------------------------------------------------


POINTS = [(0.1, 2.0), (-1.25, 3.5), (1e-300, -7.0)]


def _table(delim: str) -> str:
    return f"x{delim}y\n" + "".join(f"{x!r}{delim}{y!r}\n" for x, y in POINTS)


def _numbers(out: str, fmt: str) -> list[list[float]]:
    if fmt == "jsonl":
        return [
            [r["inputs"]["x"], r["inputs"]["y"], r["value"], r["grad"]["x"], r["grad"]["y"]]
            for r in jsonl(out)
        ]
    rows = list(csv.reader(io.StringIO(out), delimiter=DELIMITERS[fmt]))
    assert rows[0] == ["x", "y", "value", "grad_x", "grad_y", "error"]
    return [[float(c) for c in row[:5]] for row in rows[1:]]


@pytest.mark.parametrize("fmt_in", ["csv", "tsv"])
@pytest.mark.parametrize("fmt_out", ["csv", "tsv", "jsonl"])
def test_round_trip_every_format(tmp_path, fmt_in, fmt_out, dezero):
    path = tmp_path / f"points.{fmt_in}"
    path.write_text(_table(DELIMITERS[fmt_in]))
    code, out, err = dezero(
        "batch", "--expr", EXPR, str(path), "--output-format", fmt_out, stdin=b""
    )
    assert (code, err) == (0, "")
    want = [[x, y, *(float(v) for v in by_hand_exact(x, y))] for x, y in POINTS]
    assert _numbers(out, fmt_out) == want


def by_hand_exact(x: float, y: float):
    one = api.grad(EXPR, {"x": x, "y": y})
    return one.value, one.grad["x"], one.grad["y"]


def test_jsonl_points_round_trip_with_pass_through(dezero):
    text = "".join(json.dumps({"id": i, "x": x, "y": y}) + "\n" for i, (x, y) in enumerate(POINTS))
    code, out, _ = dezero(
        "batch", "--expr", EXPR, stdin=text
    )  # stdin with --expr is CSV unless told
    assert (code, out) == (2, "")
    code, out, err = dezero("batch", "--expr", EXPR, "--input-format", "jsonl", stdin=text)
    assert (code, err) == (0, "")
    records = jsonl(out)
    assert [r["id"] for r in records] == [0, 1, 2]
    assert _numbers(out, "jsonl") == [[x, y, *by_hand_exact(x, y)] for x, y in POINTS]


def test_output_file_and_crlf_input(tmp_path, dezero):
    src = tmp_path / "in.csv"
    src.write_bytes(b"x,y\r\n2,3\r\n")
    dest = tmp_path / "out.csv"
    code, out, _ = dezero("batch", "--expr", "x*y", str(src), "-o", str(dest), stdin=b"")
    assert (code, out) == (0, "")
    assert dest.read_text() == "x,y,value,grad_x,grad_y,error\n2,3,6.0,3.0,2.0,\n"


# Bad records ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line, error",
    [
        (
            "abc,1",
            "line 3: value of x is not a number: 'abc'",
        ),
        (
            ",1",
            "line 3: value of x is not a number: ''",
        ),
        (
            "1e400,1",
            "line 3: value of x: 1e400 is outside the float64 range (largest about 1.8e308)",
        ),
        (
            "1_000,1",
            "line 3: value of x is not a number: '1_000'",
        ),
        (
            "infinity,1",
            "line 3: value of x is not a number: 'infinity'",
        ),
        ('"1,2",1', "line 3: value of x must be one number, got '1,2'"),
        ("1", "line 3: expected 2 fields, found 1"),
        ("1,2,3", "line 3: expected 2 fields, found 3"),
        ("", "line 3: blank line"),
    ],
)
def test_bad_point_is_an_error_row_and_others_are_unaffected(line, error, dezero):
    code, out, err = dezero(
        "batch", "--expr", "x+y", "--output-format", "jsonl", stdin=f"x,y\n1,2\n{line}\n3,4\n"
    )
    assert code == 1
    records = jsonl(out)
    assert len(records) == 3
    assert records[0]["value"] == 3.0 and records[2]["value"] == 7.0
    assert records[1]["error"] == error
    assert "value" not in records[1]
    assert err == "error: 1 of 3 records failed, the first on line 3 (see the error field)\n"


def test_non_utf8_line_is_an_error_row(dezero):
    code, out, _ = dezero("batch", "--expr", "x", stdin=b"x\n1\n\xff\n2\n")
    assert code == 1
    assert out == "x,value,grad_x,error\n1,1.0,1.0,\n\ufffd,,,line 3: not UTF-8 text\n2,2.0,1.0,\n"


@pytest.mark.parametrize(
    "line, error",
    [
        ('{"expr": "x*", "x": 1}', "line 2: the expression ends too early (column 3)"),
        (
            '{"expr": "frob(x)", "x": 1}',
            "line 2: unknown function 'frob': run 'dezero functions' for the list (column 1)",
        ),
        (
            '{"expr": "2x", "x": 1}',
            "line 2: implicit multiplication is not supported: write 2*x (column 2)",
        ),
        ('{"expr": "x+y", "x": 1}', "line 2: no value for variable 'y'"),
        (
            '{"expr": "x", "x": "abc"}',
            "line 2: value of x is not a number: 'abc'",
        ),
        (
            '{"expr": "x", "x": true}',
            "line 2: value of x is not a number or a list of numbers: true",
        ),
        (
            '{"expr": "x", "x": NaN}',
            'line 2: NaN is not JSON: write the value as a string such as "nan"',
        ),
        ('{"expr": "x", "x": 1e400}', "line 2: value of x is outside the float64 range"),
        ('{"x": 1}', 'line 2: the record has no "expr" string'),
        ("[1, 2]", "line 2: a record must be a JSON object"),
        (
            '{"expr": "x", ',
            "line 2: not valid JSON (Expecting property name enclosed in double "
            "quotes at column 15)",
        ),
        ("", "line 2: blank line"),
    ],
)
def test_bad_record_is_an_error_record(line, error, dezero):
    text = f'{{"expr": "x", "x": 1, "id": "a"}}\n{line}\n{{"expr": "x^2", "x": 3, "id": "c"}}\n'
    code, out, err = dezero("batch", stdin=text)
    assert code == 1
    records = jsonl(out)
    assert len(records) == 3
    assert records[0] == {
        "id": "a",
        "expr": "x",
        "inputs": {"x": 1.0},
        "value": 1.0,
        "grad": {"x": 1.0},
        "warnings": [],
    }
    assert records[1]["error"] == error
    assert records[2]["value"] == 9.0 and records[2]["id"] == "c"
    assert err.startswith("error: 1 of 3 records failed, the first on line 2")


def test_records_mode_output_matches_dezero_grad_json(dezero):
    lines = [
        {"expr": "square(exp(square(x)))", "x": 0.5, "id": 1},
        {"expr": "x*y", "x": 2, "y": 3, "id": 2},
        {"expr": "square(exp(square(x)))", "x": 1, "id": 3},
        {"expr": "log(x)", "x": -1, "id": 4},
        {"expr": "x", "x": [1, 2, 3], "id": 5},
        {"expr": "3", "id": 6},
        {"expr": "3", "id": 7},
    ]
    code, out, err = dezero("batch", stdin="".join(json.dumps(r) + "\n" for r in lines))
    assert (code, err) == (0, "")
    for record, line in zip(jsonl(out), lines):
        args = ["grad", line["expr"], "--format", "json"]
        for name, v in line.items():
            if name not in ("expr", "id"):
                args.append(
                    f"--{name}=" + (",".join(map(str, v)) if isinstance(v, list) else str(v))
                )
        single = dezero(*args)
        expected = json.loads(single.stdout)
        del expected["schema"]  # a document's, not a batch record's
        assert record == {"id": line["id"], **expected}
    assert jsonl(out)[0]["value"] == 1.648721270700128
    assert jsonl(out)[0]["grad"] == {"x": 3.297442541400256}


def test_records_order_two_derivatives(dezero):
    code, out, _ = dezero("batch", "--order", "2", stdin='{"expr": "x*y + x^3", "x": 2, "y": 5}\n')
    assert code == 0
    (record,) = jsonl(out)
    assert record["derivatives"] == [
        {"x": 17.0, "y": 2.0},
        {"x": {"x": 12.0, "y": 1.0}, "y": {"x": 1.0, "y": 0.0}},
    ]


@settings(max_examples=20, deadline=None)
@given(
    st.lists(
        st.sampled_from(["good", "good2", "bad_value", "blank", "bad_expr", "junk"]),
        min_size=1,
        max_size=60,
    ),
    st.integers(1, 7),
)
def test_one_output_record_per_input_record_in_order(kinds, window):
    lines = []
    for i, kind in enumerate(kinds):
        if kind == "good":
            lines.append(json.dumps({"id": i, "expr": "x*x", "x": i}))
        elif kind == "good2":
            lines.append(json.dumps({"id": i, "expr": "sin(x)+y", "x": i, "y": 1}))
        elif kind == "bad_value":
            lines.append(json.dumps({"id": i, "expr": "x", "x": "one"}))
        elif kind == "bad_expr":
            lines.append(json.dumps({"id": i, "expr": "x+*", "x": 1}))
        else:
            lines.append("" if kind == "blank" else "{nope")
    source = io.BytesIO(("\n".join(lines) + "\n").encode())
    sink = io.StringIO()
    options = batch.BatchOptions(record_window=window, block_bytes=64)  # many of each
    stats = batch.run(source, sink, "jsonl", "jsonl", options)
    records = jsonl(sink.getvalue())
    assert len(records) == len(kinds) == stats.records
    bad = 0
    for i, (kind, record) in enumerate(zip(kinds, records)):
        assert record["error"].startswith(f"line {i + 1}: ") if "error" in record else True
        if kind.startswith("good"):
            assert record["id"] == i and "error" not in record
            assert record["value"] == (i * i if kind == "good" else math.sin(i) + 1)
        else:
            bad += 1
            assert "error" in record
    assert stats.failed == bad


@settings(max_examples=20, deadline=None)
@given(st.lists(st.sampled_from(["good", "bad", "blank", "short"]), min_size=1, max_size=80))
def test_one_output_row_per_input_row_across_chunks(kinds):
    rows = []
    for i, kind in enumerate(kinds):
        rows.append({"good": f"{i},{i}.5", "bad": f"{i},x", "blank": "", "short": f"{i}"}[kind])
    source = io.BytesIO(("id,x\n" + "\n".join(rows) + "\n").encode())
    sink = io.StringIO()
    options = batch.BatchOptions(expr=api.as_program("2*x"), block_bytes=16)
    stats = batch.run(source, sink, "csv", "csv", options)
    out = list(csv.reader(io.StringIO(sink.getvalue())))
    assert out[0] == ["id", "x", "value", "grad_x", "error"]
    assert len(out) - 1 == len(kinds) == stats.records
    for i, (kind, row) in enumerate(zip(kinds, out[1:])):
        if kind == "good":
            assert row == [str(i), f"{i}.5", repr(2 * (i + 0.5)), "2.0", ""]
        else:
            assert row[4].startswith(f"line {i + 2}: ")
    assert stats.failed == sum(kind != "good" for kind in kinds)


def test_fail_fast_stops_after_the_first_bad_record(dezero):
    code, out, err = dezero("batch", "--expr", "x", "--fail-fast", stdin="x\n1\nbad\n3\n")
    assert code == 1
    assert out.splitlines()[-1].endswith("line 3: value of x is not a number: 'bad'")
    assert len(out.splitlines()) == 3
    assert err == "error: stopped at the first bad record, line 3\n"


# Unusable arguments: exit 2 -------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, stdin, message",
    [
        (
            ["--expr", "x*y"],
            "x\n1\n",
            "error: no column for variable 'y': the header (line 1) has 'x'\n",
        ),
        (
            ["--expr", "x", "--wrt", "z"],
            "x\n1\n",
            "error: --wrt names 'z', which is not a variable of the expression\n",
        ),
        (
            ["--input-format", "csv"],
            "x\n1\n",
            "error: CSV input is a table of points: give the "
            "expression with --expr (records with their own expressions are JSON Lines)\n",
        ),
        (
            ["--output-format", "csv"],
            "{}\n",
            "error: JSON Lines input can only be written as JSON Lines (jsonl)\n",
        ),
        (
            ["--expr", "x"],
            "",
            "error: the input has no header line naming the variables (line 1 is empty)\n",
        ),
        (
            ["--expr", "x", "missing.csv"],
            "",
            "error: cannot read missing.csv: No such file or directory\n",
        ),
        (
            ["--expr", "x", "--no-grad", "--order", "2"],
            "",
            "error: --no-grad and --order exclude each other\n",
        ),
    ],
)
def test_unusable_arguments_exit_2(args, stdin, message, dezero):
    code, out, err = dezero("batch", *args, stdin=stdin)
    assert (code, out, err) == (2, "", message)


def test_bad_expression_exits_2_with_caret(dezero):
    code, out, err = dezero("batch", "--expr", "x +* y", stdin="x,y\n1,2\n")
    assert (code, out) == (2, "")
    assert err.splitlines()[1:] == ["  x +* y", "     ^"]


# Real processes: stdin, pipes, streaming, Ctrl-C, progress ------------------------------------


def test_stdin_through_a_real_process(dezero_process):
    proc = dezero_process("batch", "--expr", "x^2", "-", stdin=b"x\n3\n")
    assert proc == (0, "x,value,grad_x,error\n3,9.0,6.0,\n", "")


def test_head_ends_the_pipe_quietly(tmp_path, dezero_process):
    # A real shell pipeline into `head`: the subject is the pipe, so this runs bash, with the
    # fixture's command line inside.
    src = tmp_path / "many.csv"
    src.write_text("x\n" + "".join(f"{i}\n" for i in range(300_000)))
    cmd = shlex.join(dezero_process.command("batch", "--expr", "x*2", str(src)))
    proc = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {cmd} | head -n 3"], capture_output=True, check=False
    )
    assert proc.stdout == b"x,value,grad_x,error\n0,0.0,2.0,\n1,2.0,2.0,\n"
    assert proc.stderr == b""
    assert proc.returncode == 0


def _readline(stream, box: list) -> None:
    box.append(stream.readline())


def test_results_stream_out_before_input_ends_and_ctrl_c_exits_130(dezero_process):
    proc = dezero_process.start(
        "batch",
        "--expr",
        "x+1",
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        proc.stdin.write(b"x\n41\n")
        proc.stdin.flush()
        lines: list = []
        for _ in range(2):  # header, then the row, while stdin is still open
            reader = threading.Thread(target=_readline, args=(proc.stdout, lines))
            reader.start()
            reader.join(60)  # a hang guard, not a speed test
            assert not reader.is_alive(), "no output while the input is still open"
        assert lines == [b"x,value,grad_x,error\n", b"41,42.0,1.0,\n"]
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert err == b"error: interrupted\n"


@pytest.mark.requires_module("pty")
def test_progress_goes_to_a_terminal_stderr_and_stdout_stays_clean(tmp_path, dezero_process):
    src = tmp_path / "in.csv"
    src.write_text("x\n" + "".join(f"{i}\n" for i in range(1000)))
    code, out, shown = dezero_process.on_terminal("batch", "--expr", "x", str(src))
    assert code == 0
    assert b" rows" in shown and b"rows/s" in shown
    lines = out.decode().splitlines()
    assert lines[0] == "x,value,grad_x,error" and lines[-1] == "999,999.0,1.0,"
    assert len(lines) == 1001 and "\x1b" not in out.decode()


def test_excel_bom_is_dropped_and_tsv_cells_pass_through(tmp_path, dezero):
    src = tmp_path / "in.tsv"
    src.write_bytes("\ufeffname\tx\nfirst, of all\t2\n".encode())
    code, out, _ = dezero("batch", "--expr", "x^3", str(src), stdin=b"")
    assert (code, out) == (0, "name\tx\tvalue\tgrad_x\terror\nfirst, of all\t2\t8.0\t12.0\t\n")


def test_warnings_and_errors_in_one_chunk_keep_their_lines(dezero):
    code, out, err = dezero("batch", "--expr", "sqrt(x)", stdin="x\n4\n-4\nfour\n9\n")
    assert code == 1
    assert out == (
        "x,value,grad_x,error\n4,2.0,0.25,\n-4,,,\nfour,,,line 4: value of x is not a number: "
        "'four'\n9,3.0,0.16666666666666666,\n"
    )
    assert err.splitlines()[0] == "warning: line 3: sqrt gave nan (outside its domain)"


@pytest.mark.parametrize(
    "line",
    [
        {"expr": "x^4 - 2*x^2", "x": 2},
        {"expr": "x*y + sin(x)/(1 + y^2)", "x": 0.7, "y": -1.3},
        {"expr": "log(x)*y", "x": -1, "y": 2},
        {"expr": "sqrt(x) + y", "x": 0, "y": 1},
        {"expr": "2", "x": 1},
    ],
)
def test_records_order_two_match_dezero_grad_order_two(line, dezero):
    code, out, _ = dezero("batch", "--order", "3", stdin=json.dumps(line) + "\n")
    assert code == 0
    args = ["grad", line["expr"], "--order", "3", "--format", "json"]
    program_vars = api.as_program(line["expr"]).variables
    args += [f"--{k}={v}" for k, v in line.items() if k in program_vars]
    single = dezero(*args)
    assert single.code == 0, single.stderr
    record = jsonl(out)[0]
    record.pop("x", None)  # passed through when the expression does not use it
    expected = json.loads(single.stdout)
    del expected["schema"]  # a document's, not a batch record's
    assert record == expected


@pytest.mark.parametrize("flags", [[], ["--no-grad"]])
def test_records_text_is_byte_identical_to_dezero_grad_json(flags, dezero):
    """The fast text template and render.results.result_record must never drift apart."""
    lines = [
        '{"expr": "x*y + exp(x)", "x": 0.25, "y": -3}',
        '{"expr": "x*y + exp(x)", "x": 1e-300, "y": 7}',
    ]
    code, out, _ = dezero("batch", *flags, stdin="\n".join(lines) + "\n")
    assert code == 0
    command = "eval" if flags else "grad"
    for got, line in zip(out.splitlines(), lines):
        obj = json.loads(line)
        args = [command, obj["expr"], "--format", "json", f"--x={obj['x']}", f"--y={obj['y']}"]
        single = dezero(*args)
        # The same text but for the document's "schema", which batch records leave out.
        assert '{"schema": 1, ' + got[1:] + "\n" == single.stdout


def test_a_stray_carriage_return_is_an_error_row_or_a_header_error(dezero):
    # Found by fuzzing: csv.Error escaped as an internal error (exit 3).
    code, out, err = dezero("batch", "--expr", "x+y", stdin="x,y\n1,2\r3,4\n5,6\n")
    assert code == 1
    assert out.splitlines() == [
        "x,y,value,grad_x,grad_y,error",
        ",,,,,line 2: not valid CSV: new-line character seen in unquoted field",
        "5,6,11.0,1.0,1.0,",
    ]
    code, out, err = dezero("batch", "--expr", "x+y", stdin="\r\x00")
    assert (code, out) == (2, "")
    assert err == (
        "error: the header line (line 1) is not valid CSV: new-line character seen in "
        "unquoted field\n"
    )


@pytest.mark.parametrize("args, data", [([], ""), (["--expr", "x"], "x\n")])
def test_no_records_is_a_warning_and_success(args, data, dezero):
    assert dezero("batch", *args, "-", stdin=data) == (
        0,
        "" if not args else "x,value,grad_x,error\n",
        "warning: the input has no records: nothing to evaluate\n",
    )
