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


# ---- The functions of the expression language's second round -------------------------------
# Each edge the conventions of engine/elementary.py, piecewise.py and special.py name, against
# mpmath at 50 digits (derivatives from the textbook formulas, not from the engine's rules).


def mp_softplus(x):
    return mp.log1p(mp.exp(x))


@pytest.mark.parametrize("x", [-1000.0, -700.0, -40.0, -3.0, 0.0, 2.5, 40.0, 1000.0])
def test_softplus_never_overflows_and_keeps_full_precision(x):
    f, d1, d2 = derivatives("softplus", x, 2)
    u = mp.mpf(x)
    s = 1 / (1 + mp.exp(-u))
    assert close(f, mp_softplus(u))  # 1000 at 1000, 4.248e-18 at -40 (not 0, not inf)
    assert close(d1, s)
    assert close(d2, s * (1 - s), ulps=64)
    assert api.grad("softplus(x)", {"x": x}).warnings == []


def test_softplus_at_the_documented_points():
    assert derivatives("softplus", 1000.0, 0) == [1000.0]
    assert derivatives("softplus", -40.0, 0)[0] == float(mp_softplus(mp.mpf(-40)))


@pytest.mark.parametrize("x", [-27.0, -8.0, -0.7, -1e-300, 1e-300, 0.2, 64.0])
def test_cbrt_is_the_real_cube_root(x):
    f, d1, d2 = derivatives("cbrt", x, 2)
    c = mp.sign(x) * mp.cbrt(abs(mp.mpf(x)))
    assert close(f, c)
    assert close(d1, 1 / (3 * c**2))
    assert close(d2, -2 / (9 * c**5), ulps=16)


def test_cbrt_is_the_c_library_s_and_its_derivative_at_zero_is_inf():
    # Within an ulp, not correctly rounded: the C library's cbrt (as math.cbrt, np.cbrt).
    assert [derivatives("cbrt", x, 0)[0] for x in (-8.0, 8.0)] == [-2.0, 2.0]
    assert abs(derivatives("cbrt", -27.0, 0)[0] + 3.0) <= 4.5e-16  # -3.0000000000000004 here
    for x in (0.0, -0.0):
        r = api.grad("cbrt(x)", {"x": x})
        assert (float(r.value), float(r.grad["x"])) == (0.0, math.inf)
        assert r.warnings == ["the derivative by x is inf"]


@pytest.mark.parametrize("name", ["log1p", "expm1"])
@pytest.mark.parametrize("x", [1e-300, 1e-20, -3e-16, 1e-10, -1e-5])
def test_log1p_and_expm1_keep_tiny_arguments(name, x):
    f, d1, d2 = derivatives(name, x, 2)
    u = mp.mpf(x)
    if name == "log1p":
        assert close(f, mp.log1p(u)) and close(d1, 1 / (1 + u)) and close(d2, -1 / (1 + u) ** 2)
    else:
        assert close(f, mp.expm1(u)) and close(d1, mp.exp(u)) and close(d2, mp.exp(u))


@pytest.mark.parametrize("scale", [1e-300, 1e-160, 1.0, 1e160, 1e300])
def test_hypot_and_atan2_are_finite_for_huge_and_tiny_arguments(scale):
    a, b = 3.0 * scale, 4.0 * scale
    r = api.grad("hypot(a, b)", {"a": a, "b": b})
    assert close(float(r.value), mp.hypot(a, b))
    assert close(float(r.grad["a"]), mp.mpf(0.6)) and close(float(r.grad["b"]), mp.mpf(0.8))
    r = api.grad("atan2(b, a)", {"a": a, "b": b})  # d/db = a / (a^2 + b^2), 1 / scale sized
    assert close(float(r.value), mp.atan2(b, a))
    h2 = mp.mpf(a) ** 2 + mp.mpf(b) ** 2
    assert close(float(r.grad["b"]), a / h2) and close(float(r.grad["a"]), -b / h2)
    assert r.warnings == []


def test_hypot_at_the_origin_has_derivatives_zero_at_every_order():
    r = api.derivatives("hypot(a, b)", {"a": 0.0, "b": 0.0}, order=3)
    assert [float(a) for level in r.derivatives for a in level.values()] == [0.0] * 14


def test_atan2_at_the_origin():
    # C's atan2: 0 at (0, 0), with the signs of zero deciding between 0, -0, pi and -pi.
    for (y, x), angle in [((0.0, 0.0), 0.0), ((0.0, -0.0), math.pi), ((-0.0, -0.0), -math.pi)]:
        assert float(api.evaluate("atan2(y, x)", {"y": y, "x": x}).value) == angle
    # The derivatives have no limit there: nan, with a warning each.
    r = api.grad("atan2(y, x)", {"y": 0.0, "x": 0.0})
    assert math.isnan(r.grad["y"]) and math.isnan(r.grad["x"])
    assert r.warnings == ["the derivative by y is nan", "the derivative by x is nan"]


@pytest.mark.parametrize("name", ["asinh", "acosh"])
def test_asinh_and_acosh_derivatives_do_not_overflow(name):
    for x in (1e100, 1e155, 1e200, 1e300):
        f, d1, d2 = derivatives(name, x, 2)
        u = mp.mpf(x)
        assert close(f, mp.asinh(u) if name == "asinh" else mp.acosh(u))
        assert close(d1, 1 / u)  # 1 / sqrt(x^2 +- 1) would be 0 from 1.4e154 on, x^2 being inf
        assert close(d2, -1 / u**2) if x == 1e100 else abs(d2) < 1e-308  # (1e-310 is subnormal)


@pytest.mark.parametrize(
    ("text", "x", "value", "derivative", "warnings"),
    [
        ("asin(x)", 1.0, math.pi / 2, math.inf, ["the derivative by x is inf"]),
        ("asin(x)", -1.0, -math.pi / 2, math.inf, ["the derivative by x is inf"]),
        ("acos(x)", -1.0, math.pi, -math.inf, ["the derivative by x is -inf"]),
        ("acosh(x)", 1.0, 0.0, math.inf, ["the derivative by x is inf"]),
        ("atanh(x)", 1.0, math.inf, math.inf, ["atanh gave inf (overflow or division by zero)"]),
        ("asin(x)", 1.5, math.nan, math.nan, ["asin gave nan (outside its domain)"]),
        ("log1p(x)", -1.0, -math.inf, math.inf, ["log1p gave -inf (overflow or division by zero)"]),
        ("log2(x)", 0.0, -math.inf, math.inf, ["log2 gave -inf (overflow or division by zero)"]),
        ("gamma(x)", 0.0, math.inf, -math.inf, ["gamma gave inf (overflow or division by zero)"]),
        (
            "gamma(x)",
            -0.0,
            -math.inf,
            -math.inf,
            ["gamma gave -inf (overflow or division by zero)"],
        ),
        ("gamma(x)", -1.0, math.nan, math.nan, ["gamma gave nan (outside its domain)"]),
        ("gamma(x)", 172.0, math.inf, math.inf, ["gamma gave inf (overflow or division by zero)"]),
        ("lgamma(x)", -2.0, math.inf, math.nan, ["lgamma gave inf (overflow or division by zero)"]),
        (
            "digamma(x)",
            0.0,
            -math.inf,
            math.inf,
            ["digamma gave -inf (overflow or division by zero)"],
        ),
        ("beta(x, 2)", -1.0, math.inf, math.nan, ["beta gave inf (overflow or division by zero)"]),
    ],
)
def test_poles_and_domain_edges(text, x, value, derivative, warnings):
    r = api.grad(text, {"x": x})
    got = (float(r.value), float(r.grad["x"]))
    assert np.array_equal(got, (value, derivative), equal_nan=True), got
    assert r.warnings == warnings


def test_a_pole_is_null_in_strict_json_and_named_as_written(dezero):
    import json

    result = dezero("grad", "gamma(x) + lgamma(x)", "--x", "-1", "--format", "json")
    record = json.loads(result.stdout)
    assert (record["value"], record["grad"]) == (None, {"x": None})
    assert record["warnings"] == ["gamma gave nan (outside its domain)"]


@pytest.mark.parametrize("x", [1e-10, -1 + 2**-30, -2.5, 0.5, 1.5, 7.25, 170.5, -170.5])
def test_gamma_near_its_poles_and_far_out(x):
    f, d1 = derivatives("gamma", x, 1)
    u = mp.mpf(x)
    assert close(f, mp.gamma(u), ulps=16)
    # The derivative is gamma * digamma. Near a negative pole scipy's digamma is as good as
    # its argument, no better: the relative error grows as 1 / (distance to the pole).
    distance = abs(u - mp.nint(u)) if x < 0 else 1
    assert abs(d1 - float(mp.gamma(u) * mp.digamma(u))) <= 64 * 2.2e-16 / distance * abs(d1)


@pytest.mark.parametrize("x", [-4.5, -0.7, 0.3, 3.0, 30.0])
def test_lgamma_digamma_polygamma_against_mpmath(x):
    u = mp.mpf(x)
    f, d1, d2, d3 = derivatives("lgamma", x, 3)
    assert close(f, mp.log(abs(mp.gamma(u))), ulps=16)
    assert close(d1, mp.digamma(u), ulps=16)
    assert close(d2, mp.polygamma(1, u), ulps=64)
    assert close(d3, mp.polygamma(2, u), ulps=64)
    r = api.derivatives("polygamma(3, x)", {"x": x}, order=2)
    assert close(float(r.value), mp.polygamma(3, u), ulps=64)
    assert close(float(r.derivatives[1]["x", "x"]), mp.polygamma(5, u), ulps=64)


@pytest.mark.parametrize("x", [-5.0, 0.5, 3.0, 10.0, 20.0, 26.0])
def test_erfc_keeps_full_precision_far_out(x):
    f, d1, d2 = derivatives("erfc", x, 2)
    u = mp.mpf(x)
    g = -2 / mp.sqrt(mp.pi) * mp.exp(-(u**2))
    assert close(f, mp.erfc(u))  # 5.66e-296 at 26, where 1 - erf(x) is 0
    assert close(d1, g, ulps=32)  # exp(-x^2) at a rounded x^2: a few ulp per unit of x^2
    assert close(d2, -2 * u * g, ulps=2048)


def test_beta_against_mpmath():
    for a, b in [(0.5, 1.5), (2.0, 3.0), (-0.7, 1.2), (10.0, 0.1)]:
        r = api.grad("beta(a, b)", {"a": a, "b": b})
        A, B = mp.mpf(a), mp.mpf(b)
        assert close(float(r.value), mp.beta(A, B), ulps=64)
        for name, v in (("a", A), ("b", B)):
            want = mp.beta(A, B) * (mp.digamma(v) - mp.digamma(A + B))
            assert close(float(r.grad[name]), want, ulps=256), (a, b, name)


# Conventions where a derivative is not defined: a tie, a kink, a jump.
TIES = [
    ("max(x, y)", {"x": 1.0, "y": 1.0}, 1.0, {"x": 0.5, "y": 0.5}),
    ("min(x, y)", {"x": 1.0, "y": 1.0}, 1.0, {"x": 0.5, "y": 0.5}),
    ("max(x, y, z)", {"x": 2.0, "y": 2.0, "z": 2.0}, 2.0, {"x": 1 / 3, "y": 1 / 3, "z": 1 / 3}),
    ("max(x, y, z)", {"x": 2.0, "y": 1.0, "z": 2.0}, 2.0, {"x": 0.5, "y": 0.0, "z": 0.5}),
    ("min(x, y, z, 2)", {"x": 2.0, "y": 3.0, "z": 2.0}, 2.0, {"x": 1 / 3, "y": 0.0, "z": 1 / 3}),
    # Nesting splits pairwise, which is why max takes any number of arguments as one function.
    ("max(max(x, y), z)", {"x": 2.0, "y": 2.0, "z": 2.0}, 2.0, {"x": 0.25, "y": 0.25, "z": 0.5}),
    ("max(x, x)", {"x": 3.0}, 3.0, {"x": 1.0}),  # two halves of one variable
    ("max(x, y)", {"x": 5.0, "y": 1.0}, 5.0, {"x": 1.0, "y": 0.0}),
    ("relu(x)", {"x": 0.0}, 0.0, {"x": 0.0}),
    ("relu(x)", {"x": 1e-300}, 1e-300, {"x": 1.0}),
    ("clip(x, lo, hi)", {"x": 0.0, "lo": 0.0, "hi": 1.0}, 0.0, {"x": 1.0, "lo": 0.0, "hi": 0.0}),
    ("clip(x, lo, hi)", {"x": 1.0, "lo": 0.0, "hi": 1.0}, 1.0, {"x": 1.0, "lo": 0.0, "hi": 0.0}),
    ("clip(x, lo, hi)", {"x": -1.0, "lo": 0.0, "hi": 1.0}, 0.0, {"x": 0.0, "lo": 1.0, "hi": 0.0}),
    ("clip(x, lo, hi)", {"x": 2.0, "lo": 0.0, "hi": 1.0}, 1.0, {"x": 0.0, "lo": 0.0, "hi": 1.0}),
    ("clip(x, lo, hi)", {"x": 0.5, "lo": 1.0, "hi": 0.0}, 0.0, {"x": 0.0, "lo": 0.0, "hi": 1.0}),
    ("clip(x, lo, hi)", {"x": 1.0, "lo": 1.0, "hi": 1.0}, 1.0, {"x": 1.0, "lo": 0.0, "hi": 0.0}),
    ("floor(x)", {"x": 2.0}, 2.0, {"x": 0.0}),
    ("ceil(x)", {"x": -0.5}, 0.0, {"x": 0.0}),
    ("round(x)", {"x": 2.5}, 2.0, {"x": 0.0}),  # half to even
    ("round(x)", {"x": 3.5}, 4.0, {"x": 0.0}),
    ("round(x)", {"x": -2.5}, -2.0, {"x": 0.0}),
]


@pytest.mark.parametrize(("text", "values", "value", "grad"), TIES)
def test_ties_kinks_and_jumps(text, values, value, grad):
    r = api.grad(text, values)
    assert float(r.value) == value
    assert {name: float(g) for name, g in r.grad.items()} == pytest.approx(grad, abs=0, rel=1e-15)
    assert r.warnings == []


@pytest.mark.parametrize(
    ("text", "xs"),
    [
        ("floor(x)", [-0.0]),
        ("ceil(x)", [-0.0, -0.4]),
        ("round(x)", [-0.0, -0.4]),
        ("relu(x)", [-0.0, -3]),
    ],
)
def test_no_negative_zero_from_a_step(text, xs):
    for x in xs:
        assert repr(float(api.evaluate(text, {"x": x}).value)) == "0.0"


def test_erfc_is_0_where_it_would_be_subnormal():
    r = api.grad("erfc(x)", {"x": 27.0})  # erfc(27) is 5.2e-319: scipy gives 0
    assert float(r.value) == 0.0 and r.warnings == []


@pytest.mark.parametrize("text", ["max(x, y)", "min(x, y)", "max(y, 2, x)"])
def test_max_and_min_propagate_a_nan(text):
    r = api.grad(text, {"x": math.nan, "y": 1.0})
    assert math.isnan(r.value) and all(math.isnan(g) for g in r.grad.values())


def test_max_ties_split_at_every_order_and_per_element():
    r = api.grad("max(x, y)", {"x": np.array([1.0, 2.0, 3.0]), "y": 2.0})
    assert r.grad["x"].tolist() == [0.0, 0.5, 1.0]
    assert r.grad["y"].tolist() == [1.0, 0.5, 0.0]  # each element is its own point
    r = api.derivatives("max(x, y) * x", {"x": 2.0, "y": 2.0}, order=2)
    # d/dx (x * max) = max + x * 1/2; d2/dx2 = 1/2 + 1/2 (the split is a constant)
    assert float(r.derivatives[0]["x",]) == 3.0 and float(r.derivatives[1]["x", "x"]) == 1.0
