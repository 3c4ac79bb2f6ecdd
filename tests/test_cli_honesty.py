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
import re
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


# ---- 11. Arguments that start with a dash -------------------------------------------------------

# args -> exact stdout: the first argument that is no option of the command is EXPR.
DASHED = [
    (["grad", "-v*t", "--v", "2", "--t", "3"], "f = -6.0\ndf/dv = -3.0\ndf/dt = -2.0\n"),
    (["grad", "-h*x", "--h", "2", "--x", "3"], "f = -6.0\ndf/dh = -3.0\ndf/dx = -2.0\n"),
    (["eval", "--2"], "f = 2.0\n"),
    (["eval", "-x", "--x", "2"], "f = -2.0\n"),
    (["eval", "-1", "-q"], "-1.0\n"),
    (["eval", "-q", "-1"], "-1.0\n"),
    (["eval", "-q*x", "--q", "2", "--x", "3", "-q"], "-6.0\n"),
    (["eval", "-vx", "--vx", "2"], "f = -2.0\n"),  # no NAME=VALUE after -v: an expression
    (["eval", "-v", "x=2", "-x"], "f = -2.0\n"),  # -v NAME=VALUE: the option
    (["eval", "-vx=2", "-x"], "f = -2.0\n"),
    (["eval", "--var=x=2", "-x"], "f = -2.0\n"),
    (["eval", "--x", "-1", "-x"], "f = 1.0\n"),  # after --NAME, a dash is the value
    (["eval", "--x=-1", "-x*x"], "f = -1.0\n"),
    (["eval", "--x", "2", "--", "--x"], "f = 2.0\n"),  # --x as EXPR: after --
    (["eval", "--h", "1", "--", "-h"], "f = -1.0\n"),  # -h as EXPR: after --
    (["check", "-v*t", "--v", "2", "--t", "3", "--format", "json"], None),
]


@pytest.mark.parametrize("args, stdout", DASHED, ids=[" ".join(a) for a, _ in DASHED])
def test_an_expression_that_starts_with_a_dash_is_the_expression(args, stdout):
    code, out, err = run(*args)
    if stdout is None:
        assert (code, err) == (0, "") and '"ok": true' in out
    else:
        assert (code, out, err) == (0, stdout, "")


def test_graph_takes_a_dashed_expression_and_o_only_written_alone():
    code, out, _ = run("graph", "-o*x", "--o", "2", "--x", "3")
    assert code == 0 and out.startswith("digraph g {") and 'label="Neg"' in out


@pytest.mark.parametrize("command", ["grad", "eval", "check", "graph"])
def test_h_alone_is_help_wherever_it_is(command):
    for args in ([command, "-h"], [command, "x", "-h"], [command, "-h", "x"]):
        code, out, err = run(*args)
        assert (code, err) == (0, "")
        assert out.startswith(f"Usage: dezero {command} [OPTIONS] EXPR\n")


DASH_ERRORS = [
    (["grad", "x", "-1"], "error: Got unexpected extra argument (-1) (see 'dezero grad --help')\n"),
    (["grad", "x", "-v*t"],
     "error: Got unexpected extra argument (-v*t) (see 'dezero grad --help')\n"),
    (["grad", "x", "--1x", "2"], "error: '1x' is not a variable name (letters, digits and _)\n"),
    (["eval", "-q", "-q"], "error: Missing argument 'EXPR'. (see 'dezero eval --help')\n"),
    (["eval", "1", "--x"], "error: --x needs a value\n"),
]  # fmt: skip


@pytest.mark.parametrize("args, stderr", DASH_ERRORS, ids=[" ".join(a) for a, _ in DASH_ERRORS])
def test_dashed_arguments_that_are_errors(args, stderr):
    assert run(*args) == (2, "", stderr)


# ---- 12. A misspelled option is an error --------------------------------------------------------

MISSPELLED = [
    (["grad", "sin(x)", "--x", "1", "--oder", "2"], "--oder (did you mean --order?)"),
    (["grad", "x", "--x", "1", "--formt", "json"], "--formt (did you mean --format?)"),
    (["grad", "x", "--x", "1", "--quite"], "--quite (did you mean --quiet?)"),
    (["grad", "x", "--x", "1", "--ord", "2"], "--ord (did you mean --order?)"),
    (["grad", "x", "--x", "1", "--wtr", "x"], "--wtr (did you mean --wrt?)"),
    (["grad", "x", "--x", "1", "--max-nodez", "9"], "--max-nodez (did you mean --max-nodes?)"),
    (["grad", "x", "--x", "1", "--hlep"], "--hlep (did you mean --help?)"),
    (["grad", "x", "--x", "1", "--no-such", "1"], "--no-such"),  # no variable has a dash
    (["eval", "x", "--x", "1", "--timeuot", "1"], "--timeuot (did you mean --timeout?)"),
    (["check", "x", "--x", "1", "--epss", "1e-3"], "--epss (did you mean --eps?)"),
    (["check", "x", "--x", "1", "--rtl", "0"], "--rtl (did you mean --rtol?)"),
    (["graph", "x", "--x", "1", "--outptu", "g.dot"], "--outptu (did you mean --output?)"),
    (["graph", "x", "--x", "1", "--verbos"], "--verbos (did you mean --verbose?)"),
]


@pytest.mark.parametrize("args, what", MISSPELLED, ids=[" ".join(a) for a, _ in MISSPELLED])
def test_a_near_miss_of_an_option_is_an_error(args, what):
    assert run(*args) == (2, "", f"error: no such option {what}\n")


def test_a_near_miss_that_is_a_variable_is_a_variable():
    assert run("grad", "oder*x", "--oder", "2", "--x", "3", "-q") == (0, "6.0\n3.0\n2.0\n", "")
    assert run("eval", "formt", "--formt", "json") == (
        2,
        "",
        "error: value of formt is not a number: 'json'\n",
    )


def test_a_near_miss_that_the_expression_defines_is_its_definition():
    assert run("eval", "oder = 2; oder*x", "--x", "3", "--oder", "1") == (
        2,
        "",
        "error: 'oder' is defined in the expression, so it cannot also be given a value (--oder)\n",
    )


def test_an_unused_name_far_from_every_option_stays_a_warning():
    # One letter is no misspelling of --wrt; eps is an option of check, not of grad.
    for name in ("t", "eps", "xyz"):
        assert run("grad", "x", "--x", "1", f"--{name}", "3", "-q") == (
            0,
            "1.0\n1.0\n",
            f"warning: variable {name!r} is given but not used in the expression\n",
        )


def test_a_syntax_error_comes_before_an_option_or_value_error():
    assert run("grad", "x+", "--oder", "2", "--x", "abc")[2] == (
        "error: the expression ends too early\n  x+\n    ^\n"
    )


def test_spelling_distance_and_closest():
    from dezero_cli.spelling import closest, edit_distance

    pairs = [("atan", "tan"), ("sqtr", "sqrt"), ("", "ab"), ("kitten", "sitting"), ("ab", "ab")]
    assert [edit_distance(a, b) for a, b in pairs] == [1, 1, 2, 3, 0]
    assert closest("ord", ["wrt", "order"], 2) == "order"  # equally near: the shared start
    assert closest("xyz", ["x"], 1) is None  # x starts alike but is 2 edits away


# ---- 14. check at the edge of a domain -------------------------------------------------------

EDGE_WARNING = (
    "df/dx: f is not finite at x - h (x = 0.0, h = 1e-06): the step left the domain, so there "
    "is no central difference; check at a point at least h inside the domain, or with a "
    "smaller --eps"
)


def test_check_at_a_domain_edge_says_so_and_shows_no_fake_zero():
    assert run("check", "sqrt(x)", "--x", "0") == (
        1,
        "f = 0.0\n"
        "df/dx: backprop inf, numeric nan, abs error nan, rel error nan, not checked\n"
        "check FAILED: 1 of 1 not checked: the step left the domain "
        "(eps 1e-06, rtol 1e-05, atol 1e-08)\n",
        f"warning: the derivative by x is inf\nwarning: {EDGE_WARNING}\n",
    )


def test_check_json_at_a_domain_edge_has_null_not_zero():
    import json

    code, out, _ = run("check", "sqrt(x)", "--x", "0", "--format", "json")
    record = json.loads(out)
    assert code == 1
    assert record["checks"]["x"] == {
        "backprop": None,
        "numeric": None,
        "abs_error": None,
        "rel_error": None,
        "ok": False,
    }
    assert record["warnings"] == ["the derivative by x is inf", EDGE_WARNING]


def test_check_of_vectors_counts_elements_that_left_the_domain():
    code, out, err = run("check", "sqrt(x) + log(y)", "--x", "0,1,0", "--y", "1,1,0")
    assert code == 1
    assert out.splitlines()[1:4] == [
        "df/dx[0]: backprop inf, numeric nan, abs error nan, rel error nan, not checked",
        "df/dx[1]: backprop 0.5, numeric 0.5000000000277556, abs error 2.7755575615628914e-11, "
        "rel error 5.551115122817634e-11, ok",
        "df/dx[2]: backprop inf, numeric nan, abs error nan, rel error nan, FAILED",
    ]  # at x[2] f itself is -inf (log(0)): not a step out of the domain, a failure
    assert out.splitlines()[-1] == (
        "check FAILED: 2 of 6 outside tolerance; 1 of 6 not checked: the step left the domain "
        "(eps 1e-06, rtol 1e-05, atol 1e-08)"
    )
    assert "warning: df/dx[0]: f is not finite at x[0] - h (x[0] = 0.0, h = 1e-06)" in err


def test_rel_error_is_zero_only_where_both_are_zero():
    from dezero_cli.api import check_gradient

    check = check_gradient("x*y", {"x": [1.0, 2.0], "y": 0.0})
    assert check.checks["x"].rel_error.tolist() == [0.0, 0.0]
    assert check.checks["x"].left_domain.tolist() == [False, False]


# ---- 15. --max-length counts characters, alike from argv and stdin ---------------------------


@pytest.mark.parametrize("source", ["argv", "stdin"])
def test_max_length_counts_characters_without_surrounding_whitespace(source):
    def length(expr: str, limit: int):
        if source == "argv":
            return run("eval", expr, "--max-length", str(limit), "-q")
        return run("eval", "-", "--max-length", str(limit), "-q", stdin=expr.encode())

    assert length("  1+2 \n", 3) == (0, "3.0\n", "")
    assert length("1+2\n", 3) == (0, "3.0\n", "")
    code, out, err = length("1+23", 3)
    assert (code, out) == (2, "")
    if source == "argv":
        assert err == (
            "error: the expression is 4 characters long, more than the limit of 3 (--max-length)\n"
        )
    else:
        assert err == (
            "error: the expression on standard input is longer than the limit of 3 characters "
            "(--max-length)\n"
        )
    # Two characters of two bytes each: 2 characters, so within a limit of 2 (and then a
    # syntax error, the same from both).
    code, _, err = length("éé", 2)
    assert (code, err.splitlines()[0]) == (2, "error: unexpected character 'é'")


def test_stdin_limit_reads_past_trailing_spaces_without_holding_them():
    spaces = b" " * 300_000
    assert run("eval", "-", "--max-length", "3", "-q", stdin=b"1+2" + spaces + b"\n") == (
        0,
        "3.0\n",
        "",
    )
    code, _, err = run("eval", "-", "--max-length", "3", stdin=b"1+2" + spaces + b"+1")
    assert (code, err) == (
        2,
        "error: the expression on standard input is longer than the limit of 3 characters "
        "(--max-length)\n",
    )


def test_stdin_not_utf8_across_blocks_names_the_byte():
    # Standard input is read 64 KiB at a time: a bad byte after the first block, and a
    # character cut at a block's end that never ends.
    for data, at in ((b"x" * 70_000 + b"\xff", 70_000), (b"x" * 65_535 + b"\xe2\x82", 65_535)):
        assert run("eval", "-", stdin=data)[2] == (
            f"error: the expression on standard input is not UTF-8 (byte {at})\n"
        )


# ---- 16. Suggestions that are real near misses; constants given values -----------------------

UNKNOWN = [
    ("trunc", "run 'dezero functions' for the list"),  # another function, not a typo
    ("coth", "run 'dezero functions' for the list"),  # not a typo of cosh
    ("log3", "run 'dezero functions' for the list"),
    ("arctan", "did you mean atan?"),  # numpy's name
    ("arsinh", "did you mean asinh?"),
    ("sinc", "run 'dezero functions' for the list"),
    ("cot", "run 'dezero functions' for the list"),
    ("foo", "run 'dezero functions' for the list"),
    ("sinn", "did you mean sin?"),
    ("sine", "did you mean sin?"),
    ("SIN", "did you mean sin?"),
    ("sqtr", "did you mean sqrt?"),
    ("sigmod", "did you mean sigmoid?"),
    ("power", "did you mean pow?"),
    ("logistic", "did you mean sigmoid?"),
]


@pytest.mark.parametrize("name, hint", UNKNOWN, ids=[n for n, _ in UNKNOWN])
def test_unknown_function_suggestions(name, hint):
    code, _, err = run("eval", f"{name}(1)")
    assert (code, err.splitlines()[0]) == (2, f"error: unknown function {name!r}: {hint}")


@pytest.mark.parametrize(
    "args, warning",
    [
        (["grad", "e*x", "--x", "1", "--e", "2"],
         "e is a constant (2.718281828459045), not a variable: the value given for e is not used"),
        (["grad", "x", "--x", "1", "--pi", "3"],
         "pi is a constant (3.141592653589793), not a variable: the value given for pi is not "
         "used"),
    ],
)  # fmt: skip
def test_a_value_for_a_constant_or_function_says_what_the_name_is(args, warning):
    code, _, err = run(*args)
    assert (code, err) == (0, f"warning: {warning}\n")
    code, out, _ = run(*args, "--format", "json")
    assert f'"warnings": ["{warning}"]' in out


# ---- Terminals: 17 (numbers), 18 (batch progress), 19 (width) -----------------------------------


def on_terminal(*argv: str, stdin: bytes = b"", columns: int = 100, tty=("stdout",), env=None):
    """Run with the streams named in `tty` on one pseudo-terminal `columns` wide; returns
    (exit status, what the terminal showed, stdout if piped, stderr if piped)."""
    pty = pytest.importorskip("pty")
    import fcntl
    import struct
    import termios
    import threading

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, columns, 0, 0))
    streams = {name: follower if name in tty else subprocess.PIPE for name in ("stdout", "stderr")}
    proc = subprocess.Popen(
        [*DEZERO, *argv],
        stdin=subprocess.PIPE,
        env={**ENV, "TERM": "xterm-256color", "COLUMNS": str(columns), **(env or {})},
        **streams,
    )
    os.close(follower)
    shown: list[bytes] = []

    def read() -> None:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: no writer is left
                return
            if not chunk:
                return
            shown.append(chunk)

    reader = threading.Thread(target=read)
    reader.start()
    out, err = proc.communicate(stdin, timeout=120)
    reader.join(60)
    os.close(leader)
    screen = b"".join(shown).decode().replace("\r\n", "\n")
    screen = "\n".join(line.rstrip(" ") for line in screen.split("\n"))  # as a person sees it
    return proc.returncode, screen, out, err


SIX = ["sin(a*b*c*d*e2*g)", "--a", "0.1", "--b", "0.2", "--c", "0.3", "--d", "0.4"]
SIX += ["--e2", "0.5", "--g", "0.6", "--order", "2"]
SIX_HEAD = """\
f = 0.0007199999377920017
df/da = 0.00719999813376008
df/db = 0.00359999906688004
df/dc = 0.002399999377920027
df/dd = 0.0017999995334400203
df/de2 = 0.0014399996267520164
df/dg = 0.0011999996889600138
Hessian d2f/d(row)d(column)
"""
SIX_TABLE = """\
┏━━━━┳━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━┓
┃    ┃            a ┃            b ┃            c ┃            d ┃           e2 ┃            g ┃
┡━━━━╇━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━┩
│ a  │ -3.73248e-08 │    0.0360000 │    0.0240000 │    0.0180000 │    0.0144000 │    0.0120000 │
│ b  │    0.0360000 │ -9.33120e-09 │    0.0120000 │   0.00899999 │   0.00719999 │   0.00600000 │
│ c  │    0.0240000 │    0.0120000 │ -4.14720e-09 │   0.00600000 │   0.00480000 │   0.00400000 │
│ d  │    0.0180000 │   0.00899999 │   0.00600000 │ -2.33280e-09 │   0.00360000 │   0.00300000 │
│ e2 │    0.0144000 │   0.00719999 │   0.00480000 │   0.00360000 │ -1.49299e-09 │   0.00240000 │
│ g  │    0.0120000 │   0.00600000 │   0.00400000 │   0.00300000 │   0.00240000 │ -1.03680e-09 │
└────┴──────────────┴──────────────┴──────────────┴──────────────┴──────────────┴──────────────┘
rounded to 6 significant digits to fit; every digit with -q, --format json, or piped
"""


def test_a_hessian_too_wide_for_every_digit_is_rounded_alike_and_says_so():
    # It was cut: `-3.732479677…` for -3.732479677513737e-08, symmetric cells cut unalike.
    code, screen, _, _ = on_terminal("grad", *SIX, env={"NO_COLOR": "1"})
    assert (code, screen) == (0, SIX_HEAD + SIX_TABLE)


def test_digits_rounds_the_terminal_and_nothing_else():
    code, screen, _, _ = on_terminal("grad", *SIX, "--digits", "3", env={"NO_COLOR": "1"})
    assert code == 0
    assert screen.splitlines()[:8] == [
        "f = 0.000720", "df/da = 0.00720", "df/db = 0.00360", "df/dc = 0.00240",
        "df/dd = 0.00180", "df/de2 = 0.00144", "df/dg = 0.00120", "Hessian d2f/d(row)d(column)",
    ]  # fmt: skip
    assert screen.splitlines()[11] == (
        "│ a  │ -3.73e-08 │    0.0360 │    0.0240 │    0.0180 │    0.0144 │    0.0120 │"
    )
    assert "rounded to" not in screen  # asked for: no note
    for extra in ([], ["-q"], ["--format", "json"]):  # piped: every digit, --digits or not
        assert run("grad", *SIX, *extra, "--digits", "3") == run("grad", *SIX, *extra)
    assert run("grad", *SIX)[1].splitlines()[7] == "d2f/da2 = -3.732479677513737e-08"


def test_a_hessian_that_fits_shows_every_digit_and_orders_ascend():
    args = ["x*y*z + sin(x)", "--x", "0.7", "--y", "-0.3", "--z", "2", "--order", "3"]
    code, screen, _, _ = on_terminal("grad", *args, env={"NO_COLOR": "1"})
    assert code == 0
    lines = screen.splitlines()
    assert lines[4] == "Hessian d2f/d(row)d(column)"
    assert lines[8] == "│ x │ -0.644217687237691 │ 2.0 │ -0.3 │"
    assert lines[12:] and lines[12].startswith("d3f/dx3 = ")  # order 3 after the table
    assert "…" not in screen and "rounded" not in screen


def test_a_narrow_terminal_lists_the_hessian_instead_of_cutting_it():
    code, screen, _, _ = on_terminal("grad", *SIX, columns=50, env={"NO_COLOR": "1"})
    assert code == 0
    assert screen == run("grad", *SIX)[1]  # every digit, one line each


def test_colour_on_a_terminal_and_none_with_no_color_or_piped():
    _, styled, _, _ = on_terminal("grad", *SIX)
    assert "\x1b[" in styled
    _, plain, _, _ = on_terminal("grad", *SIX, env={"NO_COLOR": "1"})
    assert "\x1b" not in plain
    proc = process("grad", *SIX, env={"TERM": "xterm-256color"})
    assert b"\x1b" not in proc.stdout + proc.stderr


CHECK_60 = """\
f = 1.648721270700128
df/dx: backprop 3.297442541400256, numeric
    3.2974425413468174, abs error 5.34e-11, rel error
    1.62e-11, ok
check passed: 1 of 1 within tolerance (eps 1e-06, rtol
    1e-05, atol 1e-08)
"""


def test_check_on_a_terminal_wraps_at_words_with_errors_to_three_digits():
    code, screen, _, _ = on_terminal("check", "square(exp(square(x)))", "--x", "0.5", columns=60)
    assert (code, screen) == (0, CHECK_60)
    code, screen, _, _ = on_terminal("check", "sin(x)", "--x", "0.5", "--digits", "4")
    assert screen.splitlines()[1] == (
        "df/dx: backprop 0.8776, numeric 0.8776, abs error 6.60e-12, rel error 7.52e-12, ok"
    )
    assert run("check", "sin(x)", "--x", "0.5", "--digits", "4") == run(
        "check", "sin(x)", "--x", "0.5"
    )


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_functions_on_a_terminal_use_its_width_and_break_at_words(columns):
    code, screen, _, _ = on_terminal("functions", columns=columns)
    assert code == 0
    lines = screen.splitlines()
    assert max(map(len, lines)) <= columns
    assert screen.split() == run("functions")[1].split()  # the same words: none was cut


def test_errors_and_warnings_wrap_at_words_on_a_terminal():
    code, screen, out, _ = on_terminal("check", "sqrt(x)", "--x", "0", columns=60, tty=("stderr",))
    assert code == 1 and out.startswith(b"f = 0.0\n")
    assert screen == (
        "warning: the derivative by x is inf\n"
        "warning: df/dx: f is not finite at x - h (x = 0.0, h =\n"
        "  1e-06): the step left the domain, so there is no central\n"
        "  difference; check at a point at least h inside the domain,\n"
        "  or with a smaller --eps\n"
    )
    code, screen, _, _ = on_terminal(
        "grad", "sine(x) + " + "1 + " * 30 + "x", columns=40, tty=("stderr",)
    )
    assert screen.splitlines() == [
        "error: unknown function 'sine': did you",
        "  mean sin?",
        "  sine(x) + 1 + 1 + 1 + 1 + 1 + 1 ...",
        "  ^",
    ]


def test_batch_progress_on_a_terminal_stderr_with_a_file_shows_percent_and_eta(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("x\n" + "".join(f"{i}\n" for i in range(1000)))
    code, screen, out, _ = on_terminal("batch", "--expr", "x", str(src), tty=("stderr",))
    assert code == 0 and len(out.splitlines()) == 1001
    assert "rows/s" in screen and "%" in screen and "ETA" in screen
    assert re.search(r"(?:\n|\x1b\[2K)batch: 1,000 rows, 0 failed, \d+\.\d\d s\n\Z", screen), screen


def test_batch_progress_from_a_pipe_shows_rows_and_rate_only():
    data = b"x\n" + b"".join(b"%d\n" % i for i in range(1000))
    code, screen, out, _ = on_terminal("batch", "--expr", "x", stdin=data, tty=("stderr",))
    assert code == 0 and len(out.splitlines()) == 1001
    assert "rows/s" in screen and "%" not in screen and "ETA" not in screen
    assert re.search(r"(?:\n|\x1b\[2K)batch: 1,000 rows, 0 failed, \d+\.\d\d s\n\Z", screen), screen


def test_no_batch_progress_when_the_rows_go_to_the_terminal(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("x\n1\nfour\n")
    code, screen, _, _ = on_terminal("batch", "--expr", "x", str(src), tty=("stdout", "stderr"))
    assert code == 1
    rows, summary = screen.split("batch: ")
    assert (
        rows
        == "x,value,grad_x,error\n1,1.0,1.0,\nfour,,,line 3: value of x is not a number: 'four'\n"
    )
    assert re.fullmatch(
        r"2 rows, 1 failed, \d+\.\d\d s\n"
        r"error: 1 of 2 records failed, the first on line 3 \(see the error field\)\n",
        summary,
    ), summary
    # With -o the rows go to the file, not the terminal: the progress is back.
    code, screen, _, _ = on_terminal(
        "batch", "--expr", "x", str(src), "-o", str(tmp_path / "out.csv"), tty=("stdout", "stderr")
    )
    assert "rows/s" in screen


@pytest.mark.requires_tool("tmux")
def test_a_person_at_tmux_sees_whole_numbers(tmp_path):
    """The Hessian and the orders as a person sees them in tmux, read off the screen."""
    import time

    socket = f"dezero-test-{os.getpid()}"
    tmux = ["tmux", "-L", socket, "-f", "/dev/null"]
    command = " ".join(
        [f"cd {tmp_path};", f"NO_COLOR=1 {sys.executable} -m dezero_cli grad"]
        + [f"'{a}'" for a in SIX]
        + ["; echo __done__; sleep 60"]
    )
    env = {k: v for k, v in ENV.items() if not k.startswith("TMUX")}
    subprocess.run(
        [*tmux, "new-session", "-d", "-x", "100", "-y", "30", command], env=env, check=True
    )
    try:
        deadline = time.monotonic() + 60
        screen = ""
        while "__done__" not in screen and time.monotonic() < deadline:
            time.sleep(0.2)
            screen = subprocess.run(
                [*tmux, "capture-pane", "-p"], capture_output=True, text=True, env=env
            ).stdout
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True, env=env)
    shown = screen.split("__done__")[0].rstrip("\n") + "\n"
    assert shown == SIX_HEAD + SIX_TABLE
