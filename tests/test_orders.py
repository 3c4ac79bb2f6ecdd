"""Higher-order derivatives (--order N) against closed forms and nested central differences."""

from __future__ import annotations

import gc
import json
import math
import weakref

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dezero_cli.api import derivatives, evaluate, label
from dezero_cli.engine.core import Variable
from dezero_cli.engine.higher import count_partials, partials
from dezero_cli.errors import ValueProblem
from dezero_cli.language.compiler import compile_expression


def nth(expr: str, x: float, order: int) -> list[float]:
    """f', f'', ..., f^(order) of a one-variable expression at x."""
    result = derivatives(expr, {"x": x}, order)
    return [float(level[("x",) * k]) for k, level in enumerate(result.derivatives, start=1)]


@pytest.mark.parametrize("x", [0.0, 0.3, -2.5])
def test_sin_derivatives_cycle_through_cos_minus_sin_minus_cos_sin(x):
    cycle = [math.cos(x), -math.sin(x), -math.cos(x), math.sin(x)]
    expected = [cycle[k % 4] for k in range(6)]
    np.testing.assert_allclose(nth("sin(x)", x, 6), expected, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("x", [0.0, 1.3, -0.7])
def test_every_derivative_of_exp_is_exp(x):
    np.testing.assert_allclose(nth("exp(x)", x, 5), [math.exp(x)] * 5, rtol=1e-14)


def test_textbook_newton_example_and_exact_zeros_beyond_the_degree():
    # f = x^4 - 2x^2: f' = 4x^3 - 4x, f'' = 12x^2 - 4, f''' = 24x, f'''' = 24, then 0.
    assert nth("x^4 - 2*x^2", 2.0, 6) == [24.0, 44.0, 48.0, 24.0, 0.0, 0.0]
    assert nth("x*x*x", -3.0, 5) == [27.0, -18.0, 6.0, 0.0, 0.0]


def test_polynomial_at_zero_has_no_nan_from_a_zero_exponent():
    # d/dx x^0 used to be 0 * x^-1 = nan at x = 0.
    assert nth("x^2", 0.0, 4) == [0.0, 2.0, 0.0, 0.0]
    assert nth("x^3 + x", 0.0, 5) == [1.0, 0.0, 6.0, 0.0, 0.0]


def test_identically_zero_derivatives_are_zero_not_missing():
    assert nth("2*x", 5.0, 3) == [2.0, 0.0, 0.0]
    assert nth("x", 5.0, 2) == [1.0, 0.0]
    result = derivatives("x + y", {"x": 1.0, "y": 2.0}, 2)
    assert {key: float(a) for key, a in result.derivatives[1].items()} == {
        ("x", "x"): 0.0,
        ("x", "y"): 0.0,
        ("y", "x"): 0.0,
        ("y", "y"): 0.0,
    }


@pytest.mark.parametrize("x", [0.0, 0.4, -1.1])
def test_tanh_to_order_4(x):
    t = math.tanh(x)
    s = 1 - t * t
    expected = [s, -2 * t * s, s * (6 * t * t - 2), 8 * t * s * (2 - 3 * t * t)]
    np.testing.assert_allclose(nth("tanh(x)", x, 4), expected, rtol=1e-13, atol=1e-15)


def test_tanh_to_order_10_against_the_polynomial_recurrence():
    # d^n tanh = P_n(tanh x) with P_{n+1}(t) = P_n'(t) (1 - t^2): numpy's polynomials, not ours.
    from numpy.polynomial import Polynomial

    p, t = Polynomial([0.0, 1.0]), math.tanh(0.5)
    expected = []
    for _ in range(10):
        p = p.deriv() * Polynomial([1.0, 0.0, -1.0])
        expected.append(p(t))
    np.testing.assert_allclose(nth("tanh(x)", 0.5, 10), expected, rtol=1e-12)


@pytest.mark.parametrize(("x", "y"), [(0.7, -0.3), (2.0, 1.5), (-1.0, 0.0)])
def test_mixed_partials_are_symmetric_and_match_the_hand_derivation(x, y):
    result = derivatives("x*y + sin(x)/(1+y^2)", {"x": x, "y": y}, 3)
    q = 1 + y * y
    first, second, third = result.derivatives
    np.testing.assert_allclose(
        [first[("x",)], first[("y",)]],
        [y + math.cos(x) / q, x - 2 * y * math.sin(x) / q**2],
        rtol=1e-14,
    )
    hessian = np.array([[second[a, b] for b in "xy"] for a in "xy"])
    fxy = 1 - 2 * y * math.cos(x) / q**2
    expected = [
        [-math.sin(x) / q, fxy],
        [fxy, -2 * math.sin(x) * (1 - 3 * y * y) / q**3],
    ]
    np.testing.assert_allclose(hessian, expected, rtol=1e-13, atol=1e-15)
    assert hessian[0, 1] == hessian[1, 0]
    np.testing.assert_allclose(third[("x", "x", "y")], 2 * y * math.sin(x) / q**2, atol=1e-15)
    assert third[("x", "x", "y")] == third[("y", "x", "x")] == third[("x", "y", "x")]
    assert len(third) == 8


def test_order_1_matches_grad_and_wrt_selects():
    result = derivatives("x*y^2", {"x": 3.0, "y": 2.0}, 2, wrt=["y"])
    assert list(result.grad) == ["y"]
    assert float(result.grad["y"]) == 12.0
    assert {k: float(a) for k, a in result.derivatives[1].items()} == {("y", "y"): 6.0}


def test_vectors_are_elementwise_and_scalars_broadcast_at_order_2():
    result = derivatives("x^3 * y", {"x": np.array([1.0, 2.0]), "y": 2.0}, 2)
    assert result.grad["x"].tolist() == [6.0, 24.0]
    assert result.grad["y"].tolist() == [1.0, 8.0]  # one point per element
    assert result.derivatives[1][("x", "x")].tolist() == [12.0, 24.0]
    assert result.derivatives[1][("x", "y")].tolist() == [3.0, 12.0]
    assert result.derivatives[1][("y", "y")].tolist() == [0.0, 0.0]
    assert result.inputs["y"].shape == ()  # shown as given


def test_reductions_with_vectors_at_order_2_are_refused():
    with pytest.raises(ValueProblem, match="sum\\(\\) mixes the elements"):
        derivatives("sum(x^2)", {"x": np.array([1.0, 2.0])}, 2)
    # with a scalar value nothing is mixed
    assert nth("sum(x^3)", 2.0, 3) == [12.0, 12.0, 6.0]


def test_an_expression_without_variables_has_empty_levels():
    result = derivatives("3", {}, 2)
    assert (float(result.value), result.grad, result.derivatives) == (3.0, {}, [{}, {}])


def test_bad_orders_and_too_many_partials_are_user_errors():
    with pytest.raises(ValueProblem, match="at least 1"):
        derivatives("x", {"x": 1.0}, 0)
    with pytest.raises(ValueProblem, match="partials"):
        derivatives("a+b+c+d+e+f+g+h+i+j", dict.fromkeys("abcdefghij", 1.0), 7)
    assert nth("exp(x)", 0.0, 100)[-1] == 1.0  # the highest order there is
    with pytest.raises(ValueProblem) as info:
        derivatives("exp(x)", {"x": 0.0}, 101)
    assert info.value.message == "the order must be at most 100, got 101"
    # the count of partials is exact, however many digits it has
    with pytest.raises(ValueProblem) as info:
        derivatives("x*y*z", {"x": 1.0, "y": 2.0, "z": 3.0}, 100)
    assert info.value.message.startswith(f"order 100 with 3 variables has {3**100} partials")


def test_labels():
    assert label(("x",)) == "df/dx"
    assert label(("x", "x")) == "d2f/dx2"
    assert label(("x", "y")) == "d2f/dxdy"
    assert label(("x", "x", "y")) == "d3f/dx2dy"
    assert label(("x1", "x1")) == "d2f/dx1^2"
    assert count_partials(2, 3) == 4


def test_each_level_is_freed_once_the_next_exists():
    x = Variable(np.array(0.5), "x")
    levels = partials(Variable(np.array(0.0)) + x * x * x, [x], 3)
    first = weakref.ref(next(levels)[(0,)])
    assert first() is not None
    second = next(levels)
    gc.collect()
    assert first() is None  # nothing of level 2 refers to the level-1 result itself
    assert float(second[(0, 0)].data) == 3.0
    assert float(next(levels)[(0, 0, 0)].data) == 6.0


def test_work_is_shared_by_symmetry():
    # Order 3 in 3 variables: 1 + 3 + 6 backward passes (one per distinct partial of the
    # level before), not 1 + 3 + 9.
    calls = 0
    original = Variable.backward

    def counting(self, *args, **kwargs):
        nonlocal calls
        calls += 1
        return original(self, *args, **kwargs)

    Variable.backward = counting
    try:
        derivatives("x*y*z + sin(x*y) * exp(z)", {"x": 0.1, "y": 0.2, "z": 0.3}, 3)
    finally:
        Variable.backward = original
    assert calls == 1 + 3 + 6


# Random smooth expressions against nested central differences of the value alone.
def _expressions():
    leaves = st.sampled_from(["x", "y", "0.5", "2"])

    def extend(inner):
        return st.one_of(
            st.builds(lambda f, a: f"{f}({a})", st.sampled_from(["sin", "cos", "tanh"]), inner),
            st.builds(lambda f, a: f"{f}({a})", st.sampled_from(["sigmoid", "square"]), inner),
            st.builds(lambda a: f"exp(sin({a}))", inner),
            st.builds(lambda a, b: f"({a}) / (1 + square({b}))", inner, inner),
            st.builds(lambda a, op, b: f"({a}) {op} ({b})", inner, st.sampled_from("+-*"), inner),
        )

    return st.recursive(leaves, extend, max_leaves=6)


@settings(max_examples=40, deadline=None)
@given(
    expr=_expressions(),
    x=st.floats(-1.5, 1.5, allow_nan=False),
    y=st.floats(-1.5, 1.5, allow_nan=False),
)
def test_second_derivatives_agree_with_nested_central_differences(expr, x, y):
    names = compile_expression(expr).variables
    assume(names)
    point = {"x": x, "y": y}
    result = derivatives(expr, {name: point[name] for name in names}, 2)
    h = 1e-4

    def f(*steps):
        shifted = {name: point[name] + step for name, step in zip(names, steps)}
        return float(evaluate(expr, shifted).value)

    def step(*names_moved):
        return lambda s, t: tuple(
            (s if name == names_moved[0] else 0) + (t if name == names_moved[1] else 0)
            for name in names
        )

    scale = 1 + abs(float(result.value))
    for a in names:
        for b in names:
            at = step(a, b)
            if a == b:
                approx = (f(*at(h, 0)) - 2 * f(*at(0, 0)) + f(*at(-h, 0))) / h**2
            else:
                approx = (f(*at(h, h)) - f(*at(h, -h)) - f(*at(-h, h)) + f(*at(-h, -h))) / (
                    4 * h * h
                )
            exact = float(result.derivatives[1][a, b])
            assert abs(exact - approx) <= 1e-4 * (scale + abs(exact)), (a, b, exact, approx)
            assert exact == float(result.derivatives[1][b, a])


# The command line.


def test_cli_textbook_newton_example(dezero):
    assert dezero("grad", "x^4 - 2*x^2", "--x", "2", "--order", "2") == (
        0,
        "f = 8.0\ndf/dx = 24.0\nd2f/dx2 = 44.0\n",
        "",
    )


def test_cli_text_lists_each_distinct_partial_once(dezero):
    code, out, _ = dezero(
        "grad", "x*y + sin(x)/(1+y^2)", "--x", "0.7", "--y", "-0.3", "--order", "3"
    )
    assert code == 0
    assert out == (
        "f = 0.3810254011354963\n"
        "df/dx = 0.40169008007751233\n"
        "df/dy = 1.025335083193851\n"
        "d2f/dx2 = -0.5910254011354963\n"
        "d2f/dxdy = 1.3862514202261536\n"
        "d2f/dy2 = -0.726283213246212\n"
        "d3f/dx3 = -0.7016900800775123\n"
        "d3f/dx2dy = -0.3253350831938511\n"
        "d3f/dxdy2 = -0.8622738127372849\n"
        "d3f/dy3 = -2.990202094501182\n"
    )


def test_cli_json_has_grad_and_nested_derivatives(dezero):
    code, out, _ = dezero(
        "grad", "x*y + sin(x)/(1+y^2)", "--x", "0.7", "--y", "-0.3", "--order", "2",
        "--format", "json",
    )  # fmt: skip
    assert code == 0
    assert json.loads(out) == {
        "schema": 1,
        "expr": "x*y + sin(x)/(1+y^2)",
        "inputs": {"x": 0.7, "y": -0.3},
        "value": 0.3810254011354963,
        "grad": {"x": 0.40169008007751233, "y": 1.025335083193851},
        "derivatives": [
            {"x": 0.40169008007751233, "y": 1.025335083193851},
            {
                "x": {"x": -0.5910254011354963, "y": 1.3862514202261536},
                "y": {"x": 1.3862514202261536, "y": -0.726283213246212},
            },
        ],
        "warnings": [],
    }


def test_cli_quiet_and_vectors(dezero):
    assert dezero("grad", "x^3", "--x", "1,2", "--order", "3", "-q") == (
        0,
        "1.0 8.0\n3.0 12.0\n6.0 12.0\n6.0 6.0\n",
        "",
    )


def test_cli_nonfinite_higher_derivative_is_null_with_a_warning(dezero):
    code, out, err = dezero("grad", "sqrt(x)", "--x", "0", "--order", "2", "--format", "json")
    assert code == 0
    record = json.loads(out)
    assert record["derivatives"] == [{"x": None}, {"x": {"x": None}}]
    assert record["warnings"] == ["the derivative by x is inf", "the derivative d2f/dx2 is -inf"]
    assert err == "warning: the derivative by x is inf\nwarning: the derivative d2f/dx2 is -inf\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--order", "0"], "Invalid value for '--order'"),
        (["--order", "two"], "Invalid value for '--order'"),
    ],
)
def test_cli_bad_order_is_a_usage_error(args, message, dezero):
    code, _, err = dezero("grad", "x", "--x", "1", *args)
    assert code == 2
    assert err.startswith(f"error: {message}")


def test_cli_reduction_with_vectors_at_order_2_is_exit_2(dezero):
    code, _, err = dezero("grad", "sum(x)", "--x", "1,2", "--order", "2")
    assert code == 2
    assert err == (
        "error: derivatives of order 2 or more with vector values are taken elementwise, "
        "but sum() mixes the elements: give scalar values\n"
    )


def test_terminal_shows_the_hessian_as_a_matrix():
    import io

    from rich.console import Console

    from dezero_cli.render.results import render_rich

    result = derivatives("x*y + x^2", {"x": 1.0, "y": 2.0}, 2)
    buffer = io.StringIO()
    Console(file=buffer, width=80, color_system=None).print(render_rich(result))
    lines = [line.rstrip() for line in buffer.getvalue().splitlines()]
    assert lines[:3] == ["f = 3.0", "df/dx = 4.0", "df/dy = 1.0"]
    assert "d2f/dx2" not in buffer.getvalue()  # shown in the matrix instead
    assert [line.split() for line in lines if line.startswith("│")] == [
        ["│", "x", "│", "2.0", "│", "1.0", "│"],
        ["│", "y", "│", "1.0", "│", "0.0", "│"],
    ]
