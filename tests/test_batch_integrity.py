"""`dezero batch`: nothing lost, nothing misleading.

Huge numbers, lines judged alone, an output that never destroys the input or the file it
replaces, JSON Lines windows bounded in memory and time, one rule for every spelling of a
value, output names that are never ambiguous, and a byte order mark in JSON Lines.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from dezero_cli import api, render
from dezero_cli.batch import files, names
from dezero_cli.cli import main

DEZERO = [sys.executable, "-m", "dezero_cli"]
FAILED_1_OF_2 = "error: 1 of 2 records failed, the first on line 2 (see the error field)\n"


def run(args: list[str], stdin: bytes | str = b"") -> tuple[int, str, str]:
    """`dezero batch ARGS` in-process through cli.main, its standard streams captured."""
    if isinstance(stdin, str):
        stdin = stdin.encode()
    with CliRunner().isolation(input=stdin) as (out, err, _):
        code = main(["batch", *args])
        sys.stdout.flush()
        sys.stderr.flush()
    return code, out.getvalue().decode(), err.getvalue().decode()


def good(record_id, x: float = 1.0, expr: str = "x") -> str:
    """The output of a record `{"id": ID, "expr": "x", "x": X}`."""
    return (
        f'{{"id": {json.dumps(record_id)}, "expr": "{expr}", "inputs": {{"x": {x!r}}}, '
        f'"value": {x!r}, "grad": {{"x": 1.0}}, "warnings": []}}'
    )


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
    assert run(["--expr", "x", "-o", "/dev/full"], "x\n1\n") == (
        2,
        "",
        "error: cannot write /dev/full: No space left on device\n",
    )


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


@pytest.mark.parametrize("fmt", ["csv"])
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


# 5. One rule for every spelling of a value --------------------------------------------------


def test_underflow_in_a_csv_cell_is_refused_on_the_fast_path():
    assert run(["--expr", "x"], "x\n1e-400\n") == (
        1,
        "x,value,grad_x,error\n1e-400,,,line 2: value of x: 1e-400 is too small for float64 "
        "(it would become 0; smallest 5e-324)\n",
        "error: 1 of 1 records failed, the first on line 2 (see the error field)\n",
    )


# 6. Output names are never ambiguous, and no input cell is lost --------------------------------


@pytest.mark.parametrize(
    "header, fmt, message",
    [
        ("x,value,error,expr", "csv", "column 'value' of the header (line 1) has the name of an "
         "output column (value, error, grad_*, d2f/dx2...): rename it"),
        ("x,value,error,expr", "jsonl", "column 'value' of the header (line 1) has the name of "
         "an output field (expr, inputs, value, grad, derivatives, warnings, error): rename it"),
        ("x,expr", "jsonl", "column 'expr' of the header (line 1) has the name of an output "
         "field (expr, inputs, value, grad, derivatives, warnings, error): rename it"),
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


@pytest.mark.parametrize("order", [0, 1, 2, 3])
def test_the_reserved_names_are_the_names_batch_writes(order):
    # Every CSV column batch adds is an output column; every key of a record is a record key.
    for wrt in [("x",), ("x", "y1"), ("a_b", "c")]:
        for column in names.output_columns(names.column_labels(wrt, order)):
            assert names.is_output_column(column), column
    result = (
        api.derivatives("x*y", {"x": 1.0, "y": 2.0}, 2)
        if order > 1
        else api.grad("x*y", {"x": 1.0, "y": 2.0})
    )
    record = {**render.result_record(result), "error": "..."}
    assert set(record) <= set(names.RECORD_KEYS)
