"""The `dezero` command: exact output of every format, every error with its exit status.

In-process tests go through `cli.main` (where errors become one line and an exit status) with
the `dezero` fixture, which also turns any Python warning into a failure; a few run real
processes (`dezero_process`) for what only a process shows: start-up imports, terminals and
pipes, `python -m`.
"""

from __future__ import annotations

import importlib.metadata
import json
import math
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from dezero_cli.cli import cli


def ok(result, stdout: str, stderr: str = "") -> None:
    assert (result.code, result.stdout, result.stderr) == (0, stdout, stderr)


SEED = "square(exp(square(x)))"

# args -> exact stdout, for each format of each command.
OUTPUTS = [
    (["grad", SEED, "--x", "0.5"], "f = 1.648721270700128\ndf/dx = 3.297442541400256\n"),
    (
        ["grad", SEED, "--x", "0.5", "--format", "json"],
        '{"schema": 1, '
        '"expr": "square(exp(square(x)))", "inputs": {"x": 0.5}, "value": 1.648721270700128, '
        '"grad": {"x": 3.297442541400256}, "warnings": []}\n',
    ),
    (["grad", SEED, "--x", "0.5", "-q"], "1.648721270700128\n3.297442541400256\n"),
    (["grad", SEED, "--x", "0.5", "--quiet"], "1.648721270700128\n3.297442541400256\n"),
    (
        ["grad", SEED, "--x", "0.5", "--format", "text"],
        "f = 1.648721270700128\ndf/dx = 3.297442541400256\n",
    ),
    (["eval", SEED, "--x", "0.5"], "f = 1.648721270700128\n"),
    (
        ["eval", SEED, "--x", "0.5", "--format", "json"],
        '{"schema": 1, '
        '"expr": "square(exp(square(x)))", "inputs": {"x": 0.5}, "value": 1.648721270700128, '
        '"warnings": []}\n',
    ),
    (["eval", SEED, "--x", "0.5", "-q"], "1.648721270700128\n"),
    (["grad", "x", "--x", "2"], "f = 2.0\ndf/dx = 1.0\n"),
    (["grad", "3"], "f = 3.0\n"),
    (
        ["grad", "3", "--format", "json"],
        '{"schema": 1, "expr": "3", "inputs": {}, "value": 3.0, "grad": {}, "warnings": []}\n',
    ),
    (["grad", "3", "-q"], "3.0\n"),
    (["grad", "x*y", "--x", "2", "--y", "-1"], "f = -2.0\ndf/dx = -1.0\ndf/dy = 2.0\n"),
    # Variables in order of first appearance, not alphabetical or command-line order.
    (["grad", "y*x", "--x", "2", "--y", "-1"], "f = -2.0\ndf/dy = 2.0\ndf/dx = -1.0\n"),
    (["grad", "x*y", "--x", "2", "--y", "-1", "--wrt", "y"], "f = -2.0\ndf/dy = 2.0\n"),
    (
        ["grad", "x*y", "--x", "2", "--y", "-1", "--wrt", "y,x"],
        "f = -2.0\ndf/dy = 2.0\ndf/dx = -1.0\n",
    ),
    (
        ["grad", "x*y", "--x", "2", "--y", "-1", "--wrt", " x , y "],
        "f = -2.0\ndf/dx = -1.0\ndf/dy = 2.0\n",
    ),
    (
        ["grad", "x*y", "--x", "1,2,3", "--y", "2"],
        # Each element is its own point: the derivative by the scalar y at each of them.
        "f = [2.0, 4.0, 6.0]\ndf/dx = [2.0, 2.0, 2.0]\ndf/dy = [1.0, 2.0, 3.0]\n",
    ),
    (
        ["grad", "x*y", "--x", "1,2,3", "--y", "2", "-q"],
        "2.0 4.0 6.0\n2.0 2.0 2.0\n1.0 2.0 3.0\n",
    ),
    (
        # A reduction mixes the elements: y's gradient is that of the whole sum.
        ["grad", "sum(x*y)", "--x", "1,2,3", "--y", "2"],
        "f = 12.0\ndf/dx = [2.0, 2.0, 2.0]\ndf/dy = 6.0\n",
    ),
    (
        ["grad", "x*y", "--x", "1,2,3", "--y", "2", "--format", "json"],
        '{"schema": 1, '
        '"expr": "x*y", "inputs": {"x": [1.0, 2.0, 3.0], "y": 2.0}, "value": [2.0, 4.0, 6.0], '
        '"grad": {"x": [2.0, 2.0, 2.0], "y": [1.0, 2.0, 3.0]}, "warnings": []}\n',
    ),
    (["eval", "x*y", "--x", "1,2,3", "--y", "2", "-q"], "2.0 4.0 6.0\n"),
    (["eval", "2^3^2"], "f = 512.0\n"),
    (["eval", "0.1 + 0.2"], "f = 0.30000000000000004\n"),  # repr: full round-trip precision
    (["grad", "-x^2", "--x", "3"], "f = -9.0\ndf/dx = -6.0\n"),  # leading '-' is no option
    (["eval", "-1", "-q"], "-1.0\n"),
    (["eval", "--", "-1"], "f = -1.0\n"),
    (["eval", "--format", "text", "-x", "--x", "2"], "f = -2.0\n"),
    (["grad", "x", "--debug", "--x", "1"], "f = 1.0\ndf/dx = 1.0\n"),  # the group's flag
    (["--debug", "grad", "x", "--x", "1"], "f = 1.0\ndf/dx = 1.0\n"),
]


@pytest.mark.parametrize("args, stdout", OUTPUTS, ids=[" ".join(a) for a, _ in OUTPUTS])
def test_output(args, stdout, dezero):
    ok(dezero(*args), stdout)


# Every way of giving a value; each must give x = 0.5 (or the number shown).
@pytest.mark.parametrize(
    "args, x",
    [
        (["--x", "0.5"], 0.5),
        (["--x=0.5"], 0.5),
        (["-v", "x=0.5"], 0.5),
        (["--var", "x=0.5"], 0.5),
        (["--var=x=0.5"], 0.5),
        (["-vx=0.5"], 0.5),
        (["--x", "-1"], -1.0),
        (["--x=-1"], -1.0),
        (["--x", "-1e-3"], -0.001),
        (["--x", "-.5"], -0.5),
        (["--x", "+2"], 2.0),
        (["--x", "1E2"], 100.0),
        (["--x", " 0.5 "], 0.5),
        (["-q", "--x", "-1e-3"], -0.001),
    ],
)
def test_value_syntax(args, x, dezero):
    result = dezero("eval", "x", "-q", *args)
    ok(result, f"{x!r}\n")


def test_value_given_before_the_expression(dezero):
    ok(dezero("grad", "--x", "-1e-3", "x*2", "-q"), "-0.002\n2.0\n")


def test_variable_named_like_an_option(dezero):
    ok(dezero("grad", "format*2", "--var", "format=2"), "f = 4.0\ndf/dformat = 2.0\n")
    ok(dezero("grad", "quiet+wrt", "-v", "quiet=1", "-v", "wrt=2", "-q"), "3.0\n1.0\n1.0\n")


def test_integer_values_become_floats(dezero):
    ok(dezero("grad", "x/y", "--x", "1", "--y", "2", "-q"), "0.5\n0.5\n-0.25\n")


def test_stdin_expression(dezero):
    ok(
        dezero("grad", "-", "--x", "0.5", stdin=SEED + "\n"),
        "f = 1.648721270700128\ndf/dx = 3.297442541400256\n",
    )
    ok(dezero("eval", "-", "-q", stdin="  1 +\n 2\n"), "3.0\n")


def test_version_comes_from_package_metadata(dezero):
    version = importlib.metadata.version("dezero-cli")
    ok(dezero("--version"), f"dezero {version}\n")


def test_help(dezero):
    result = dezero("--help")
    assert result.code == 0 and result.stderr == ""
    assert result.stdout.startswith("Usage: dezero [OPTIONS] COMMAND [ARGS]...\n")
    for command in cli.list_commands(None):
        assert f"\n  {command} " in result.stdout
    assert dezero("-h").stdout == result.stdout


@pytest.mark.parametrize("name", cli.list_commands(None))
def test_every_command_has_help_with_an_example(name, dezero):
    result = dezero(name, "--help")
    assert result.code == 0
    assert result.stdout.startswith(f"Usage: dezero {name} [OPTIONS]")
    assert "Example:\n" in result.stdout


def test_grad_help_example_is_true(dezero):
    example = dezero("grad", "--help").stdout.split("Example:\n")[1]
    assert "f = 1.648721270700128\n" in example and "df/dx = 3.297442541400256\n" in example


def test_json_is_strict_and_round_trips(dezero):
    def no_constants(token):
        raise AssertionError(f"non-standard JSON constant {token}")

    for args in (
        ["grad", "x*exp(y) - sin(x)/y", "--x", "0.3,1.7", "--y", "2.9"],
        ["grad", "log(x)", "--x", "-1,0,1"],
        ["eval", "1/x", "--x", "0"],
    ):
        result = dezero(*args, "--format", "json")
        record = json.loads(result.stdout, parse_constant=no_constants)
        assert set(record) >= {"expr", "inputs", "value", "warnings"}
    # Values read back are bit-for-bit numpy's, computed independently here.
    x, y = np.array([0.3, 1.7]), np.float64(2.9)
    record = json.loads(
        dezero(
            "grad", "x*exp(y) - sin(x)/y", "--x", "0.3,1.7", "--y", "2.9", "--format", "json"
        ).stdout
    )
    assert record["value"] == (x * np.exp(y) - np.sin(x) / y).tolist()
    assert record["grad"]["x"] == pytest.approx((np.exp(y) - np.cos(x) / y).tolist(), rel=1e-15)
    assert record["grad"]["y"] == pytest.approx(  # at each point
        (x * np.exp(y) + np.sin(x) / y**2).tolist(), rel=1e-15
    )


def test_text_numbers_round_trip(dezero):
    result = dezero("grad", "sin(x)/3", "--x", "0.7", "-q")
    value, derivative = (float(line) for line in result.stdout.split())
    assert value == float(np.sin(0.7) / 3)
    assert derivative == pytest.approx(math.cos(0.7) / 3, rel=1e-15)


SYNTAX = "error: {message}\n  {line}\n  {caret}\n"
NOT_A_NUMBER = "error: value of x is not a number or a comma-separated list of numbers: "
NOT_ONE_NUMBER = "error: value of x is not a number: "

# args -> (exit status, exact stderr); stdout must be empty for all of them.
ERRORS = [
    (
        ["grad", "(x", "--x", "1"],
        2,
        SYNTAX.format(message="missing ')' at the end of the expression", line="(x", caret="  ^"),
    ),
    (["grad", "x)", "--x", "1"], 2, SYNTAX.format(message="unmatched ')'", line="x)", caret=" ^")),
    (
        ["grad", "x+", "--x", "1"],
        2,
        SYNTAX.format(message="the expression ends too early", line="x+", caret="  ^"),
    ),
    (
        ["grad", "x*/2", "--x", "1"],
        2,
        SYNTAX.format(message="unexpected '/'", line="x*/2", caret="  ^"),
    ),
    (
        ["grad", "x++", "--x", "1"],
        2,
        SYNTAX.format(message="the expression ends too early", line="x++", caret="   ^"),
    ),
    (["grad", ""], 2, SYNTAX.format(message="empty expression", line="", caret="^")),
    (["grad", "   "], 2, SYNTAX.format(message="empty expression", line="   ", caret="^")),
    (
        ["grad", "1.2.3"],
        2,
        SYNTAX.format(message="malformed number '1.2.3'", line="1.2.3", caret="^"),
    ),
    (
        ["grad", "sinn(x)", "--x", "1"],
        2,
        SYNTAX.format(
            message="unknown function 'sinn': did you mean sin?", line="sinn(x)", caret="^"
        ),
    ),
    (
        ["grad", "pow(x)", "--x", "1"],
        2,
        SYNTAX.format(message="pow() takes 2 arguments, got 1", line="pow(x)", caret="^"),
    ),
    (
        ["grad", "1 + sin(x, x)", "--x", "1"],
        2,
        SYNTAX.format(message="sin() takes 1 argument, got 2", line="1 + sin(x, x)", caret="    ^"),
    ),
    (
        ["grad", "2x", "--x", "1"],
        2,
        SYNTAX.format(
            message="implicit multiplication is not supported: write 2*x", line="2x", caret=" ^"
        ),
    ),
    (
        ["grad", "2(x+1)", "--x", "1"],
        2,
        SYNTAX.format(
            message="implicit multiplication is not supported: write 2*(...)",
            line="2(x+1)",
            caret=" ^",
        ),
    ),
    (
        ["grad", "x # 1", "--x", "1"],
        2,
        SYNTAX.format(message="unexpected character '#'", line="x # 1", caret="  ^"),
    ),
    (
        ["grad", '__import__("os")'],
        2,
        SYNTAX.format(
            message="unexpected character '\"'", line='__import__("os")', caret="           ^"
        ),
    ),
    (
        ["grad", "x.__class__", "--x", "1"],
        2,
        SYNTAX.format(message="unexpected character '.'", line="x.__class__", caret=" ^"),
    ),
    (["grad", "x*y", "--x", "1"], 2, "error: no value for variable 'y': give it with --y VALUE\n"),
    (["grad", "x", "--x"], 2, "error: --x needs a value\n"),
    (["grad", "x+y", "--x", "--y", "1"], 2, "error: --x needs a value\n"),
    (
        ["grad", "x", "--x", "abc"],
        2,
        NOT_ONE_NUMBER + "'abc'\n",
    ),
    (
        ["grad", "x", "--x", "1,,2"],
        2,
        NOT_A_NUMBER + "'1,,2' has an empty item\n",
    ),
    (
        ["grad", "x", "--x", "1,2,"],
        2,
        NOT_A_NUMBER + "'1,2,' has an empty item\n",
    ),
    (
        ["grad", "x", "--x", "[1,2]"],
        2,
        NOT_A_NUMBER + "'[1,2]' has '[1'\n",
    ),
    (
        ["grad", "x", "--x", "1e400"],
        2,
        "error: value of x: 1e400 is outside the float64 range (largest about 1.8e308)\n",
    ),
    (
        ["grad", "x*y", "--x", "1,2,3", "--y", "1,2"],
        2,
        "error: vector values differ in length: x has 3, y has 2\n",
    ),
    (
        ["grad", "x", "--x", "1", "--format", "yaml"],
        2,
        "error: Invalid value for '--format': 'yaml' is not one of 'text', 'json', 'table', "
        "'csv', 'tsv'. (see 'dezero grad --help')\n",
    ),
    (
        ["grad", "x", "--x", "1", "--formt", "json"],
        2,
        "error: no such option --formt (did you mean --format?)\n",
    ),
    (["grad", "x", "--x", "1", "--x", "2"], 2, "error: variable 'x' is given twice\n"),
    (["grad", "x", "-v", "x"], 2, "error: --var takes NAME=VALUE, got 'x'\n"),
    (["grad", "x", "--1x", "2"], 2, "error: '1x' is not a variable name (letters, digits and _)\n"),
    (
        ["grad", "x", "--x", "1", "--wrt", "y"],
        2,
        "error: --wrt names 'y', which is not a variable of the expression\n",
    ),
    (["grad"], 2, "error: Missing argument 'EXPR'. (see 'dezero grad --help')\n"),
    (
        ["grad", "x", "--x", "1", "extra"],
        2,
        "error: Got unexpected extra argument (extra) (see 'dezero grad --help')\n",
    ),
    (["frob"], 2, "error: No such command 'frob'. (see 'dezero --help')\n"),
    (
        ["eval", "1/", "-q"],
        2,
        SYNTAX.format(message="the expression ends too early", line="1/", caret="  ^"),
    ),
]


@pytest.mark.parametrize("args, code, stderr", ERRORS, ids=[" ".join(a) for a, _, _ in ERRORS])
def test_errors(args, code, stderr, dezero):
    result = dezero(*args)
    assert (result.code, result.stdout, result.stderr) == (code, "", stderr)


def test_stdin_that_is_not_utf8(dezero):
    result = dezero("grad", "-", stdin=b"x\xff")
    assert (result.code, result.stderr) == (
        2,
        "error: the expression on standard input is not UTF-8 (byte 1)\n",
    )


def test_empty_stdin(dezero):
    result = dezero("grad", "-", stdin="")
    assert (result.code, result.stderr) == (
        2,
        "error: standard input is empty: expected an expression\n",
    )


def test_unused_variable_is_a_warning(dezero):
    result = dezero("grad", "x", "--x", "1", "--y", "2")
    ok(
        result,
        "f = 1.0\ndf/dx = 1.0\n",
        "warning: variable 'y' is given but not used in the expression\n",
    )
    result = dezero("eval", "x", "--x", "1", "--y", "2", "--format", "json")
    ok(
        result,
        '{"schema": 1, "expr": "x", "inputs": {"x": 1.0}, "value": 1.0, '
        '"warnings": ["variable \'y\' is given but not used in the expression"]}\n',
        "warning: variable 'y' is given but not used in the expression\n",
    )


# Domain problems: nan/inf, JSON null, a warning naming the function, exit 0, and no numpy
# RuntimeWarning (dezero() turns any Python warning into a test failure).
DOMAIN = [
    (
        ["grad", "log(x)", "--x", "-1"],
        "f = nan\ndf/dx = -1.0\n",
        '{"schema": 1, '
        '"expr": "log(x)", "inputs": {"x": -1.0}, "value": null, "grad": {"x": -1.0}, '
        '"warnings": ["log gave nan (outside its domain)"]}\n',
        "warning: log gave nan (outside its domain)\n",
    ),
    (
        ["grad", "sqrt(x)", "--x", "-4"],
        "f = nan\ndf/dx = nan\n",
        '{"schema": 1, '
        '"expr": "sqrt(x)", "inputs": {"x": -4.0}, "value": null, "grad": {"x": null}, '
        '"warnings": ["sqrt gave nan (outside its domain)"]}\n',
        "warning: sqrt gave nan (outside its domain)\n",
    ),
    (
        ["grad", "exp(x)", "--x", "1000"],
        "f = inf\ndf/dx = inf\n",
        '{"schema": 1, '
        '"expr": "exp(x)", "inputs": {"x": 1000.0}, "value": null, "grad": {"x": null}, '
        '"warnings": ["exp gave inf (overflow or division by zero)"]}\n',
        "warning: exp gave inf (overflow or division by zero)\n",
    ),
    (
        ["grad", "1/x", "--x", "0"],
        "f = inf\ndf/dx = -inf\n",
        '{"schema": 1, "expr": "1/x", "inputs": {"x": 0.0}, "value": null, "grad": {"x": null}, '
        '"warnings": ["\'/\' gave inf (overflow or division by zero)"]}\n',
        "warning: '/' gave inf (overflow or division by zero)\n",
    ),
    (
        ["eval", "log(-1)"],
        "f = nan\n",
        '{"schema": 1, "expr": "log(-1)", "inputs": {}, "value": null, '
        '"warnings": ["log gave nan (outside its domain)"]}\n',
        "warning: log gave nan (outside its domain)\n",
    ),
    (
        ["eval", "sqrt(-4)"],
        "f = nan\n",
        '{"schema": 1, "expr": "sqrt(-4)", "inputs": {}, "value": null, '
        '"warnings": ["sqrt gave nan (outside its domain)"]}\n',
        "warning: sqrt gave nan (outside its domain)\n",
    ),
    (
        ["eval", "exp(1000)"],
        "f = inf\n",
        '{"schema": 1, "expr": "exp(1000)", "inputs": {}, "value": null, '
        '"warnings": ["exp gave inf (overflow or division by zero)"]}\n',
        "warning: exp gave inf (overflow or division by zero)\n",
    ),
    (
        ["eval", "1/0"],
        "f = inf\n",
        '{"schema": 1, "expr": "1/0", "inputs": {}, "value": null, '
        '"warnings": ["\'/\' gave inf (overflow or division by zero)"]}\n',
        "warning: '/' gave inf (overflow or division by zero)\n",
    ),
    (
        ["grad", "sqrt(x)", "--x", "0,4"],
        "f = [0.0, 2.0]\ndf/dx = [inf, 0.25]\n",
        '{"schema": 1, "expr": "sqrt(x)", "inputs": {"x": [0.0, 4.0]}, "value": [0.0, 2.0], '
        '"grad": {"x": [null, 0.25]}, "warnings": ["the derivative by x is inf"]}\n',
        "warning: the derivative by x is inf\n",
    ),
]


@pytest.mark.parametrize(
    "args, text, json_text, stderr", DOMAIN, ids=[" ".join(a) for a, *_ in DOMAIN]
)
def test_domain_problems(args, text, json_text, stderr, dezero):
    ok(dezero(*args), text, stderr)
    ok(dezero(*args, "--format", "json"), json_text, stderr)


# ---- Real processes -------------------------------------------------------------------------


def test_python_dash_m(dezero_process):
    proc = dezero_process("grad", SEED, "--x", "0.5")
    assert (proc.code, proc.stdout, proc.stderr) == (
        0,
        "f = 1.648721270700128\ndf/dx = 3.297442541400256\n",
        "",
    )


def test_piped_output_has_no_ansi_codes(dezero_process):
    for args in (["grad", "log(x)", "--x", "-1"], ["grad", "2x"], ["--help"], ["grad", "--help"]):
        proc = dezero_process(*args, env={"TERM": "xterm-256color"})
        assert "\x1b" not in proc.stdout + proc.stderr, args


def on_terminal(dezero_process, *args: str, env: dict) -> str:
    """Run with stdout on a pseudo-terminal and return what it showed."""
    import pty

    leader, follower = pty.openpty()
    try:
        proc = dezero_process.start(*args, stdout=follower, stderr=subprocess.PIPE, env=env)
        _, err = proc.communicate(timeout=120)
    finally:
        os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the terminal has no writer left
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.returncode == 0, err
    return b"".join(chunks).decode()


@pytest.mark.requires_module("pty")
def test_terminal_is_styled_and_no_color_is_honoured(dezero_process):
    env = {"TERM": "xterm-256color"}
    styled = on_terminal(dezero_process, "grad", "x*y", "--x", "2", "--y", "3", env=env)
    assert "\x1b[" in styled  # so the NO_COLOR check below can fail
    assert "6.0" in styled and "df/dy" in styled
    plain = on_terminal(
        dezero_process, "grad", "x*y", "--x", "2", "--y", "3", env=dict(env, NO_COLOR="1")
    )
    assert plain.replace("\r\n", "\n") == "f = 6.0\ndf/dx = 3.0\ndf/dy = 2.0\n"


@pytest.mark.parametrize("args", [["--help"], ["grad", "--help"], ["--version"]])
def test_start_up_imports_only_click(args, dezero_process):
    proc, imported = dezero_process.imports(*args)
    assert proc.code == 0 and proc.stdout and proc.stderr == ""
    assert "click" in imported  # so that the check below can fail
    assert sorted(imported & {"numpy", "rich", "lark"}) == []


def test_no_traceback_for_any_error_case(dezero_process):
    # Every error of the table in real processes: one error line (plus the caret lines of a
    # syntax error), the documented status, never a Python traceback.
    def run(case):
        return dezero_process(*case[0], stdin=b"")

    with ThreadPoolExecutor(max_workers=4) as pool:  # the processes mostly wait on imports
        errors = list(pool.map(run, ERRORS))
        domain = list(pool.map(run, DOMAIN))
    for (args, code, stderr), proc in zip(ERRORS, errors):
        assert (proc.code, proc.stdout, proc.stderr) == (code, "", stderr), args
    for (args, _, _, stderr), proc in zip(DOMAIN, domain):
        assert (proc.code, proc.stderr) == (0, stderr), args


def test_deep_expression_from_stdin(dezero_process):
    depth = 100_000
    proc = dezero_process("grad", "-", "--x", "0.5", "-q", stdin="sin(" * depth + "x" + ")" * depth)
    assert proc.code == 0 and proc.stderr == ""
    value, derivative = 0.5, 1.0
    for _ in range(depth):  # the chain rule as a plain loop over floats
        derivative *= math.cos(value)
        value = math.sin(value)
    got_value, got_derivative = (float(line) for line in proc.stdout.split())
    assert got_value == value
    assert got_derivative == pytest.approx(derivative, rel=1e-9)
