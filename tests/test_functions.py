"""Every registered function, generated from the registry `FUNCTIONS`.

A function added to the registry is picked up by the derivative checks below with no test
edit; the forward check asks for one line in `NUMPY` (as autograd's tests do per function),
and `test_every_function_has_a_reference` fails, naming it, until that line exists.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from dezero_cli import api
from dezero_cli.engine.core import Variable
from dezero_cli.engine.functions import FUNCTIONS

# Independent forward references. `exact` means numpy evaluates the very same formula, so the
# result must agree to the last bit; otherwise agreement within a few ulp is required.
NUMPY = {
    "square": (np.square, True),
    "exp": (np.exp, True),
    "log": (np.log, True),
    "ln": (np.log, True),
    "sqrt": (np.sqrt, True),
    "sin": (np.sin, True),
    "cos": (np.cos, True),
    "tan": (np.tan, True),
    "tanh": (np.tanh, True),
    "sinh": (np.sinh, True),
    "cosh": (np.cosh, True),
    "sigmoid": (lambda x: 1.0 / (1.0 + np.exp(-x)), False),
    "abs": (np.abs, True),
    "sign": (lambda x: np.sign(x) + 0.0, True),
    "sech": (lambda x: 1.0 / np.cosh(x), False),
    "pow": (np.power, True),
    # Reductions (issue 3): over the whole of a vector when no batch axes are set.
    "sum": (np.sum, True),
    "mean": (np.mean, True),
    "dot": (lambda a, b: np.dot(a, b), False),
}

# Points strictly inside each domain, away from kinks and poles. A function not listed gets
# DEFAULT_POINTS, which lie inside the domain of every usual elementary function.
DEFAULT_POINTS = (0.3, 0.8, 1.3)
WHOLE_LINE = (-2.5, -0.7, 0.2, 1.1, 2.9)
POINTS = {
    "square": WHOLE_LINE,
    "exp": WHOLE_LINE,
    "log": (0.05, 0.5, 1.0, 3.0, 40.0),
    "ln": (0.05, 0.5, 1.0, 3.0, 40.0),
    "sqrt": (0.05, 0.5, 1.0, 3.0, 40.0),
    "sin": WHOLE_LINE,
    "cos": WHOLE_LINE,
    "tan": (-1.3, -0.4, 0.0, 0.6, 1.4),
    "tanh": WHOLE_LINE,
    "sinh": WHOLE_LINE,
    "cosh": WHOLE_LINE,
    "sigmoid": (-6.0, -0.7, 0.0, 1.1, 6.0),
    "abs": (-2.5, -0.7, 0.2, 1.1),
    "sign": (-2.5, -0.7, 0.2, 1.1),
    "sech": WHOLE_LINE,
    "pow": ((0.5, 2.0), (1.7, -1.3), (3.0, 0.5), (0.2, 3.0), (2.0, 0.0)),
}

UNARY = sorted(name for name, cls in FUNCTIONS.items() if cls.arity == 1)
BINARY = sorted(name for name, cls in FUNCTIONS.items() if cls.arity == 2)


def points(name: str) -> list[tuple[float, ...]]:
    pts = POINTS.get(name, DEFAULT_POINTS)
    return [p if isinstance(p, tuple) else (p,) * FUNCTIONS[name].arity for p in pts]


def cases() -> list:
    return [
        pytest.param(name, p, id=f"{name}{p}") for name in sorted(FUNCTIONS) for p in points(name)
    ]


def forward(name: str, *xs: float) -> float:
    """The value of the registered function, from plain floats, without a graph."""
    y = FUNCTIONS[name]()(*[np.float64(x) for x in xs])
    return float(y.data)


def gradients(name: str, *xs: float) -> list[float]:
    inputs = [Variable(np.array(x)) for x in xs]
    FUNCTIONS[name]()(*inputs).backward()
    return [float(x.grad.data) for x in inputs]


def central_difference(f, xs: tuple[float, ...], i: int) -> float:
    # h = cbrt(eps) * scale balances truncation error O(h^2 f''') against rounding error
    # O(eps f / h); both are then about eps^(2/3) ~ 4e-11 relative, so agreement to 1e-7
    # relative (plus a small absolute floor for derivatives near 0) leaves a margin of 1000.
    h = np.cbrt(np.finfo(float).eps) * max(1.0, abs(xs[i]))
    up, down = list(xs), list(xs)
    up[i] += h
    down[i] -= h
    return (f(*up) - f(*down)) / (up[i] - down[i])


def test_every_function_has_a_reference():
    missing = sorted(set(FUNCTIONS) - set(NUMPY))
    assert not missing, f"add a numpy reference to NUMPY in tests/test_functions.py for {missing}"


def test_registry_names_and_arity():
    assert {"square", "exp", "log", "ln", "sqrt", "sin", "cos", "tan", "tanh", "sinh", "cosh"} <= (
        set(FUNCTIONS)
    )
    assert {"sigmoid", "abs", "pow"} <= set(FUNCTIONS)
    assert FUNCTIONS["ln"] is FUNCTIONS["log"]
    assert FUNCTIONS["pow"].arity == 2
    for name, cls in FUNCTIONS.items():
        assert name.isidentifier() and name not in ("pi", "e"), name
        assert cls.arity >= 1


def test_seed_class_names():
    assert FUNCTIONS["square"].__name__ == "Square"
    assert FUNCTIONS["exp"].__name__ == "Exp"


def test_seed_example_exactly():
    result = api.grad("square(exp(square(x)))", {"x": 0.5})
    assert float(result.value) == 1.648721270700128
    assert float(result.grad["x"]) == 3.297442541400256


@pytest.mark.parametrize("name, xs", cases())
def test_forward_matches_numpy(name, xs):
    if name not in NUMPY:
        pytest.skip("no reference yet (test_every_function_has_a_reference fails)")
    reference, exact = NUMPY[name]
    expected = float(reference(*[np.float64(x) for x in xs]))
    if exact:
        assert forward(name, *xs) == expected
    else:
        assert forward(name, *xs) == pytest.approx(expected, rel=4 * np.finfo(float).eps)


def elementwise(name: str) -> bool:
    return getattr(FUNCTIONS[name], "elementwise", True)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_forward_on_vectors(name):
    xs = [np.array(p, dtype=np.float64) for p in zip(*points(name))]
    y = FUNCTIONS[name]()(*[Variable(x) for x in xs])
    data = np.asarray(y.data)
    assert data.dtype == np.float64
    if elementwise(name):  # each element exactly as when computed alone
        assert data.shape == xs[0].shape
        np.testing.assert_array_equal(data, [forward(name, *p) for p in points(name)])
    if name in NUMPY:
        reference, exact = NUMPY[name]
        if exact:
            np.testing.assert_array_equal(data, reference(*xs))
        else:
            np.testing.assert_allclose(data, reference(*xs), rtol=8 * np.finfo(float).eps)


@pytest.mark.parametrize("name, xs", cases())
def test_backward_matches_central_differences(name, xs):
    reference = NUMPY.get(name, (None,))[0]
    f = (
        (lambda *a: float(reference(*map(np.float64, a))))
        if reference
        else (lambda *a: forward(name, *a))
    )
    got = gradients(name, *xs)
    for i, g in enumerate(got):
        assert g == pytest.approx(central_difference(f, xs, i), rel=1e-7, abs=1e-9), i


@pytest.mark.parametrize("name, xs", cases())
def test_backward_rule_is_differentiable_again(name, xs):
    # The second derivative by double backprop (create_graph) against central differences
    # of the first derivative: fails if a rule computes on raw arrays where it should use
    # Variable operations. Same step and tolerance reasoning as above, one order higher.
    if name in ("abs",) or any(x == 0.0 for x in xs[1:]):
        xs = tuple(x if x != 0.0 else 0.5 for x in xs)
    for i in range(len(xs)):
        inputs = [Variable(np.array(x)) for x in xs]
        FUNCTIONS[name]()(*inputs).backward(create_graph=True)
        gx = inputs[i].grad
        for x in inputs:
            x.cleargrad()
        gx.backward()
        second = [0.0 if x.grad is None else float(x.grad.data) for x in inputs]
        for j in range(len(xs)):
            expected = central_difference(lambda *a, i=i: gradients(name, *a)[i], xs, j)
            assert second[j] == pytest.approx(expected, rel=1e-6, abs=1e-8), (i, j)


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


# Derivatives worked out by hand, written differently from the rules in functions.py.
HAND_DERIVED = [
    ("square(x)", 1.5, 3.0),
    ("exp(x)", 0.5, math.exp(0.5)),
    ("log(x)", 4.0, 0.25),
    ("ln(x)", 0.5, 2.0),
    ("sqrt(x)", 4.0, 0.25),
    ("sin(x)", 0.3, math.cos(0.3)),
    ("cos(x)", 0.3, -math.sin(0.3)),
    ("tan(x)", 0.3, 1.0 / math.cos(0.3) ** 2),
    ("tanh(x)", 0.3, 1.0 / math.cosh(0.3) ** 2),
    ("sinh(x)", 0.3, math.cosh(0.3)),
    ("cosh(x)", 0.3, math.sinh(0.3)),
    ("sigmoid(x)", 0.3, math.exp(-0.3) / (1 + math.exp(-0.3)) ** 2),
    ("sigmoid(x)", 0.0, 0.25),
    ("abs(x)", -2.0, -1.0),
    ("abs(x)", 3.0, 1.0),
    ("abs(x)", 0.0, 0.0),  # documented: sign(0) = 0
    ("pow(x, 3)", 2.0, 12.0),
    ("pow(2, x)", 3.0, 8.0 * math.log(2.0)),
    ("x^2.5", 4.0, 2.5 * 8.0),
    ("x^x", 2.0, 4.0 * (math.log(2.0) + 1.0)),  # d/dx e^(x ln x) = x^x (ln x + 1)
    ("1/x", 4.0, -1.0 / 16.0),
    ("-x", 7.0, -1.0),
    ("+x", 7.0, 1.0),
    ("3 - x", 7.0, -1.0),
    ("x - 3", 7.0, 1.0),
    ("e^x", 1.0, math.e),
    ("sin(pi*x)", 0.25, math.pi * math.cos(math.pi / 4)),
    ("sigmoid(x)*(1-sigmoid(x))", 0.5, sigmoid(0.5) * (1 - sigmoid(0.5)) * (1 - 2 * sigmoid(0.5))),
]


@pytest.mark.parametrize("expr, x, expected", HAND_DERIVED)
def test_hand_derived_derivatives(expr, x, expected):
    result = api.grad(expr, {"x": x})
    assert float(result.grad["x"]) == pytest.approx(expected, rel=1e-14, abs=1e-300)


def test_abs_at_zero_is_zero_in_vectors_too():
    result = api.grad("abs(x)", {"x": np.array([-1.0, 0.0, 2.0])})
    np.testing.assert_array_equal(result.grad["x"], [-1.0, 0.0, 1.0])


def test_sigmoid_is_finite_at_the_extremes():
    result = api.grad("sigmoid(x)", {"x": np.array([-800.0, 800.0])})
    np.testing.assert_array_equal(result.value, [0.0, 1.0])
    np.testing.assert_array_equal(result.grad["x"], [0.0, 0.0])
    assert result.warnings == []


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_function_is_callable_from_an_expression(name):
    cls = FUNCTIONS[name]
    p = points(name)[0]
    names = [f"x{i}" for i in range(cls.arity)]
    result = api.grad(f"{name}({', '.join(names)})", dict(zip(names, p)))
    assert float(result.value) == forward(name, *p)
    assert [float(result.grad[n]) for n in names] == gradients(name, *p)


OPERATORS = ["x + y", "x - y", "x * y", "x / y", "x ^ y", "-x"]


@pytest.mark.parametrize(
    "expr",
    OPERATORS
    + [
        f"{name}({', '.join('xy'[: FUNCTIONS[name].arity])})"
        for name in sorted(FUNCTIONS)
        if elementwise(name)
    ],
)
def test_scalar_and_vector_evaluation_agree_bit_for_bit(expr):
    # Batch mode evaluates many points as one vector; one point alone must give the very same
    # bits (numpy's scalar and array code paths differ for some operations, e.g. `**`).
    # Inputs go through `* 1` first, so that the function sees what an inner operation hands
    # it (a numpy scalar when alone), not only the 0-d arrays the API makes of the values.
    expr = re.sub(r"\b([xy])\b", r"(\1*1)", expr)
    rng = np.random.default_rng(7)
    xs, ys = rng.uniform(0.05, 30.0, 200), rng.uniform(-4.0, 4.0, 200)
    together = api.grad(expr, {"x": xs, "y": ys} if "y" in expr else {"x": xs})
    for i in range(0, 200, 7):
        one = api.grad(expr, {"x": xs[i], "y": ys[i]} if "y" in expr else {"x": xs[i]})
        assert float(one.value) == together.value[i], (i, xs[i], ys[i])
        for name, g in one.grad.items():
            assert float(g) == together.grad[name][i], (name, i)
