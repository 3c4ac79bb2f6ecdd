"""`dezero grad --trace`: the forward and backward passes step by step.

The reference for the backward order is the engine's own rule (latest generation first), and
for every number the gradient `grad` prints: the last step's gx is df/dx.
"""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pytest

from dezero_cli import api
from dezero_cli.engine import core
from dezero_cli.render.trace import render_trace_rich

SEED = "square(exp(square(x)))"


def ok(outcome, stdout: str, stderr: str = "") -> None:
    assert (outcome.code, outcome.stdout, outcome.stderr) == (0, stdout, stderr)


def test_the_textbooks_example_step_by_step(dezero):
    ok(
        dezero("grad", SEED, "--x", "0.5", "--trace"),
        """f = 1.648721270700128
df/dx = 3.297442541400256

forward: 3 steps, in the order they ran
#  function  generation  inputs              output
1  Square    0           0.5                 0.25
2  Exp       1           0.25                1.2840254166877414
3  Square    2           1.2840254166877414  1.648721270700128

backward: 3 steps, in the order backward() pops them, latest generation first
#  function  generation  inputs              output              gy                 gx
1  Square    2           1.2840254166877414  1.648721270700128   1.0                """
        """2.568050833375483
2  Exp       1           0.25                1.2840254166877414  2.568050833375483  """
        """3.297442541400256
3  Square    0           0.5                 0.25                3.297442541400256  """
        """3.297442541400256
""",
    )


def test_json_has_every_step_under_trace(dezero):
    record = json.loads(dezero("grad", "x*2 + y", "--x", "3", "--y", "1", "--trace",
                               "--format", "json").stdout)  # fmt: skip
    assert record["trace"] == {
        "forward": [
            {"function": "Mul", "generation": 0, "inputs": [3.0, 2.0], "output": 6.0},
            {"function": "Add", "generation": 1, "inputs": [6.0, 1.0], "output": 7.0},
        ],
        "backward": [
            {"function": "Add", "generation": 1, "inputs": [6.0, 1.0], "output": 7.0,
             "gy": 1.0, "gx": [1.0, 1.0]},
            # the constant 2 receives no gradient: null
            {"function": "Mul", "generation": 0, "inputs": [3.0, 2.0], "output": 6.0,
             "gy": 1.0, "gx": [2.0, None]},
        ],
        "first_pass_only": False,
    }  # fmt: skip
    assert record["grad"] == {"x": 2.0, "y": 1.0}


def test_non_finite_values_are_null_in_json(dezero):
    record = json.loads(dezero("grad", "log(x)", "--x", "-1", "--trace", "--format", "json")
                        .stdout)  # fmt: skip
    assert record["trace"]["forward"] == [
        {"function": "Log", "generation": 0, "inputs": [-1.0], "output": None}
    ]


def test_backward_pops_latest_generation_first_and_ends_at_the_gradient():
    text = "a = sin(x)*y; b = a*a + exp(y); b/(1 + a) + x"
    result = api.grad(text, {"x": 0.3, "y": 1.2}, trace=True)
    generations = [step.generation for step in result.trace.backward]
    assert generations == sorted(generations, reverse=True)
    assert len(result.trace.backward) == len(result.trace.forward)
    # Each x input's gx, added up over the steps, is df/dx: the fan-out sums.
    for name in ("x", "y"):
        total = 0.0
        for step in result.trace.backward:
            for gx, forward in zip(step.gx, _inputs(result, step)):
                if forward == name and gx is not None:
                    total += float(gx)
        assert total == pytest.approx(float(result.grad[name]), rel=1e-15)


def _inputs(result, step):
    """Which of a step's inputs are the variables themselves (by value, unique here)."""
    named = {float(v): name for name, v in result.inputs.items()}
    return [named.get(float(v)) if np.ndim(v) == 0 else None for v in step.inputs]


def test_with_order_n_only_the_first_backward_pass_is_traced(dezero):
    outcome = dezero("grad", "x^3", "--x", "2", "--order", "3", "--trace")
    assert outcome.code == 0
    assert (
        "backward: 1 step, in the order backward() pops them, latest generation first; the "
        "first backward pass only (--order N differentiates the graph it records again, "
        "untraced)\n"
    ) in outcome.stdout
    record = json.loads(
        dezero("grad", "x^3", "--x", "2", "--order", "3", "--trace", "--format", "json").stdout
    )
    assert record["trace"]["first_pass_only"] is True
    assert [s["gx"] for s in record["trace"]["backward"]] == [[12.0, None]]
    assert "first backward pass only" in " ".join(dezero("grad", "--help").stdout.split())


def test_a_vector_result_has_one_pass_per_output(dezero):
    record = json.loads(dezero("grad", "[x*y, sin(x)]", "--x", "1", "--y", "2", "--trace",
                               "--format", "json").stdout)  # fmt: skip
    backward = record["trace"]["backward"]
    assert [(s["pass"], s["function"]) for s in backward] == [(0, "Mul"), (1, "Sin")]
    text = dezero("grad", "[x*y, sin(x)]", "--x", "1", "--y", "2", "--trace").stdout
    assert "#  pass  function  generation" in text and "\n1  f[0]  Mul" in text


def test_vector_values_show_whole(dezero):
    outcome = dezero("grad", "x*y", "--x", "1,2", "--y", "3", "--trace")
    assert "1  Mul       0           [1.0, 2.0], [3.0, 3.0]  [3.0, 6.0]" in outcome.stdout


def test_a_huge_graph_is_refused_before_any_work(dezero):
    outcome = dezero("grad", "x" + "+x" * 6000, "--x", "1", "--trace")
    assert (outcome.code, outcome.stdout) == (2, "")
    assert outcome.stderr == (
        "error: --trace shows at most 10,000 steps, and this expression can take 12,000 "
        "(6,000 calls, forward and backward): trace a smaller expression\n"
    )
    outcome = dezero("grad", "[x, x+x, x*x]", "--x", "1", "--trace")  # 2 calls, 4 passes: fine
    assert outcome.code == 0
    ok(dezero("grad", "x" + "+x" * 6000, "--x", "1", "-q"), "6001.0\n6001.0\n")  # no --trace


def test_too_many_values_are_refused(dezero):
    outcome = dezero("grad", "sin(x)", "--x", ",".join(["1"] * 1001), "--trace")
    assert (outcome.code, outcome.stdout, outcome.stderr) == (
        2,
        "",
        "error: --trace shows every value of every step: give x at most 1,000 values, not 1,001\n",
    )


def test_quiet_and_trace_exclude_each_other(dezero):
    outcome = dezero("grad", "x", "--x", "1", "--trace", "-q")
    assert (outcome.code, outcome.stdout, outcome.stderr) == (
        2,
        "",
        "error: --trace shows the steps, -q bare numbers only: choose one\n",
    )


def test_a_long_trace_elides_its_middle_on_a_terminal_never_in_json(dezero):
    from rich.console import Console

    text = "x" + "".join(f"*sin(x+{i})" for i in range(20))
    result = api.grad(text, {"x": 0.3}, trace=True)
    assert len(result.trace.forward) == 60
    buffer = io.StringIO()
    Console(file=buffer, width=200, color_system=None).print(render_trace_rich(result.trace, 200))
    shown = buffer.getvalue()
    assert (
        "30 steps in the middle not shown: every step and digit with --format json, or piped"
        in (shown)
    )
    numbers = re.findall(r"^│ +(\d+) │", shown, re.M)
    assert numbers == [str(k) for k in [*range(1, 16), *range(46, 61)]] * 2
    record = json.loads(dezero("grad", text, "--x", "0.3", "--trace", "--format", "json").stdout)
    assert len(record["trace"]["forward"]) == len(record["trace"]["backward"]) == 60
    piped = dezero("grad", text, "--x", "0.3", "--trace").stdout
    assert re.search(r"^16 +Add ", piped, re.M)  # piped text keeps every step


def test_a_terminal_never_cuts_a_number():
    from rich.console import Console

    result = api.grad("log(x)*y + x", {"x": [-1.0, 2.0, 3.5], "y": 2.0}, trace=True)
    for width in range(30, 200, 9):
        buffer = io.StringIO()
        Console(file=buffer, width=width, color_system=None).print(
            render_trace_rich(result.trace, width)
        )
        lines = buffer.getvalue().splitlines()
        assert max(len(line.rstrip()) for line in lines) <= width
        table = [line for line in lines if line.startswith("│")]
        assert all(line.rstrip().endswith("│") for line in table), width  # right border kept


def test_the_hook_is_read_once_per_backward_call(monkeypatch):
    reads = []

    class Counting:
        def get(self):
            reads.append(1)
            return None

    monkeypatch.setattr(core, "_backward_hook", Counting())
    api.grad("sin(" * 200 + "x" + ")" * 200, {"x": 0.5})
    assert len(reads) == 1


def test_the_hook_is_off_outside_a_trace():
    assert core._backward_hook.get() is None
    api.grad("x*y", {"x": 1.0, "y": 2.0}, trace=True)
    assert core._backward_hook.get() is None


@pytest.mark.requires_module("pty")
def test_a_terminal_shows_tables(dezero_process):
    from test_cli import on_terminal

    shown = on_terminal(dezero_process, "grad", SEED, "--x", "0.5", "--trace",
                        env={"TERM": "xterm-256color", "NO_COLOR": "1"})  # fmt: skip
    assert "┃ # ┃ function ┃ generation ┃" in shown
    assert "│ 3 │ Square   │          0 │ 0.5" in shown


@pytest.mark.parametrize(
    "args",
    [
        ["grad", "x*y", "--x", "1", "--y", "2"],
        ["eval", "x*y", "--x", "1", "--y", "2"],
        ["grad", "[x*y, x]", "--x", "1±0.1", "--y", "2"],
        ["eval", "x*y", "--x", "1+-0.1", "--y", "2"],
        ["grad", "x*y", "--x", "1", "--y", "2", "--trace"],
    ],
)
def test_piped_grad_and_eval_do_not_import_rich(args, dezero_process):
    outcome, imported = dezero_process.imports(*args)
    assert outcome.code == 0 and outcome.stdout and outcome.stderr == ""
    assert "numpy" in imported  # so that the check below can fail
    assert "rich" not in imported
