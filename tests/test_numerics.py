"""Numerics at the edges: each documented convention, checked against mpmath or by hand.

mpmath (SymPy's arbitrary-precision backend) evaluates the textbook formula at 50 digits, so
where float64 formulas cancel or overflow, the reference does not.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest

from dezero_cli import api
from dezero_cli.engine.core import Variable
from dezero_cli.engine.functions import FUNCTIONS
from dezero_cli.errors import ExpressionSyntaxError, ValueProblem

mp.mp.dps = 50


def derivatives(name: str, x: float, order: int) -> list[float]:
    """f, f', ..., f^(order) of a registered one-argument function by repeated backward."""
    v = Variable(np.array(x), "x")
    with np.errstate(all="ignore"):
        y = FUNCTIONS[name]()(v)
        out = [float(y.data)]
        for _ in range(order):
            v.grad = None
            y.backward(create_graph=True)
            y = v.grad
            out.append(float(y.data))
    return out


def close(got: float, want, ulps: float = 8) -> bool:
    want = float(want)
    if want == 0 or not math.isfinite(want):
        return got == want
    return abs(got - want) <= ulps * 2.2e-16 * abs(want)


def mp_sigmoid(x):
    return 1 / (1 + mp.exp(-x))


@pytest.mark.parametrize("x", [-1000.0, -745.0, -40.0, -3.0, 0.0, 2.5, 40.0, 700.0, 1000.0])
def test_sigmoid_is_accurate_for_large_arguments(x):
    f, d1, d2 = derivatives("sigmoid", x, 2)
    with mp.workdps(1000):  # enough digits that 1 - s does not cancel even at x = 1000
        s = mp_sigmoid(mp.mpf(x))
        assert close(f, s)
        assert close(d1, s * (1 - s))  # the naive y * (1 - y) is 0 from x = 37 on
        assert close(d2, s * (1 - s) * (1 - 2 * s), ulps=64)


@pytest.mark.parametrize("x", [-400.0, -25.0, -19.5, -3.0, 0.0, 0.5, 10.0, 19.5, 25.0, 300.0])
def test_tanh_derivatives_keep_precision_near_saturation(x):
    t, sech2 = mp.tanh(mp.mpf(x)), 1 / mp.cosh(mp.mpf(x)) ** 2
    f, d1, d2, d3 = derivatives("tanh", x, 3)
    assert close(f, t)
    assert close(d1, sech2)  # 1 - tanh^2 would be exactly 0 beyond |x| = 19.1
    assert close(d2, -2 * sech2 * t, ulps=64)
    assert close(d3, sech2 * (4 * t**2 - 2 * sech2), ulps=256)


def test_tanh_derivative_underflows_only_where_the_true_value_does():
    assert derivatives("tanh", 354.0, 1)[1] > 0  # 4 e^-708 is a normal float64
    assert derivatives("tanh", 400.0, 1)[1] == 0.0  # 4 e^-800 is below the smallest subnormal


def test_exp_overflows_to_inf_with_a_warning():
    assert api.grad("exp(x)", {"x": 709.78}).value == float(mp.exp(mp.mpf(709.78)))
    r = api.grad("exp(x)", {"x": 709.79})
    assert (r.value, r.grad["x"]) == (math.inf, math.inf)
    assert r.warnings == ["exp gave inf (overflow or division by zero)"]
    assert api.grad("exp(x)", {"x": -800.0}).grad["x"] == 0.0


# (a, b) -> (a^b, d/da, d/db), derived by hand; see Pow.convention.
POW_TABLE = [
    ((-2.0, 3.0), (-8.0, 12.0, math.nan)),  # real only at integer b: d/db undefined
    ((-2.0, 2.0), (4.0, -4.0, math.nan)),
    ((-0.5, -1.0), (-2.0, -4.0, math.nan)),
    ((2.0, 0.0), (1.0, 0.0, math.log(2.0))),
    ((0.0, 0.0), (1.0, 0.0, 0.0)),  # 0^0 = 1; x^0 constant; 0^b constant for b >= 0
    ((0.0, 1.0), (0.0, 1.0, 0.0)),
    ((0.0, 2.0), (0.0, 0.0, 0.0)),
    ((0.0, 0.5), (0.0, math.inf, 0.0)),  # the one-sided derivative of sqrt at 0
    ((-2.0, 0.5), (math.nan, math.nan, math.nan)),  # not real
]


@pytest.mark.parametrize(("point", "expected"), POW_TABLE)
def test_pow_conventions(point, expected):
    a, b = point
    for text in ("a^b", "pow(a, b)", "a**b"):
        r = api.grad(text, {"a": a, "b": b})
        got = (float(r.value), float(r.grad["a"]), float(r.grad["b"]))
        assert np.array_equal(got, expected, equal_nan=True), text


def test_pow_with_a_constant_integer_exponent_and_a_negative_base():
    # x^3 at -2: -8, 12, -12, 6, then exactly 0 (no nan from 0 * x^-1 at any order).
    v = Variable(np.array(-2.0), "x")
    y = v**3.0
    out = [float(y.data)]
    for _ in range(4):
        v.grad = None
        y.backward(create_graph=True)
        y = v.grad
        out.append(float(y.data) if y is not None else 0.0)
    assert out == [-8.0, 12.0, -12.0, 6.0, 0.0]


def test_x_to_the_zero_at_zero_has_derivative_zero_at_every_order():
    assert api.grad("x^0", {"x": 0.0}).grad["x"] == 0.0
    v = Variable(np.array(0.0), "x")
    y = v**2.0
    got = []
    for _ in range(3):  # d/dx, d2/dx2, d3/dx3 of x^2 at 0
        v.grad = None
        y.backward(create_graph=True)
        y = v.grad  # None once the derivative is a constant: identically zero after it
        got.append(float(y.data) if y is not None else 0.0)
        if y is None:
            break
    assert got == [0.0, 2.0, 0.0]


def test_mixed_partial_of_pow_at_a_zero_exponent():
    # d2/dadb a^b = a^(b-1) * (1 + b log a): at b = 0 it is 1/a. The 0^0 convention must not
    # leak to a != 0 (it did: a constant base 1 there gave 1).
    a, b = Variable(np.array(1.2), "a"), Variable(np.array(0.0), "b")
    y = a**b
    y.backward(create_graph=True)
    ga = a.grad
    a.grad = b.grad = None
    ga.backward()
    assert (float(ga.data), float(b.grad.data)) == (0.0, 1 / 1.2)


def test_zero_exponent_mask_works_elementwise():
    r = api.grad("x^y", {"x": 0.0, "y": np.array([0.0, 1.0, 2.0])})
    assert r.value.tolist() == [1.0, 0.0, 0.0]
    assert r.grad["y"].tolist() == [0.0, 0.0, 0.0]
    assert r.grad["x"].tolist() == [0.0, 1.0, 0.0]  # each element is its own point


@pytest.mark.parametrize("x", [0.0, -0.0])
def test_abs_at_zero_has_derivative_zero(x):
    r = api.grad("abs(x)", {"x": x})
    assert (float(r.value), repr(float(r.grad["x"]))) == (0.0, "0.0")


def test_sqrt_at_zero_is_one_sided():
    r = api.grad("sqrt(x)", {"x": 0.0})
    assert (float(r.value), float(r.grad["x"])) == (0.0, math.inf)
    assert r.warnings == ["the derivative by x is inf"]
    # sqrt(-x) at x = 0 is sqrt(-0.0): its derivative is -inf, from the left.
    assert float(api.grad("sqrt(-x)", {"x": 0.0}).grad["x"]) == -math.inf
    r = api.grad("sqrt(x)", {"x": -4.0})
    assert math.isnan(r.value) and r.warnings == ["sqrt gave nan (outside its domain)"]


def test_log_at_zero_and_below():
    r = api.grad("log(x)", {"x": 0.0})
    assert (float(r.value), float(r.grad["x"])) == (-math.inf, math.inf)
    assert r.warnings == ["log gave -inf (overflow or division by zero)"]
    r = api.grad("log(x)", {"x": -1.0})
    assert math.isnan(r.value) and r.warnings == ["log gave nan (outside its domain)"]


# Input values: text -> the float64 it must become (bit for bit, sign of zero included).
ACCEPTED = [
    ("nan", math.nan),
    ("NaN", math.nan),
    ("inf", math.inf),
    ("-inf", -math.inf),
    ("+INF", math.inf),
    ("-0.0", -0.0),
    ("-0", -0.0),
    ("1e-310", 1e-310),  # subnormal: representable, kept
    ("5e-324", 5e-324),
    ("1.7976931348623157e308", 1.7976931348623157e308),
    ("0e999", 0.0),  # zero written with a large exponent is still exactly zero
    (" 2.5 ", 2.5),
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED)
def test_accepted_values(text, expected):
    got = float(api.parse_value(text, "x"))
    assert np.array_equal(got, expected, equal_nan=True)
    assert math.copysign(1, got) == math.copysign(1, expected)


REJECTED = [
    ("1e400", "value of x: 1e400 is outside the float64 range (largest about 1.8e308)"),
    ("-1e400", "value of x: -1e400 is outside the float64 range (largest about 1.8e308)"),
    ("1e-400", "value of x: 1e-400 is too small for float64 (it would become 0; smallest 5e-324)"),
    ("1,2e999", "value of x: 2e999 is outside the float64 range (largest about 1.8e308)"),
    ("0x10", "value of x is not a number: '0x10'"),
    (
        "1_000",
        "value of x is not a number: '1_000'",
    ),
    (
        "\u0661",
        "value of x is not a number: '\u0661'",
    ),
    ("", "value of x is not a number: ''"),
]


@pytest.mark.parametrize(("text", "message"), REJECTED)
def test_rejected_values(text, message):
    with pytest.raises(ValueProblem) as info:
        api.parse_value(text, "x")
    assert info.value.message == message


@pytest.mark.parametrize(
    ("expr", "message", "column"),
    [
        ("1e400 + x", "number 1e400 is outside the float64 range (largest about 1.8e308)", 0),
        (
            "x * 2e-999",
            "number 2e-999 is too small for float64 (it would become 0; smallest 5e-324)",
            4,
        ),
    ],
)
def test_literals_in_expressions_follow_the_same_rule(expr, message, column):
    with pytest.raises(ExpressionSyntaxError) as info:
        api.grad(expr, {"x": 1.0})
    assert (info.value.message, info.value.column) == (message, column)
    assert float(api.evaluate("0e999 + 1e-310", {}).value) == 1e-310


def test_nonfinite_inputs_are_reported_even_when_the_value_is_finite():
    r = api.grad("x^0", {"x": math.nan})
    assert (float(r.value), float(r.grad["x"])) == (1.0, 0.0)
    assert r.warnings == ["input x is nan"]
    r = api.grad("sigmoid(x)", {"x": -math.inf})
    assert (float(r.value), r.warnings) == (0.0, ["input x is -inf"])


def test_negative_zero_is_kept_and_follows_ieee():
    r = api.grad("x", {"x": api.parse_value("-0.0")})
    assert repr(float(r.value)) == "-0.0"
    assert float(api.evaluate("1/x", {"x": api.parse_value("-0.0")}).value) == -math.inf
