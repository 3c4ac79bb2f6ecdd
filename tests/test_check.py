"""dezero check: central differences against backprop, verdict and exit status."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dezero_cli.api import check_gradient
from dezero_cli.engine.core import Function
from dezero_cli.engine.functions import FUNCTIONS
from dezero_cli.errors import ValueProblem


@pytest.mark.parametrize("value", ["2097152", "1e12", "-3e15", "1e-9"])
def test_the_step_scales_with_the_value(value, dezero):
    # An absolute step of 1e-6 is below float64's resolution at 1e12 (and coarse at 2^21):
    # the check then failed on exact derivatives.
    outcome = dezero("check", "x", "--x", value, "--format", "json")
    assert outcome.code == 0
    record = json.loads(outcome.stdout)
    assert record["checks"]["x"]["numeric"] == 1.0 and record["ok"] is True


def test_text_output_for_the_textbook_example(dezero):
    outcome = dezero("check", "square(exp(square(x)))", "--x", "0.5")
    assert outcome.code == 0
    assert outcome.stdout == (
        "f = 1.648721270700128\n"
        "df/dx: backprop 3.297442541400256, numeric 3.2974425413468174, "
        "abs error 5.3438586888887585e-11, rel error 1.6206070679913937e-11, ok\n"
        "check passed: 1 of 1 within tolerance (eps 1e-06, rtol 1e-05, atol 1e-08)\n"
    )


def test_json_output_with_a_vector_and_a_scalar(dezero):
    outcome = dezero("check", "x*y", "--x", "1,2", "--y", "3", "--format", "json")
    assert outcome.code == 0
    record = json.loads(outcome.stdout)
    assert record["checks"]["x"]["backprop"] == [3.0, 3.0]
    assert record["checks"]["y"]["backprop"] == [1.0, 2.0]  # each element is its own point
    np.testing.assert_allclose(record["checks"]["x"]["numeric"], [3.0, 3.0], rtol=1e-9)
    np.testing.assert_allclose(record["checks"]["y"]["numeric"], [1.0, 2.0], rtol=1e-9)
    assert record["checks"]["x"]["ok"] == [True, True]
    assert record["checks"]["y"]["ok"] == [True, True]
    assert (record["ok"], record["eps"], record["rtol"], record["atol"]) == (
        True,
        1e-06,
        1e-05,
        1e-08,
    )
    assert set(record) == {
        "schema", "expr", "inputs", "value", "checks", "eps", "rtol", "atol", "ok", "warnings",
    }  # fmt: skip


def test_vector_elements_each_get_a_line(dezero):
    outcome = dezero("check", "x - mean(x)", "--x", "1,2,4", "--atol", "1e-6")
    assert outcome.code == 0
    lines = outcome.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[1:4]] == ["df/dx[0]", "df/dx[1]", "df/dx[2]"]
    assert lines[-1].startswith("check passed: 3 of 3 within tolerance")


class Wrong(Function):
    """sin with a derivative of 2: a rule a check must catch."""

    __slots__ = ()
    derivative = "wrong on purpose"

    def forward(self, x):
        return np.sin(x)

    def backward(self, gy):
        return gy * 2.0


@pytest.fixture
def wrong_function(monkeypatch):
    Wrong.name = "wrong"
    monkeypatch.setitem(FUNCTIONS, "wrong", Wrong)


def test_a_wrong_rule_fails_with_exit_1(wrong_function, dezero):
    outcome = dezero("check", "wrong(x) + x", "--x", "0.5,1")
    assert outcome.code == 1
    out = outcome.stdout
    assert "df/dx[0]: backprop 3.0, numeric 1.877582561" in out
    assert out.endswith(
        "check FAILED: 2 of 2 outside tolerance (eps 1e-06, rtol 1e-05, atol 1e-08)\n"
    )


def test_zero_tolerance_fails_where_rounding_differs(dezero):
    outcome = dezero("check", "exp(x)", "--x", "0.5", "--rtol", "0", "--atol", "0")
    assert outcome.code == 1
    assert "FAILED" in outcome.stdout


def test_elementwise_and_per_element_numeric_agree():
    # The elementwise shortcut (one shifted evaluation) and the per-element loop (forced by
    # mean, which mixes elements) compute the same partials for an elementwise body.
    x = np.array([0.3, -1.2, 2.0])
    plain = check_gradient("sin(x) * exp(x)", {"x": x})
    mixed = check_gradient("sin(x) * exp(x) + 0 * mean(x)", {"x": x})
    np.testing.assert_allclose(plain.checks["x"].numeric, mixed.checks["x"].numeric, rtol=1e-8)
    np.testing.assert_allclose(
        plain.checks["x"].numeric, np.exp(x) * (np.sin(x) + np.cos(x)), rtol=1e-8
    )


def test_nonfinite_gradient_fails(dezero):
    captured = dezero("check", "sqrt(x)", "--x", "0")
    assert captured.code == 1
    assert "df/dx: backprop inf, numeric nan, abs error nan, rel error nan, not checked" in (
        captured.stdout
    )
    assert captured.stderr == (
        "warning: the derivative by x is inf\nwarning: df/dx: f is not finite at x - h (x = 0.0, "
        "h = 1e-06): the step left the domain, so there is no central difference; check at a "
        "point at least h inside the domain, or with a smaller --eps\n"
    )


@pytest.mark.parametrize("option", ["--eps", "--rtol", "--atol"])
def test_bad_tolerances_are_user_errors(option, dezero):
    with pytest.raises(ValueProblem, match=option):
        check_gradient("x", {"x": 1.0}, **{option[2:]: -1.0})
    assert dezero("check", "x", "--x", "1", option, "nan").code == 2
