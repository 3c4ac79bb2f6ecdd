"""`dezero batch`: nothing lost, nothing misleading.

Huge numbers, lines judged alone, an output that never destroys the input or the file it
replaces, JSON Lines windows bounded in memory and time, one rule for every spelling of a
value, output names that are never ambiguous, and a byte order mark in JSON Lines.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import dezero_command, run_in_process
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dezero_cli import api, batch
from dezero_cli.batch import files, names
from dezero_cli.batch.jsonlines import RawNumber, dumps, load
from dezero_cli.render.results import result_record

pytestmark = pytest.mark.usefixtures("batch_path")  # each test on both paths

DEZERO = dezero_command()  # a real process, as the harness runs one
FAILED_1_OF_2 = "error: 1 of 2 records failed, the first on line 2 (see the error field)\n"


def run(args: list[str], stdin: bytes | str = b"") -> tuple[int, str, str]:
    """`dezero batch ARGS` through the harness's in-process runner: (code, stdout, stderr)."""
    outcome = run_in_process("batch", *args, stdin=stdin)
    return outcome.code, outcome.stdout, outcome.stderr


def good(record_id, x: float = 1.0, expr: str = "x") -> str:
    """The output of a record `{"id": ID, "expr": "x", "x": X}`."""
    return (
        f'{{"id": {json.dumps(record_id)}, "expr": "{expr}", "inputs": {{"x": {x!r}}}, '
        f'"value": {x!r}, "grad": {{"x": 1.0}}, "warnings": []}}'
    )


# 1. Huge numbers: one record's error, every other record out, nothing dropped ----------------

BIG_INT = "1" + "0" * 400
HUGE_INT = "9" * 4301  # over Python's limit on reading an integer from text


def test_an_oversized_integer_value_is_that_records_error():
    text = f'{{"id":1,"expr":"x","x":1}}\n{{"id":2,"expr":"x","x":{BIG_INT}}}\n'
    assert run([], text) == (
        1,
        good(1)
        + "\n"
        + f'{{"id": 2, "expr": "x", "x": {BIG_INT}, '
        + '"error": "line 2: value of x is outside the float64 range"}\n',
        FAILED_1_OF_2,
    )


@pytest.mark.parametrize("where", ["value", "pass", "nested", "string", "list"])
def test_an_integer_of_4301_digits_anywhere(where):
    record = {
        "value": f'{{"id":2,"expr":"x","x":{HUGE_INT}}}',
        "pass": f'{{"id":2,"expr":"x","x":1,"n":{HUGE_INT}}}',
        "nested": f'{{"id":2,"expr":"x","x":1,"m":{{"a":[1,{HUGE_INT}]}}}}',
        "string": f'{{"id":2,"expr":"x","x":"{HUGE_INT}"}}',
        "list": f'{{"id":2,"expr":"x","x":[1,{HUGE_INT}]}}',
    }[where]
    code, out, err = run([], '{"id":1,"expr":"x","x":1}\n' + record + "\n")
    first, second = out.splitlines()
    assert first == good(1)
    if where in ("pass", "nested"):  # passed through exactly as written
        assert (code, err) == (0, "")
        kept = {"pass": f'"n": {HUGE_INT}', "nested": f'"m": {{"a": [1, {HUGE_INT}]}}'}[where]
        assert second == f'{{"id": 2, {kept}, ' + good(2)[len('{"id": 2, ') :]
    else:
        assert (code, err) == (1, FAILED_1_OF_2)
        cut = "9" * 27 + "..."
        assert (
            load(second)["error"]
            == {
                "value": "line 2: value of x is outside the float64 range",
                "string": f"line 2: value of x: {cut} is outside the float64 range "
                "(largest about 1.8e308)",
                "list": f"line 2: value of x: {cut} is outside the float64 range "
                "(largest about 1.8e308)",
            }[where]
        )
        assert second.startswith('{"id": 2, "expr": "x", "x": ')  # every field kept


def test_numbers_float64_cannot_hold_pass_through_as_written():
    # JSON allows any number literal: a field that is not a variable comes out as it came in.
    line = '{"id":7,"expr":"x","x":2,"note":1e400,"tiny":-1e-400,"deep":[{"z":1E+999}, 0.0]}'
    assert run([], line + "\n") == (
        0,
        '{"id": 7, "note": 1e400, "tiny": -1e-400, "deep": [{"z": 1E+999}, 0.0], '
        + good(7, 2.0)[len('{"id": 7, ') :]
        + "\n",
        "",
    )


def test_error_records_keep_numbers_as_written():
    line = '{"id":1,"expr":"2x","x":1,"note":1e400}'
    assert run([], line + "\n") == (
        1,
        '{"id": 1, "expr": "2x", "x": 1, "note": 1e400, "error": "line 1: implicit '
        'multiplication is not supported: write 2*x (column 2)"}\n',
        "error: 1 of 1 records failed, the first on line 1 (see the error field)\n",
    )


def test_points_from_json_lines_keep_huge_numbers_too():
    text = f'{{"id":1,"x":1}}\n{{"id":{HUGE_INT},"x":1e400}}\n{{"id":3,"x":3,"n":1e-999}}\n'
    code, out, err = run(["--expr", "x", "--input-format", "jsonl"], text)
    assert (code, err) == (
        1,
        "error: 1 of 3 records failed, the first on line 2 (see the error field)\n",
    )
    assert out.splitlines() == [
        '{"id": 1, "expr": "x", "inputs": {"x": 1.0}, "value": 1.0, "grad": {"x": 1.0}, '
        '"warnings": []}',
        f'{{"id": {HUGE_INT}, "x": 1e400, "error": "line 2: value of x is outside the float64 '
        'range"}',
        '{"id": 3, "n": 1e-999, "expr": "x", "inputs": {"x": 3.0}, "value": 3.0, '
        '"grad": {"x": 1.0}, "warnings": []}',
    ]


def test_raw_numbers_are_written_as_json_dumps_writes_the_rest():
    value = {"a": [1, RawNumber("1e400"), {"b": "é\n", "c": None}], "d": {}, "e": [True]}
    assert dumps(value) == '{"a": [1, 1e400, {"b": "\\u00e9\\n", "c": null}], "d": {}, "e": [true]}'
    deep = RawNumber("1e400")
    for _ in range(5000):  # deeper than Python's recursion limit: the writer loops
        deep = [deep]
    assert dumps(deep) == "[" * 5000 + "1e400" + "]" * 5000


# 2. -o never destroys the input, nor a file it would replace -----------------------------------


POINTS = "x,y\n1,2\n"
OUT = "x,y,value,grad_x,grad_y,error\n1,2,2.0,2.0,1.0,\n"


@pytest.fixture
def points_dir(tmp_path, monkeypatch):
    (tmp_path / "s.csv").write_text(POINTS)
    (tmp_path / "link.csv").symlink_to("s.csv")
    os.link(tmp_path / "s.csv", tmp_path / "hard.csv")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    "output", ["s.csv", "./s.csv", "{dir}/s.csv", "link.csv", "hard.csv", "sub/../s.csv"]
)
def test_an_output_that_is_the_input_is_refused(points_dir, output):
    output = output.format(dir=points_dir)
    assert run(["--expr", "x*y", "s.csv", "-o", output]) == (
        2,
        "",
        f"error: the output {output} is the input file: give -o another file\n",
    )
    assert (points_dir / "s.csv").read_text() == POINTS
    assert sorted(os.listdir(points_dir)) == ["hard.csv", "link.csv", "s.csv", "sub"]


def test_the_input_by_another_name_is_refused_as_input_too(points_dir):
    assert run(["--expr", "x*y", "link.csv", "-o", "hard.csv"])[0] == 2
    assert (points_dir / "s.csv").read_text() == POINTS


def test_standard_input_or_output_that_is_the_input_file_is_refused(points_dir):
    with open("s.csv", "rb") as source:
        proc = subprocess.run(
            [*DEZERO, "batch", "--expr", "x*y", "-o", "hard.csv"], stdin=source,
            capture_output=True, check=False,
        )  # fmt: skip
    assert (proc.returncode, proc.stdout) == (2, b"")
    assert proc.stderr == b"error: the output hard.csv is the input file: give -o another file\n"
    with open("s.csv", "a") as sink:  # `>> s.csv`: would read its own output forever
        proc = subprocess.run(
            [*DEZERO, "batch", "--expr", "x*y", "s.csv"], stdout=sink, stderr=subprocess.PIPE,
            check=False, timeout=60,
        )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr == (
        b"error: standard output is the input file: write with -o to another file\n"
    )
    assert (points_dir / "s.csv").read_text() == POINTS


def test_a_run_that_cannot_start_leaves_the_old_output_intact(points_dir):
    (points_dir / "results.csv").write_text("old results\n")
    assert run(["--expr", "x*z", "s.csv", "-o", "results.csv"]) == (
        2,
        "",
        "error: no column for variable 'z': the header (line 1) has 'x', 'y'\n",
    )
    assert (points_dir / "results.csv").read_text() == "old results\n"
    assert run(["--expr", "x", "-o", "new.csv"], "a,b\n")[0] == 2
    assert not (points_dir / "new.csv").exists()
    assert sorted(os.listdir(points_dir)) == ["hard.csv", "link.csv", "results.csv", "s.csv", "sub"]


def test_a_finished_run_replaces_the_output_keeping_its_mode_and_symlink(points_dir):
    target = points_dir / "sub" / "results.csv"
    target.write_text("old results\n")
    target.chmod(0o640)
    (points_dir / "out.csv").symlink_to(target)
    assert run(["--expr", "x*y", "s.csv", "-o", "out.csv"]) == (0, "", "")
    assert (points_dir / "out.csv").is_symlink()
    assert target.read_text() == OUT
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(os.listdir(points_dir / "sub")) == ["results.csv"]
    # A new file gets the mode open() would give it.
    mask = os.umask(0o027)
    try:
        assert run(["--expr", "x*y", "s.csv", "-o", "fresh.csv"]) == (0, "", "")
    finally:
        os.umask(mask)
    assert stat.S_IMODE((points_dir / "fresh.csv").stat().st_mode) == 0o640


def test_a_run_with_failed_records_still_replaces_the_output(points_dir):
    code, out, err = run(["--expr", "x*y", "-o", "r.csv", "--fail-fast"], "x,y\n1,2\nz,1\n3,4\n")
    assert (code, out) == (1, "")
    assert (points_dir / "r.csv").read_text() == (
        "x,y,value,grad_x,grad_y,error\n1,2,2.0,2.0,1.0,\nz,1,,,,line 3: value of x is not "
        "a number: 'z'\n"
    )


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_an_output_that_cannot_be_written_is_one_error():
    # Exit 74, an I/O error, as for any output that opened but could not be written.
    assert run(["--expr", "x", "-o", "/dev/full"], "x\n1\n") == (
        74,
        "",
        "error: cannot write /dev/full: No space left on device\n",
    )


@pytest.mark.parametrize(
    "output, why",
    [("", "No such file or directory"), ("new/", "Is a directory"), ("sub/", "Is a directory"),
     ("sub", "Is a directory"), ("no/such.csv", "No such file or directory")],
)  # fmt: skip
def test_outputs_that_cannot_be_files_are_refused_before_the_run(points_dir, output, why):
    assert run(["--expr", "x*y", "s.csv", "-o", output]) == (
        2,
        "",
        f"error: cannot write {output}: {why}\n",
    )
    assert sorted(os.listdir(points_dir)) == ["hard.csv", "link.csv", "s.csv", "sub"]
    assert os.listdir(points_dir / "sub") == []


def test_devices_are_written_as_they_are(points_dir):
    assert run(["--expr", "x*y", "s.csv", "-o", os.devnull]) == (0, "", "")
    assert run(["--expr", "x*y", "s.csv", "-o", "-"]) == (0, OUT, "")


def test_a_directory_we_may_not_create_files_in(points_dir, monkeypatch):
    # The temporary file cannot be made: an existing file we may write is written in place,
    # once the run has started; otherwise the run cannot start.
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(files.tempfile, "mkstemp", refuse)
    (points_dir / "results.csv").write_text("old results\n")
    assert run(["--expr", "x*z", "s.csv", "-o", "results.csv"])[0] == 2
    assert (points_dir / "results.csv").read_text() == "old results\n"
    assert run(["--expr", "x*y", "s.csv", "-o", "results.csv"]) == (0, "", "")
    assert (points_dir / "results.csv").read_text() == OUT
    assert run(["--expr", "x*y", "s.csv", "-o", "new.csv"]) == (
        2,
        "",
        "error: cannot write new.csv: Permission denied\n",
    )


def test_closed_standard_input_is_one_error():
    proc = subprocess.run(
        [*DEZERO, "batch", "--expr", "x"], stdin=subprocess.DEVNULL, capture_output=True,
        preexec_fn=lambda: os.close(0), check=False,
    )  # fmt: skip
    assert (proc.returncode, proc.stdout) == (2, b"")
    assert proc.stderr == b"error: standard input is closed: give an INPUT file\n"


def _wait_for(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _temporary(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_ctrl_c_keeps_the_whole_lines_written_in_place_of_the_old_output(tmp_path, fmt):
    dest = tmp_path / f"out.{fmt}"
    dest.write_text("old results\n")
    args = ["--expr", "x+1"] if fmt == "csv" else []
    proc = subprocess.Popen(
        [*DEZERO, "batch", *args, "-o", str(dest)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        first = b"x\n41\n" if fmt == "csv" else b'{"expr": "x+1", "x": 41}\n'
        proc.stdin.write(first)
        proc.stdin.flush()
        want = (
            "x,value,grad_x,error\n41,42.0,1.0,\n"
            if fmt == "csv"
            else '{"expr": "x+1", "inputs": {"x": 41.0}, "value": 42.0, "grad": {"x": 1.0}, '
            '"warnings": []}\n'
        )
        _wait_for(lambda: [p.read_text() for p in _temporary(tmp_path)] == [want])
        assert dest.read_text() == "old results\n"  # nothing replaced while it runs
        proc.stdin.write(b"4")  # half a line: never written
        proc.stdin.flush()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert (proc.returncode, out, err) == (130, b"", b"error: interrupted\n")
    assert dest.read_text() == want
    assert _temporary(tmp_path) == []


def test_ctrl_c_before_anything_is_written_leaves_the_old_output(tmp_path):
    dest = tmp_path / "out.csv"
    dest.write_text("old results\n")
    proc = subprocess.Popen(
        [*DEZERO, "batch", "--expr", "x", "-o", str(dest)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        _wait_for(lambda: _temporary(tmp_path))  # started, waiting for the header
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert (proc.returncode, err) == (130, b"error: interrupted\n")
    assert dest.read_text() == "old results\n"
    assert _temporary(tmp_path) == []


# 3. Every JSON Lines line is judged alone ------------------------------------------------------


def test_a_value_split_over_lines_and_records_glued_on_one_line_are_errors():
    text = (
        '{"id":1,"expr":"x","x":[1\n'
        "2]}\n"
        '{"id":3,"expr":"x","x":3}, {"id":4,"expr":"x","x":4}\n'
        '{"id":5,"expr":"x","x":5}\n'
    )
    assert run([], text) == (
        1,
        '{"error": "line 1: not valid JSON (Expecting \',\' delimiter at column 26)"}\n'
        '{"error": "line 2: not valid JSON (Extra data at column 2)"}\n'
        '{"error": "line 3: not valid JSON (Extra data at column 26)"}\n' + good(5, 5.0) + "\n",
        "error: 3 of 4 records failed, the first on line 1 (see the error field)\n",
    )


def _alone(line: str, number: int) -> dict:
    """The output record of `line` in a run of its own, as if it were line `number`."""
    sink = io.StringIO()
    batch.run(io.BytesIO(line.encode() + b"\n"), sink, "jsonl", "jsonl", batch.BatchOptions())
    record = json.loads(sink.getvalue())
    if "error" in record:
        record["error"] = record["error"].replace("line 1: ", f"line {number}: ", 1)
    return record


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 9), min_size=1, max_size=12),
    st.lists(st.tuples(st.integers(0, 11), st.sampled_from(["split", "glue", "comma"]))),
    st.sampled_from([1, 3, 50_000]),
)
@example([0, 0], [(0, "comma"), (0, "split")] + [(1, "split")] * 4, 1)  # a line of one space
def test_lines_are_judged_alone_whatever_the_window(xs, edits, window):
    lines = [json.dumps({"id": i, "expr": "x", "x": x}) for i, x in enumerate(xs)]
    for where, how in edits:
        k = where % len(lines)
        if how == "split" and len(lines[k]) > 2:
            cut = len(lines[k]) // 2
            lines[k : k + 1] = [lines[k][:cut], lines[k][cut:]]
        elif k + 1 < len(lines):
            lines[k : k + 2] = [lines[k] + (", " if how == "comma" else "") + lines[k + 1]]
    source = io.BytesIO(("\n".join(lines) + "\n").encode())
    sink = io.StringIO()
    options = batch.BatchOptions(record_window=window, block_bytes=64)
    stats = batch.run(source, sink, "jsonl", "jsonl", options)
    out = [json.loads(line) for line in sink.getvalue().splitlines()]
    assert len(out) == len(lines) == stats.records
    for i, (line, record) in enumerate(zip(lines, out)):
        assert record == _alone(line, i + 1)
        try:
            alone = json.loads(line)
        except ValueError:  # a line of spaces alone is blank, as load says
            why = "blank line" if not line.strip() else "not valid JSON"
            assert record["error"].startswith(f"line {i + 1}: {why}")
        else:
            assert ("error" in record) == (not isinstance(alone, dict) or alone.keys() != {
                "id", "expr", "x"})  # fmt: skip


_FIELD = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(-(10**20), 10**20),
    st.sampled_from([0.0, -0.0, 0, 1.5, 10**400, "2.5", "nan", "1e400", "1, 2", [1, 2], [],
                     None, True, {"a": 1}, "é", "a%sb", "x"]),
)  # fmt: skip
_KEYS = ["id", "expr", "x", "y", "x_sd", "note", "value", "a%s", "é"]
_EXPRS = ["x*y", "sin(x) + y", "x", "[x, y]", "x +", "1", "sum(x)", 3]


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.tuples(st.sampled_from(_KEYS), _FIELD), max_size=5),
            st.one_of(st.none(), st.sampled_from(_EXPRS)),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_records_judged_together_give_the_bytes_each_gives_alone(records):
    # Records of a window are judged in bulk by their expression and keys; every record must
    # come out as it does alone, and as --fail-fast (which judges each as it comes) writes it.
    lines = []
    for fields, expr in records:
        record = dict(fields)
        if expr is not None:
            record["expr"] = expr
        lines.append(json.dumps(record))

    def run(text: str, **options) -> str:
        sink = io.StringIO()
        source = io.BytesIO(text.encode() + b"\n")
        batch.run(source, sink, "jsonl", "jsonl", batch.BatchOptions(**options))
        return sink.getvalue()

    together = run("\n".join(lines)).splitlines()
    alone = [
        run(line).rstrip("\n").replace('"error": "line 1: ', f'"error": "line {i + 1}: ', 1)
        for i, line in enumerate(lines)
    ]
    assert together == alone
    one_by_one = run("\n".join(lines), fail_fast=True).splitlines()
    assert together[: len(one_by_one)] == one_by_one


# 4. JSON Lines stream: windows bounded by records, bytes and time ------------------------------


class Recording:
    """A sink that remembers what each flush wrote."""

    def __init__(self):
        self.parts: list[str] = []
        self.pending = ""

    def write(self, text: str) -> None:
        self.pending += text

    def flush(self) -> None:
        self.parts.append(self.pending)
        self.pending = ""


def _records(n: int) -> bytes:
    return "".join(json.dumps({"id": i, "expr": "x", "x": i}) + "\n" for i in range(n)).encode()


@pytest.mark.parametrize(
    "limits, sizes",
    [
        ({}, [10]),
        ({"record_window": 4}, [4, 4, 2]),
        ({"window_bytes": 80}, [3, 3, 3, 1]),  # each line is 32 characters
        ({"window_seconds": 0}, [1] * 10),
    ],
)
def test_windows_end_at_records_bytes_or_time_and_each_is_written_whole(limits, sizes):
    sink = Recording()
    options = batch.BatchOptions(**limits)
    batch.run(io.BytesIO(_records(10)), sink, "jsonl", "jsonl", options)
    assert [part.count("\n") for part in sink.parts] == sizes
    assert "".join(sink.parts).splitlines() == [good(i, float(i)) for i in range(10)]


@pytest.mark.parametrize("shared, sizes", [(True, [16, 14]), (False, [4] * 7 + [2])])
def test_a_window_of_records_sharing_expressions_may_read_for_longer(monkeypatch, shared, sizes):
    # A clock that moves a quarter second at each look: a window is due after a second of
    # reading, or after four while three in four of its records joined an earlier one's group.
    ticks = iter(range(10_000))
    records_module = sys.modules["dezero_cli.batch.records"]
    monkeypatch.setattr(records_module, "perf_counter", lambda: next(ticks) / 4)
    text = "".join(
        json.dumps({"id": i, "expr": "x" if shared else f"x+{i}", "x": 1}) + "\n" for i in range(30)
    )
    sink = Recording()
    batch.run(io.BytesIO(text.encode()), sink, "jsonl", "jsonl", batch.BatchOptions())
    assert [part.count("\n") for part in sink.parts] == sizes


def test_records_from_a_slow_pipe_come_out_as_they_are_ready():
    proc = subprocess.Popen(
        [*DEZERO, "batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        got: list = []
        for x in (1, 2):
            proc.stdin.write(json.dumps({"expr": "x", "x": x}).encode() + b"\n")
            proc.stdin.flush()
            reader = threading.Thread(target=lambda: got.append(proc.stdout.readline()))
            reader.start()
            reader.join(60)  # a hang guard, not a speed test
            assert not reader.is_alive(), "no output while the input is still open"
        rest, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert [line.decode() for line in got] == [
        '{"expr": "x", "inputs": {"x": 1.0}, "value": 1.0, "grad": {"x": 1.0}, "warnings": []}\n',
        '{"expr": "x", "inputs": {"x": 2.0}, "value": 2.0, "grad": {"x": 1.0}, "warnings": []}\n',
    ]
    assert (proc.returncode, rest, err) == (0, b"", b"")


def test_a_file_of_slow_records_is_written_window_by_window_and_ctrl_c_keeps_a_prefix(tmp_path):
    # 20,000 distinct expressions take many seconds; the first windows come out long before.
    src = tmp_path / "slow.jsonl"
    src.write_text(
        "".join(
            json.dumps({"id": i, "expr": f"sin(x)*{i} + exp(x/{i + 1})", "x": 0.5}) + "\n"
            for i in range(20_000)
        )
    )
    dest = tmp_path / "out.jsonl"
    proc = subprocess.Popen(
        [*DEZERO, "batch", str(src), "-o", str(dest)], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        _wait_for(lambda: any(p.stat().st_size for p in _temporary(tmp_path)))
        # Bytes on disk may be a window still being written (Ctrl-C then keeps nothing, as
        # documented): the next window is a second away, so a moment later the first is whole.
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert (proc.returncode, out, err) == (130, b"", b"error: interrupted\n")
    lines = dest.read_text().splitlines()
    assert 0 < len(lines) < 20_000
    assert [json.loads(line)["id"] for line in lines] == list(range(len(lines)))


# 5. One rule for every spelling of a value --------------------------------------------------


def test_underflow_in_a_csv_cell_is_refused_on_the_fast_path():
    assert run(["--expr", "x"], "x\n1e-400\n") == (
        1,
        "x,value,grad_x,error\n1e-400,,,line 2: value of x: 1e-400 is too small for float64 "
        "(it would become 0; smallest 5e-324)\n",
        "error: 1 of 1 records failed, the first on line 2 (see the error field)\n",
    )


LITERALS = [
    "1e-400", "2.4703282292062327e-324", "-1e-400", "0.0e-400", "1e400", "1e309", "-1e309",
    "0", "0e5", "-0.0", "5e-324", "2.4703282292062328e-324", "1.7976931348623157e308",
    "1.7976931348623159e308", "0." + "0" * 400 + "1", "1" + "0" * 308, "1" + "0" * 309,
    "000", "00.000e-999",
]  # fmt: skip


@pytest.mark.parametrize("literal", LITERALS)
def test_every_spelling_of_a_value_gets_the_rule_dezero_grad_gives(literal):
    outcome = run_in_process("grad", "x", "--x", literal)
    refused, message = outcome.code != 0, outcome.stderr
    assert refused == ("too small" in message or "outside the float64" in message)
    spellings = {
        "csv fast path": (["--expr", "x"], f"x\n{literal}\n2\n"),
        "csv slow path": (["--expr", "x"], f"x\n{literal}\n2\nnot a number\n"),
        "tsv": (["--expr", "x", "--input-format", "tsv"], f"x\n{literal}\n2\n"),
        "json string": ([], f'{{"expr":"x","x":"{literal}"}}\n'),
        "json string list": ([], f'{{"expr":"x","x":"2,{literal}"}}\n'),
    }
    if re.fullmatch(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?", literal):  # JSON's
        spellings["json number"] = ([], f'{{"expr":"x","x":{literal}}}\n')
        spellings["json list"] = ([], f'{{"expr":"x","x":[2,{literal}]}}\n')
        spellings["json points"] = (
            ["--expr", "x", "--input-format", "jsonl"],
            f'{{"x":{literal}}}\n',
        )
    for what, (args, text) in spellings.items():
        code, out, _ = run(args, text)
        first = out.splitlines()[1 if args[:1] == ["--expr"] and "jsonl" not in args else 0]
        failed = "too small" in first or "outside the float64" in first
        assert failed == refused, (what, literal, out)
        assert code == (1 if refused else 0) or what == "csv slow path", (what, literal, out)


# 6. Output names are never ambiguous, and no input cell is lost --------------------------------


@pytest.mark.parametrize(
    "header, fmt, message",
    [
        ("x,value,error,expr", "csv", "column 'value' of the header (line 1) has the name of an "
         "output column (value, error, grad_*, d2f/dx2...): rename it"),
        ("x,value,error,expr", "jsonl", "column 'value' of the header (line 1) has the name of "
         "an output field (expr, inputs, value, uncertainty, input_sd, grad, derivatives, "
         "warnings, error): rename it"),
        ("x,expr", "jsonl", "column 'expr' of the header (line 1) has the name of an output "
         "field (expr, inputs, value, uncertainty, input_sd, grad, derivatives, warnings, "
         "error): rename it"),
        ("id,id,x", "jsonl", "the header names column 'id' twice"),
        ("id,id,x", "csv", "the header names column 'id' twice"),
        ("id,x,id", "tsv", "the header names column 'id' twice"),
        ("x,grad_y", "csv", "column 'grad_y' of the header (line 1) has the name of an output "
         "column (value, error, grad_*, d2f/dx2...): rename it"),
        ("x,d3f/dy3", "csv", "column 'd3f/dy3' of the header (line 1) has the name of an output "
         "column (value, error, grad_*, d2f/dx2...): rename it"),
        ("df/dx,x", "csv", "column 'df/dx' of the header (line 1) has the name of an output "
         "column (value, error, grad_*, d2f/dx2...): rename it"),
        ("x,error", "csv", "column 'error' of the header (line 1) has the name of an output "
         "column (value, error, grad_*, d2f/dx2...): rename it"),
    ],
)  # fmt: skip
def test_a_header_with_an_output_name_or_a_name_twice_cannot_start(header, fmt, message):
    text = header + "\n" + ",".join(str(i) for i in range(len(header.split(",")))) + "\n"
    for args in (["--wrt", "x"], ["--no-grad"], ["--order", "2"]):  # whatever the options
        assert run(["--expr", "x", "--output-format", fmt, *args], text) == (
            2,
            "",
            f"error: {message}\n",
        )


def test_names_that_are_not_ours_pass_through():
    text = "x,expr,values,grad,gradient,d2f,inputs\n1,a,b,c,d,e,f\n"
    assert run(["--expr", "x"], text) == (
        0,
        "x,expr,values,grad,gradient,d2f,inputs,value,grad_x,error\n1,a,b,c,d,e,f,1.0,1.0,\n",
        "",
    )
    # A variable's column goes into "inputs" in JSON Lines, so it may be named like a key.
    assert run(["--expr", "value*2", "--output-format", "jsonl"], "value\n3\n") == (
        0,
        '{"expr": "value*2", "inputs": {"value": 3.0}, "value": 6.0, "grad": {"value": 2.0}, '
        '"warnings": []}\n',
        "",
    )


FIELD = (
    "the record has a field {!r}, the name of an output field (expr, inputs, value, "
    "uncertainty, input_sd, grad, derivatives, warnings, error): rename it"
)


def test_a_record_carrying_an_output_key_is_that_records_error():
    text = (
        '{"id":1,"expr":"x","x":1,"error":"old"}\n'
        '{"id":2,"expr":"x","x":1,"value":5}\n'
        '{"id":3,"expr":"2x","x":1,"error":{"was":[1e400]}}\n'
        '{"id":4,"expr":"x","x":1}\n'
    )
    code, out, err = run([], text)
    assert (code, err) == (
        1,
        "error: 3 of 4 records failed, the first on line 1 (see the error field)\n",
    )
    old = ' (the record\'s own "error" was {})'
    assert out.splitlines() == [
        dumps({"id": 1, "expr": "x", "x": 1, "error": "line 1: " + FIELD.format("error")
               + old.format('"old"')}),
        dumps({"id": 2, "expr": "x", "x": 1, "value": 5, "error": "line 2: "
               + FIELD.format("value")}),
        dumps({"id": 3, "expr": "2x", "x": 1, "error": "line 3: implicit multiplication is not "
               "supported: write 2*x (column 2)" + old.format('{"was": [1e400]}')}),
        good(4),
    ]  # fmt: skip


def test_with_expr_a_records_own_expr_is_an_output_key():
    text = '{"id":1,"x":1}\n{"id":2,"x":2,"expr":"x^2"}\n'
    assert run(["--expr", "x", "--input-format", "jsonl"], text) == (
        1,
        '{"id": 1, "expr": "x", "inputs": {"x": 1.0}, "value": 1.0, "grad": {"x": 1.0}, '
        '"warnings": []}\n'
        + dumps({"id": 2, "x": 2, "expr": "x^2", "error": "line 2: " + FIELD.format("expr")})
        + "\n",
        FAILED_1_OF_2,
    )


def test_a_key_given_twice_is_an_error_that_keeps_every_value():
    text = '{"id":1,"id":2,"expr":"x","x":1}\n{"expr":"x","x":1,"m":{"a":1,"a":[2],"a":3}}\n'
    code, out, _ = run([], text)
    assert code == 1
    assert out.splitlines() == [
        dumps({"id": 2, "expr": "x", "x": 1, "error": "line 1: the key 'id' is given 2 times "
               "in one object: 1, 2"}),
        dumps({"expr": "x", "x": 1, "m": {"a": 3}, "error": "line 2: the key 'a' is given 3 "
               "times in one object: 1, [2], 3"}),
    ]  # fmt: skip


@pytest.mark.parametrize("order", [0, 1, 2, 3])
def test_the_reserved_names_are_the_names_batch_writes(order):
    # Every CSV column batch adds is an output column; every key of a record is a record key.
    for wrt in [("x",), ("x", "y1"), ("a_b", "c")]:
        for outputs, uncertain in [(0, False), (0, True), (1, False), (3, True)]:
            columns = names.result_columns(wrt, order, outputs, uncertain)
            for column in names.output_columns(columns):
                assert names.is_output_column(column), column
    result = (
        api.derivatives("x*y", {"x": 1.0, "y": 2.0}, 2)
        if order > 1
        else api.grad("x*y", {"x": 1.0, "y": 2.0})
    )
    record = {**result_record(result), "error": "..."}
    assert set(record) <= set(names.RECORD_KEYS)


def test_the_batch_docs_document_the_reserved_names():
    section = (Path(__file__).resolve().parents[1] / "docs" / "batch.md").read_text()
    rows = [line.strip() for line in section.splitlines()]
    (row_csv,) = [line for line in rows if line.startswith("| CSV, TSV |")]
    (row_jsonl,) = [line for line in rows if line.startswith("| JSON Lines |")]
    for column in ("`value`", "`error`", "`grad_*`", "`df/d...`", "`dKf/d...`"):
        assert column in row_csv
    for key in names.RECORD_KEYS:
        assert f"`{key}`" in row_jsonl


# 7. A byte order mark at the start of JSON Lines, as in CSV and TSV ---------------------------


@pytest.mark.parametrize("args", [[], ["--expr", "x", "--input-format", "jsonl"]])
def test_json_lines_may_start_with_a_byte_order_mark(args):
    text = '\ufeff{"id":1,"expr":"x","x":1}\n\ufeff{"id":2,"expr":"x","x":2}\n'
    if args:  # points: the records have no "expr" of their own
        text = text.replace('"expr":"x",', "")
    code, out, err = run(args, text.encode())
    assert (code, err) == (1, FAILED_1_OF_2)
    first, second = out.splitlines()
    assert first == good(1)  # only at the very start of the input, as a BOM is
    assert json.loads(second)["error"] == "line 2: not valid JSON (Expecting value at column 1)"


def test_load_judges_one_line_as_json_loads_does():
    for line in ['{"a": 1}', ' {"a": 1} ', "[1]", "1", '"s"', "{", '{"a": 1} {"b": 2}', "nul"]:
        got = load(line)
        try:
            want = json.loads(line)
        except ValueError:
            assert hasattr(got, "message") and got.message.startswith("not valid JSON")
        else:
            assert got == want
