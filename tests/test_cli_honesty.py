"""Nothing lost, nothing misleading: output that cannot be written, arguments that start with a
dash, misspelled options, suggestions, `check` at a domain's edge, limits counted alike,
numbers on terminals, batch progress. Exact outputs throughout.

`run` goes through `cli.main` in-process with the standard streams captured; `process` runs
a real `python -m dezero_cli`, for what only a process shows (descriptors, encodings,
terminals).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from dezero_cli.cli import main

DEZERO = [sys.executable, "-m", "dezero_cli"]
ENV = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "COLUMNS")}


def run(*argv: str, stdin: bytes = b"") -> tuple[int, str, str]:
    """`dezero ARGV...` in-process: (exit status, stdout, stderr)."""
    saved = sys.stdin, sys.stdout, sys.stderr
    out, err = io.BytesIO(), io.BytesIO()
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    sys.stdout = io.TextIOWrapper(out, encoding="utf-8")
    sys.stderr = io.TextIOWrapper(err, encoding="utf-8")
    try:
        code = main(list(argv))
        sys.stdout.flush()
        sys.stderr.flush()
        return code, out.getvalue().decode(), err.getvalue().decode()
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved


def process(*argv: str, stdin: bytes = b"", env: dict | None = None, **kwargs):
    """`dezero ARGV...` as a real process (bytes out); `kwargs` go to subprocess.run."""
    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **kwargs}
    return subprocess.run(
        [*DEZERO, *argv], input=stdin, env={**ENV, **(env or {})}, timeout=120, **streams
    )


# ---- 10. Output that cannot be written: one error line, exit status 74 -------------------------

# Every command, each with arguments that make it write to standard output.
EVERY_COMMAND = {
    "grad": ["grad", "x", "--x", "1"],
    "eval": ["eval", "x", "--x", "1"],
    "check": ["check", "x", "--x", "1"],
    "graph": ["graph", "x", "--x", "1"],
    "functions": ["functions"],
    "batch": ["batch", "--expr", "x"],
    "--help": ["--help"],
    "grad --help": ["grad", "--help"],
    "--version": ["--version"],
    "bare": [],
}
BATCH_INPUT = b"x\n1\n"

needs_dev_full = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")


@needs_dev_full
@pytest.mark.parametrize("name", EVERY_COMMAND)
def test_a_full_device_is_one_error_line_and_74(name):
    with open("/dev/full", "wb") as full:
        proc = process(*EVERY_COMMAND[name], stdin=BATCH_INPUT, stdout=full)
    assert (proc.returncode, proc.stderr) == (
        74,
        b"error: cannot write standard output: No space left on device\n",
    )


@pytest.mark.parametrize("name", EVERY_COMMAND)
def test_a_closed_standard_output_is_one_error_line_and_74(name):
    proc = process(
        *EVERY_COMMAND[name],
        stdin=BATCH_INPUT,
        stdout=subprocess.DEVNULL,
        preexec_fn=lambda: os.close(1),  # as `dezero ... >&-` leaves it
    )
    assert (proc.returncode, proc.stderr) == (
        74,
        b"error: cannot write standard output: it is closed\n",
    )


@pytest.mark.parametrize("name", ["--help", "--version", "bare", "grad --help"])
def test_help_and_version_to_a_reader_that_went_away_end_quietly_with_0(name):
    # Click's own handling of a broken pipe exited 1 for these (the group's options).
    read, write = os.pipe()
    os.close(read)
    proc = process(*EVERY_COMMAND[name], stdout=write)
    os.close(write)
    assert (proc.returncode, proc.stderr) == (0, b"")


@pytest.mark.parametrize(
    "encoding, data, message",
    [
        ("ascii", "x,é\n1,2\n", "cannot write 'é' (U+00E9) to standard output: its encoding, "
         "ascii, has no such character (set PYTHONIOENCODING=utf-8)"),
        ("latin-1", "x,€\n1,2\n", "cannot write '\\u20ac' (U+20AC) to standard output: its "
         "encoding, latin-1, has no such character (set PYTHONIOENCODING=utf-8)"),
    ],
)  # fmt: skip
def test_a_character_the_output_encoding_lacks_is_one_error_line_and_74(encoding, data, message):
    proc = process("batch", "--expr", "x", stdin=data.encode(), env={"PYTHONIOENCODING": encoding})
    assert proc.returncode == 74
    assert proc.stdout == b""
    assert proc.stderr.decode("utf-8") == f"error: {message}\n"


NON_ASCII = {  # every place a user can put a character that is not ASCII
    "grad": (["grad", "x*é", "--x", "1"], b""),
    "grad name": (["grad", "x", "--x", "1", "--é", "2"], b""),
    "grad value": (["grad", "x", "--x", "1é"], b""),
    "grad stdin": (["grad", "-", "--x", "1"], "x + é".encode()),
    "eval json": (["eval", "x", "--x", "1", "--format", "json", "--ü", "2"], b""),
    "check": (["check", "€", "--x", "1"], b""),
    "graph": (["graph", "x", "--x", "1", "-o", "é.dot"], b""),
    "functions": (["functions"], b""),
    "batch csv": (["batch", "--expr", "x"], "x,é\n1,ü\n".encode()),
    "batch jsonl": (["batch"], '{"expr": "x", "x": 1, "é": "€"}\n'.encode()),
    "batch error": (["batch"], '{"expr": "x€"}\n'.encode()),
}


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
@pytest.mark.parametrize("name", NON_ASCII)
def test_an_output_encoding_never_gives_an_internal_error(encoding, name, tmp_path):
    argv, stdin = NON_ASCII[name]
    proc = process(*argv, stdin=stdin, env={"PYTHONIOENCODING": encoding}, cwd=tmp_path)
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode in (0, 1, 2, 74), err
    assert "Traceback" not in err and "internal error" not in err
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    verdict = proc.returncode == 1 and argv[0] == "check"  # a result, not an error
    assert len(errors) == (proc.returncode != 0 and not verdict), err


@needs_dev_full
def test_an_output_file_that_fills_up_is_74_and_one_that_cannot_open_is_2(tmp_path):
    proc = process("batch", "--expr", "x", "-o", "/dev/full", stdin=BATCH_INPUT)
    assert (proc.returncode, proc.stderr) == (
        74,
        b"error: cannot write /dev/full: No space left on device\n",
    )
    full = tmp_path / "full.dot"
    full.symlink_to("/dev/full")
    proc = process("graph", "x", "--x", "1", "-o", str(full))
    assert (proc.returncode, proc.stderr.decode()) == (
        74,
        f"error: cannot write '{full}': No space left on device\n",
    )


@needs_dev_full
@pytest.mark.parametrize(
    "argv, code, out",
    [
        (["grad", "log(x)", "--x", "-1"], 0, b"f = nan\ndf/dx = -1.0\n"),  # with a warning
        (["grad", "2x"], 2, b""),
        (["batch", "--expr", "x"], 0, b"x,value,grad_x,error\n1,1.0,1.0,\n"),
        (["batch", "--expr", "x*"], 2, b""),
    ],
)
def test_standard_error_that_cannot_be_written_leaves_the_exit_status(argv, code, out):
    with open("/dev/full", "wb") as full:
        proc = process(*argv, stdin=BATCH_INPUT, stderr=full)
    assert (proc.returncode, proc.stdout) == (code, out)
    proc = process(*argv, stdin=BATCH_INPUT, stderr=None, preexec_fn=lambda: os.close(2))
    assert (proc.returncode, proc.stdout) == (code, out)


# ---- 13. Bare `dezero` ------------------------------------------------------------------------


def test_bare_dezero_prints_the_help_on_stdout_and_exits_0():
    code, out, err = run()
    assert (code, out, err) == (0, run("--help")[1], "")
    assert out.startswith("Usage: dezero [OPTIONS] COMMAND [ARGS]...\n")
