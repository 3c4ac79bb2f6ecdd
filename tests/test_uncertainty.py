"""Standard uncertainties of inputs (`--x 2.0±0.1`), propagated to first order.

The reference is the `uncertainties` package, which propagates by linear error propagation
with its own derivatives: sigma_f = sqrt(sum (df/dx_i * sigma_i)^2) for independent inputs.
"""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
from uncertainties import ufloat, umath

from dezero_cli import api
from dezero_cli.errors import ValueProblem
from dezero_cli.values import parse_sd, read_value, split_uncertainty


def ok(outcome, stdout: str, stderr: str = "") -> None:
    assert (outcome.code, outcome.stdout, outcome.stderr) == (0, stdout, stderr)


@pytest.mark.parametrize(
    "text, parts",
    [
        ("2.0±0.1", ("2.0", "0.1")),
        ("2.0+-0.1", ("2.0", "0.1")),
        (" 2.0 ± 0.1 ", (" 2.0 ", " 0.1 ")),
        ("-1e-3+-1e-4", ("-1e-3", "1e-4")),
        ("2.0", ("2.0", None)),
        ("1,2,3", ("1,2,3", None)),
    ],
)
def test_split_uncertainty(text, parts):
    assert split_uncertainty(text) == parts


def test_grad_and_eval_print_value_plus_minus_sigma(dezero):
    ok(dezero("grad", "x^2", "--x", "2.0+-0.1"), "f = 4.0 ± 0.4\ndf/dx = 4.0\n")
    ok(dezero("grad", "x^2", "--x", "2.0±0.1"), "f = 4.0 ± 0.4\ndf/dx = 4.0\n")
    ok(dezero("eval", "x^2", "--x", "2.0±0.1"), "f = 4.0 ± 0.4\n")
    ok(dezero("eval", "x*y", "--x", "2±0.1", "-v", "y=3+-0.2"), "f = 6.0 ± 0.5\n")


def test_quiet_puts_the_uncertainty_on_the_line_after_the_value(dezero):
    ok(dezero("grad", "x^2", "--x", "2±0.1", "-q"), "4.0\n0.4\n4.0\n")
    ok(dezero("eval", "[x^2, x]", "--x", "2±0.1", "-q"), "4.0\n0.4\n2.0\n0.1\n")


def test_json_has_uncertainty_shaped_as_value_and_input_sd(dezero):
    ok(
        dezero("grad", "x*y", "--x", "2±0.1", "--y", "3", "--format", "json"),
        '{"schema": 1, "expr": "x*y", "inputs": {"x": 2.0, "y": 3.0}, "value": 6.0, '
        '"uncertainty": 0.30000000000000004, "input_sd": {"x": 0.1}, '
        '"grad": {"x": 3.0, "y": 2.0}, "warnings": []}\n',
    )
    record = json.loads(
        dezero("eval", "[x*y, x]", "--x", "2±0.1", "--y", "1,2,3", "--format", "json").stdout
    )
    assert record["inputs"] == {"x": 2.0, "y": [1.0, 2.0, 3.0]}  # its shape kept
    assert np.shape(record["uncertainty"]) == np.shape(record["value"]) == (2, 3)
    assert record["input_sd"] == {"x": 0.1}
    assert "grad" not in record


def test_without_plus_minus_nothing_changes(dezero):
    record = json.loads(dezero("grad", "x^2", "--x", "2", "--format", "json").stdout)
    assert "uncertainty" not in record and "input_sd" not in record


def test_eval_computes_the_gradient_for_it():
    result = api.evaluate("sin(x)*y", {"x": 0.5, "y": 2.0}, {"x": 0.01, "y": 0.1})
    assert result.grad is None
    expected = np.hypot(2.0 * np.cos(0.5) * 0.01, np.sin(0.5) * 0.1)
    assert float(result.uncertainty) == pytest.approx(expected, rel=1e-15)


# Expressions written twice: for dezero, and for uncertainties' AffineScalarFunc.
CASES = [
    ("x^2", lambda x, y, z: x**2),
    ("x*y + sin(x)/(1+y^2)", lambda x, y, z: x * y + umath.sin(x) / (1 + y**2)),
    ("exp(x - y) * z", lambda x, y, z: umath.exp(x - y) * z),
    ("sqrt(x^2 + y^2 + z^2)", lambda x, y, z: umath.sqrt(x**2 + y**2 + z**2)),
    ("log(x) * tanh(y) - cos(z)", lambda x, y, z: umath.log(x) * umath.tanh(y) - umath.cos(z)),
    ("x^y", lambda x, y, z: x**y),
    ("x*x - 2*x + 1", lambda x, y, z: x * x - 2 * x + 1),  # x used three times: correlated
    ("sinh(x)/cosh(y) + tan(z)", lambda x, y, z: umath.sinh(x) / umath.cosh(y) + umath.tan(z)),
    ("abs(x - y) * sigmoid(z)", lambda x, y, z: umath.sqrt((x - y) ** 2) / (1 + umath.exp(-z))),
]


@pytest.mark.parametrize("text, reference", CASES, ids=[t for t, _ in CASES])
def test_agrees_with_the_uncertainties_package(text, reference):
    rng = random.Random(text)
    for _ in range(20):
        point = {name: rng.uniform(0.2, 2.0) for name in "xyz"}
        sd = {name: rng.choice([0.0, rng.uniform(1e-4, 0.3)]) for name in "xyz"}
        # A sigma of 0 is a plain number there (the package warns of a UFloat without one).
        expected = reference(*(ufloat(point[n], sd[n]) if sd[n] else point[n] for n in "xyz"))
        if not hasattr(expected, "std_dev"):
            continue  # every sigma drawn was 0
        program = api.compile(text)
        values = {name: point[name] for name in program.variables}
        result = api.grad(program, values, sd=sd)
        assert float(result.value) == pytest.approx(expected.nominal_value, rel=1e-13)
        assert float(result.uncertainty) == pytest.approx(expected.std_dev, rel=1e-10, abs=1e-300)


def test_vector_outputs_get_one_sigma_each_as_the_package_gives():
    x, y = ufloat(0.8, 0.05), ufloat(-1.2, 0.2)
    result = api.grad("[x*y, exp(x) + y, 3]", {"x": 0.8, "y": -1.2}, sd={"x": 0.05, "y": 0.2})
    expected = [x * y, umath.exp(x) + y]
    assert result.uncertainty.tolist()[:2] == pytest.approx([e.std_dev for e in expected])
    assert result.uncertainty.tolist()[2] == 0.0  # a constant output is certain


def test_a_variable_left_out_of_wrt_still_counts(dezero):
    ok(dezero("grad", "x*y", "--x", "2±0.1", "--y", "3±0.2", "--wrt", "y"),
       "f = 6.0 ± 0.5\ndf/dy = 2.0\n")  # fmt: skip
    ok(
        dezero("grad", "x*y", "--x", "2±0.1", "--y", "3", "--wrt", "y", "--order", "2"),
        "f = 6.0 ± 0.30000000000000004\ndf/dy = 2.0\nd2f/dy2 = 0.0\n",
    )


def test_vector_inputs_propagate_at_each_point(dezero):
    ok(
        dezero("grad", "x*y", "--x", "1,2,3", "--y", "2±0.5"),
        "f = [2.0, 4.0, 6.0] ± [0.5, 1.0, 1.5]\ndf/dx = [2.0, 2.0, 2.0]\ndf/dy = [1.0, 2.0, 3.0]\n",
    )


def test_a_zero_sigma_adds_nothing_even_where_the_derivative_is_not_finite():
    result = api.grad("sqrt(x) + y", {"x": 0.0, "y": 1.0}, sd={"x": 0.0, "y": 0.1})
    assert float(result.grad["x"]) == np.inf
    assert float(result.uncertainty) == 0.1


def test_a_reduction_over_vector_values_is_refused():
    with pytest.raises(ValueProblem, match=r"sum\(\) mixes the elements"):
        api.grad("x*y + 0*sum(x)", {"x": [1.0, 2.0], "y": 3.0}, sd={"y": 0.1})
    # A scalar result of a reduction is fine: its derivative is the result's.
    result = api.grad("sum(x)*y", {"x": [1.0, 2.0], "y": 3.0}, sd={"y": 0.1})
    assert float(result.uncertainty) == pytest.approx(0.3)


BAD = [
    ("1,2±0.1", "error: value of x: an uncertainty (±) goes with one number, not with a list of "
                "2 values"),
    ("0:1:0.5±0.1", "error: value of x: an uncertainty (±) goes with one number, not with a "
                    "range of 3 values"),
    ("1±-0.1", "error: the uncertainty of x must be a finite number at least 0, not -0.1"),
    ("1+-nan", "error: the uncertainty of x must be a finite number at least 0, not nan"),
    ("1±inf", "error: the uncertainty of x must be a finite number at least 0, not inf"),
    ("1±1e400", "error: the uncertainty of x: 1e400 is outside the float64 range (largest "
                "about 1.8e308)"),
    ("1±", "error: the uncertainty of x is not a number: '' (write VALUE±SD or VALUE+-SD, as "
           "in 2.0±0.1)"),
    ("1±0.1±0.2", "error: the uncertainty of x is not a number: '0.1±0.2' (write VALUE±SD or "
                  "VALUE+-SD, as in 2.0±0.1)"),
    ("1+-abc", "error: the uncertainty of x is not a number: 'abc' (write VALUE±SD or "
               "VALUE+-SD, as in 2.0±0.1)"),
    ("±0.1", "error: value of x is not a number: ''"),
]  # fmt: skip


@pytest.mark.parametrize("value, stderr", BAD, ids=[v for v, _ in BAD])
@pytest.mark.parametrize("command", ["grad", "eval"])
def test_a_bad_uncertainty_is_one_error_line(command, value, stderr, dezero):
    outcome = dezero(command, "x", "--x", value)
    assert (outcome.code, outcome.stdout, outcome.stderr) == (2, "", stderr + "\n")


@pytest.mark.parametrize("command", ["check", "diff", "graph"])
def test_commands_that_do_not_propagate_refuse_it(command, dezero):
    outcome = dezero(command, "x^2", "--x", "2±0.1")
    assert (outcome.code, outcome.stdout) == (2, "")
    assert outcome.stderr == (
        f"error: value of x: an uncertainty (±) is propagated by grad and eval only, not by "
        f"{command}\n"
    )


def test_digits_round_the_plus_minus_on_a_terminal_only(dezero):
    import io

    from rich.console import Console

    from dezero_cli.render.results import render_rich

    result = api.grad("x^2", {"x": 2.0}, sd={"x": 0.123456})
    buffer = io.StringIO()
    Console(file=buffer, width=80, color_system=None).print(render_rich(result, 80, 3))
    assert buffer.getvalue() == "f = 4.00 ± 0.494\ndf/dx = 4.00\n"
    piped = dezero("grad", "x^2", "--x", "2±0.123456", "--digits", "3")
    ok(piped, "f = 4.0 ± 0.493824\ndf/dx = 4.0\n")


def test_an_output_without_plus_minus_in_its_encoding_gets_plus_slash_minus(dezero_process):
    outcome = dezero_process("eval", "x^2", "--x", "2+-0.1", env={"PYTHONIOENCODING": "ascii"})
    assert (outcome.code, outcome.stdout, outcome.stderr) == (0, "f = 4.0 +/- 0.4\n", "")


def test_batch_takes_name_sd_columns_and_writes_value_sd(dezero):
    ok(
        dezero("batch", "--expr", "x*y", stdin="x,x_sd,y\n2,0.1,3\n1,0,1\n"),
        "x,x_sd,y,value,value_sd,grad_x,grad_y,error\n"
        "2,0.1,3,6.0,0.30000000000000004,3.0,2.0,\n1,0,1,1.0,0.0,1.0,1.0,\n",
    )
    ok(
        dezero("batch", "--expr", "[x*y, x]", "--no-grad", stdin="x,y,x_sd\n2,3,0.1\n"),
        "x,y,x_sd,value_0,value_0_sd,value_1,value_1_sd,error\n"
        "2,3,0.1,6.0,0.30000000000000004,2.0,0.1,\n",
    )


def test_batch_rows_agree_with_grad(dezero):
    rows = dezero(
        "batch", "--expr", "sin(x)*y", "--output-format", "jsonl",
        stdin="x,x_sd,y,y_sd\n0.5,0.01,2,0.1\n1.5,0.2,-1,0\n",
    ).stdout.splitlines()  # fmt: skip
    for line, (x, y) in zip(rows, [("0.5±0.01", "2±0.1"), ("1.5±0.2", "-1±0")]):
        single = json.loads(dezero("grad", "sin(x)*y", "--x", x, "--y", y, "--format", "json")
                            .stdout)  # fmt: skip
        record = json.loads(line)
        assert record["uncertainty"] == single["uncertainty"]
        assert record["input_sd"] == single["input_sd"]


def test_batch_bad_sd_cells_fail_their_row_only(dezero):
    outcome = dezero("batch", "--expr", "x^2", stdin="x,x_sd\n2,-1\n2,abc\n2,0.1\n")
    assert outcome.code == 1
    assert outcome.stdout == (
        "x,x_sd,value,value_sd,grad_x,error\n"
        '2,-1,,,,"line 2: the uncertainty of x (x_sd) must be a finite number at least 0, '
        'not -1"\n'
        "2,abc,,,,line 3: value of x_sd is not a number: 'abc'\n"
        "2,0.1,4.0,0.4,4.0,\n"
    )


def test_batch_records_take_name_sd_fields(dezero):
    lines = [
        json.dumps({"expr": "x^2", "x": 2, "x_sd": 0.1}),
        json.dumps({"expr": "x^2", "x": 2, "x_sd": -1}),
    ]
    outcome = dezero("batch", stdin="\n".join(lines) + "\n")
    first, second = (json.loads(line) for line in outcome.stdout.splitlines())
    assert (first["uncertainty"], first["input_sd"]) == (0.4, {"x": 0.1})
    assert second["error"] == "line 2: the uncertainty of x must be a finite number at least 0, " \
                              "got -1.0"  # fmt: skip


def test_a_column_named_like_a_variable_is_that_variable(dezero):
    # x_sd is a variable of the expression here, so it is no uncertainty.
    ok(
        dezero("batch", "--expr", "x + x_sd", stdin="x,x_sd\n1,2\n"),
        "x,x_sd,value,grad_x,grad_x_sd,error\n1,2,3.0,1.0,1.0,\n",
    )


def test_parse_sd_directly():
    assert parse_sd(" 0.5 ", read_value("2.0"), "x") == 0.5
    assert parse_sd("-0.0", read_value("2.0"), "x") == 0.0  # minus zero is zero
    with pytest.raises(ValueProblem, match="not with a list of 2 values"):
        parse_sd("0.1", read_value("1,2"), "x")
