"""Every command, run as a real process, against a reader that goes away, Ctrl-C, and standard
input that cannot be used: each ends with its documented exit status and at most one
`error:` line, never a traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

# Each command with arguments that make it print something; EXPR "-" reads standard input.
COMMANDS = {
    "grad": ["grad", "-", "--x", "0.5"],
    "eval": ["eval", "-", "--x", "0.5"],
    "check": ["check", "-", "--x", "0.5"],
    "graph": ["graph", "-", "--x", "0.5"],
    "batch": ["batch", "--expr", "sin(x)"],
    "functions": ["functions"],
}
STDIN = {"batch": b"x\n" + b"0.5\n" * 100_000, "functions": b""}


def start(dezero_process, argv: list[str], **kwargs) -> subprocess.Popen:
    return dezero_process.start(*argv, stdin=subprocess.PIPE, env={"NO_COLOR": "1"}, **kwargs)


def wait_for_read(proc: subprocess.Popen, timeout: float = 60) -> None:
    """Until the process waits on its standard input: past start-up, inside dezero's code."""
    deadline = time.monotonic() + timeout
    wchan = f"/proc/{proc.pid}/wchan"
    if not os.path.exists(wchan):  # no /proc: give start-up ample time instead
        time.sleep(3)
        return
    while time.monotonic() < deadline:
        with open(wchan) as f:
            if "pipe_read" in f.read():
                return
        time.sleep(0.01)
    raise AssertionError("the process never read its standard input")


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_reader_that_went_away_ends_quietly_with_0(name, dezero_process):
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the command writes a byte
    proc = start(dezero_process, COMMANDS[name], stdout=write, stderr=subprocess.PIPE)
    os.close(write)
    _, err = proc.communicate(STDIN.get(name, b"sin(x)"), timeout=60)
    assert (proc.returncode, err) == (0, b"")


@pytest.mark.parametrize("name", sorted(set(COMMANDS) - {"functions"}))
def test_ctrl_c_exits_130_with_one_line(name, dezero_process):
    proc = start(dezero_process, COMMANDS[name], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        if name == "batch":  # batch is reading rows as they come: let it have some first
            proc.stdin.write(b"x\n0.5\n")
            proc.stdin.flush()
            proc.stdout.readline()
        wait_for_read(proc)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert err == b"error: interrupted\n"


@pytest.mark.parametrize("name", ["grad", "eval", "check", "graph"])
@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        (b"sin(x\xff)", "error: the expression on standard input is not UTF-8 (byte 5)\n"),
        (b"", "error: standard input is empty: expected an expression\n"),
        (None, "error: standard input is closed: give the expression as an argument\n"),
    ],
)
def test_unusable_standard_input_for_every_expression_command(name, stdin, message, dezero_process):
    # stdin None: a closed descriptor 0, as `dezero grad - <&-` gives.
    proc = dezero_process(*COMMANDS[name], stdin=stdin)
    assert proc == (2, "", message)


def test_batch_with_unusable_standard_input(dezero_process):
    # An empty table has no header naming the variables: exit 2. Empty JSON Lines: no
    # records, a warning, exit 0. A line that is not UTF-8: that record's error, exit 1.
    proc = dezero_process("batch", "--expr", "x", stdin=b"")
    assert (proc.code, proc.stdout) == (2, "")
    assert proc.stderr == (
        "error: the input has no header line naming the variables (line 1 is empty)\n"
    )
    proc = dezero_process("batch", stdin=b"")
    assert (proc.code, proc.stdout) == (0, "")
    assert proc.stderr == "warning: the input has no records: nothing to evaluate\n"
    proc = dezero_process("batch", "--expr", "x", stdin=b"x\n\xff\n")
    assert proc.code == 1
    assert proc.stdout == "x,value,grad_x,error\n\ufffd,,,line 2: not UTF-8 text\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["batch", "--expr", "x", "{dir}"],  # a directory of parts: see test_batch_many.py
         "with many inputs, give the output directory with -o DIR"),
        (["batch", "--expr", "x", "{dir}/missing.csv"],
         "cannot read {dir}/missing.csv: No such file or directory"),
        (["batch", "--expr", "x", "{dir}/points.csv", "-o", "{dir}"],
         "cannot write {dir}: Is a directory"),
        (["batch", "--expr", "x", "{dir}/points.csv", "-o", "{dir}/no/such.csv"],
         "cannot write {dir}/no/such.csv: No such file or directory"),
        (["graph", "x", "--x", "1", "-o", "{dir}/no/such.dot"],
         "cannot write '{dir}/no/such.dot': No such file or directory"),
        (["graph", "x", "--x", "1", "-o", "{dir}/sub.dot"],
         "cannot write '{dir}/sub.dot': Is a directory"),
    ],
)  # fmt: skip
def test_files_that_cannot_be_used(tmp_path, argv, message, dezero_process):
    (tmp_path / "points.csv").write_text("x\n1\n")
    (tmp_path / "sub.dot").mkdir()
    argv = [a.format(dir=tmp_path) for a in argv]
    proc = dezero_process(*argv, stdin=b"")
    assert (proc.code, proc.stdout) == (2, "")
    assert proc.stderr == f"error: {message.format(dir=tmp_path)}\n"


def test_ctrl_c_while_still_importing_gives_our_line_not_a_traceback():
    # From the moment the entry module loads (before Click, numpy and the rest are imported).
    # The subject is the entry module during its import, not a command: a process of its own
    # (the fixtures start from a complete import).
    code = (
        "import os, signal, time\n"
        "import dezero_cli.launch\n"
        "os.kill(os.getpid(), signal.SIGINT)\n"
        "time.sleep(30)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert (proc.returncode, proc.stdout, proc.stderr) == (130, b"", b"error: interrupted\n")


def test_the_entry_module_hands_ctrl_c_back_and_leaves_an_ignored_one_alone():
    # The subject is launch's SIGINT handler before and after it hands over to the CLI, looked
    # at from inside the process: a script of its own, not a fixture.
    code = (
        "import signal, sys\n"
        "ignore = sys.argv[1] == 'ignore'\n"
        "if ignore: signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "import dezero_cli.launch as launch\n"
        "expected = signal.SIG_IGN if ignore else launch._interrupted\n"
        "assert signal.getsignal(signal.SIGINT) is expected\n"
        "sys.argv = ['dezero', 'eval', '1']\n"
        "assert launch.main() == 0\n"
        "expected = signal.SIG_IGN if ignore else signal.default_int_handler\n"
        "assert signal.getsignal(signal.SIGINT) is expected\n"
    )
    for how in ("default", "ignore"):
        proc = subprocess.run([sys.executable, "-c", code, how], capture_output=True)
        assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"f = 1.0\n", b""), how


def test_the_installed_command_starts_from_the_entry_module():
    from importlib.metadata import entry_points

    (point,) = [p for p in entry_points(group="console_scripts") if p.name == "dezero"]
    assert point.value == "dezero_cli.launch:main"
