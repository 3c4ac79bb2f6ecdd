"""The one test harness: run `dezero` in this process or as a real process, and say what a test
needs from outside (a program such as Graphviz's `dot`, or an optional module).

    def test_something(dezero):
        outcome = dezero("grad", "x^2", "--x", "3")
        assert (outcome.code, outcome.stdout, outcome.stderr) == (0, "f = 9.0\\ndf/dx = 6.0\\n", "")

`dezero` goes through `dezero_cli.cli.main`, the real entry point, which maps every failure to
one `error:` line and an exit status; `dezero_process` runs `python -m dezero_cli` for what only
a process shows (start-up, signals, terminals, pipes). Both give an `Outcome` of the same shape.

A test that needs an outside program or an optional module says so with a marker:

    @pytest.mark.requires_tool("dot")
    @pytest.mark.requires_module("polars", extra="fast")

It is skipped with that reason (`pytest -rs` lists it) when the thing is missing, and fails
instead when DEZERO_REQUIRE_TOOLS=1, so that a CI job that installs everything cannot skip by
accident.
"""

from __future__ import annotations

import importlib
import io
import os
import shutil
import signal
import subprocess
import sys
import warnings
from collections.abc import Mapping
from typing import NamedTuple

import pytest

REQUIRE_TOOLS = "DEZERO_REQUIRE_TOOLS"

# Switches of the caller's shell that would change what a command prints. Each test starts
# without them; one that wants them gives them in `env`. COLUMNS fixes the width of help text.
PLAIN = {
    "NO_COLOR": None,
    "FORCE_COLOR": None,
    "TTY_COMPATIBLE": None,
    "DEZERO_DEBUG": None,
    "COLUMNS": "80",
}


class Outcome(NamedTuple):
    """What a user's shell sees: the exit status and the text on each stream."""

    code: int
    stdout: str
    stderr: str


def plain_env(env: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """This process's environment with PLAIN and then `env` applied (a value of None unsets)."""
    result = dict(os.environ)
    for name, value in {**PLAIN, **(env or {})}.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = value
    return result


def run_in_process(
    *argv: str,
    stdin: bytes | str | io.RawIOBase | None = None,
    env: Mapping[str, str | None] | None = None,
) -> Outcome:
    """`dezero ARGV...` through `cli.main`, with standard input `stdin` (bytes, text as UTF-8,
    a raw binary stream, or None: standard input is closed) and `env` over a plain environment.

    Any Python warning is an error: users must never see one (a numpy RuntimeWarning above all).
    """
    from dezero_cli.cli import main

    if isinstance(stdin, str):
        stdin = stdin.encode("utf-8")
    if isinstance(stdin, bytes):
        stdin = io.BytesIO(stdin)
    elif isinstance(stdin, io.RawIOBase):
        stdin = io.BufferedReader(stdin)
    changes = {**PLAIN, **(env or {})}
    saved_env = {name: os.environ.get(name) for name in changes}
    saved_streams = sys.stdin, sys.stdout, sys.stderr
    out, err = io.BytesIO(), io.BytesIO()
    try:
        set_env(changes)
        sys.stdin = None if stdin is None else io.TextIOWrapper(stdin, encoding="utf-8")
        sys.stdout = io.TextIOWrapper(out, encoding="utf-8", errors="backslashreplace")
        sys.stderr = io.TextIOWrapper(err, encoding="utf-8", errors="backslashreplace")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            code = main(list(argv))
        sys.stdout.flush()
        sys.stderr.flush()
        return Outcome(code, out.getvalue().decode("utf-8"), err.getvalue().decode("utf-8"))
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        set_env(saved_env)


def set_env(changes: Mapping[str, str | None]) -> None:
    for name, value in changes.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def dezero_command(*argv: str) -> list[str]:
    """The command line of a real `dezero ARGV...` process."""
    return [sys.executable, "-m", "dezero_cli", *argv]


class Process:
    """Runs `python -m dezero_cli ARGV...` as a real process."""

    command = staticmethod(dezero_command)

    def __call__(
        self,
        *argv: str,
        stdin: bytes | str | None = None,
        env: Mapping[str, str | None] | None = None,
        timeout: float = 120,
        cwd: str | os.PathLike | None = None,
    ) -> Outcome:
        """Run to the end: `stdin` as bytes (or text as UTF-8), or None for a closed descriptor
        0 (as `dezero ... <&-` gives); `env` over a plain environment."""
        if isinstance(stdin, str):
            stdin = stdin.encode("utf-8")
        closed = {"stdin": subprocess.DEVNULL, "preexec_fn": lambda: os.close(0)}
        proc = subprocess.run(
            dezero_command(*argv),
            **({"input": stdin} if stdin is not None else closed),
            capture_output=True,
            env=plain_env(env),
            timeout=timeout,
            cwd=cwd,
            check=False,
        )
        return Outcome(
            proc.returncode,
            proc.stdout.decode("utf-8", "backslashreplace"),
            proc.stderr.decode("utf-8", "backslashreplace"),
        )

    def imports(self, *argv: str, env: Mapping[str, str | None] | None = None, **kwargs):
        """Run as __call__ does; give the outcome (its stderr without the import lines) and the
        top-level modules the process imported (from Python's PYTHONPROFILEIMPORTTIME)."""
        outcome = self(*argv, env={**(env or {}), "PYTHONPROFILEIMPORTTIME": "1"}, **kwargs)
        prefix = "import time:"
        lines = outcome.stderr.splitlines(keepends=True)
        timings = [line for line in lines if line.startswith(prefix)]
        assert timings, "no import times: PYTHONPROFILEIMPORTTIME did not take"
        modules = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in timings[1:]}
        stderr = "".join(line for line in lines if not line.startswith(prefix))
        return outcome._replace(stderr=stderr), modules

    def start(self, *argv: str, env: Mapping[str, str | None] | None = None, **popen):
        """A running process (subprocess.Popen), for a test that deals with it while it runs:
        signals, a reader that goes away, output that streams before the input ends."""
        return subprocess.Popen(dezero_command(*argv), env=plain_env(env), **popen)

    def on_terminal(self, *argv: str, timeout: float = 120) -> tuple[int, bytes, bytes]:
        """Run with standard error on a terminal (a pty, TERM=xterm) and standard output
        piped: (exit status, standard output, all the terminal showed)."""
        import pty

        parent, child = pty.openpty()
        try:
            proc = self.start(*argv, env={"TERM": "xterm"}, stdout=subprocess.PIPE, stderr=child)
            out, _ = proc.communicate(timeout=timeout)
        finally:
            os.close(child)
        shown = b""
        try:
            while chunk := os.read(parent, 65536):
                shown += chunk
        except OSError:  # the terminal's other end is closed: all read
            pass
        os.close(parent)
        return proc.returncode, out, shown


run_process = Process()


# Batch has two paths through a table of points, the native one (polars) and the Python one,
# which must give the same bytes: a batch test module runs every test on each, with
# `pytestmark = pytest.mark.usefixtures("batch_path")`. Module-scoped, so that Hypothesis tests
# may use it; it sets the variable the real entry reads, for in-process runs and processes alike.
BATCH_PATHS = [
    pytest.param("python", id="python-path"),
    pytest.param(
        "native", id="native-path", marks=pytest.mark.requires_module("polars", extra="fast")
    ),
]


@pytest.fixture(scope="module", params=BATCH_PATHS)
def batch_path(request):
    """The batch path every test of the module takes: "python" or "native"."""
    from dezero_cli.batch.job import PATH_VARIABLE

    saved = os.environ.get(PATH_VARIABLE)
    os.environ[PATH_VARIABLE] = request.param
    try:
        yield request.param
    finally:
        set_env({PATH_VARIABLE: saved})


# Session-scoped: the runners keep no state between calls (each restores what it changes), and
# Hypothesis tests may use them.
@pytest.fixture(scope="session")
def dezero():
    """Run `dezero ARGV...` in this process through the real entry point: see run_in_process."""
    return run_in_process


@pytest.fixture(scope="session")
def dezero_process():
    """Run `dezero ARGV...` as a real process (`.start` for a Popen): see Process."""
    return run_process


# ---- The run: Ctrl-C as a user has it; outside programs and optional modules ----------------


def pytest_configure(config):
    # Tests send Ctrl-C, to this process and to commands, and expect what a user's interactive
    # shell gives: SIGINT raising KeyboardInterrupt. A run started in the background of a script
    # inherits an ignored SIGINT instead, which Python keeps and passes on to every child
    # process; give this run, and so its children, the usual one.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    config.addinivalue_line(
        "markers",
        "requires_tool(name): needs the program NAME on PATH; skipped without it, failed "
        f"without it when {REQUIRE_TOOLS}=1",
    )
    config.addinivalue_line(
        "markers",
        "requires_module(name, extra=None): needs the Python module NAME (from the optional "
        f"extra EXTRA); skipped without it, failed without it when {REQUIRE_TOOLS}=1",
    )


def missing_requirements(item) -> list[str]:
    """What the test's requires_* markers ask for that this environment lacks."""
    missing = []
    for mark in item.iter_markers("requires_tool"):
        (name,) = mark.args
        if shutil.which(name) is None:
            missing.append(f"needs the program '{name}', which is not on PATH")
    for mark in item.iter_markers("requires_module"):
        (name,) = mark.args
        extra = mark.kwargs.get("extra")
        try:
            importlib.import_module(name)
        except ImportError:
            hint = f" (pip install 'dezero-cli[{extra}]')" if extra else ""
            missing.append(f"needs the Python module '{name}', which is not installed{hint}")
    return missing


def pytest_collection_modifyitems(config, items):
    if os.environ.get(REQUIRE_TOOLS) == "1":
        return
    for item in items:
        missing = missing_requirements(item)
        if missing:  # a skip marker, so that `pytest -rs` names the test, not this file
            item.add_marker(pytest.mark.skip(reason="; ".join(missing)))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    # In the call phase, so that a missing requirement is a test failure, not a setup error.
    missing = missing_requirements(item)
    if missing:
        pytest.fail(f"{'; '.join(missing)}, and {REQUIRE_TOOLS}=1 requires it", pytrace=False)
