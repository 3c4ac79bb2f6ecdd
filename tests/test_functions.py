"""Every registered function, generated from the registry `FUNCTIONS`.

A function added to the registry is picked up by every check below with no test edit; the
checks compare with its row in tests/references.py (as autograd's tests do per function), and
`test_every_function_has_a_reference` fails, naming it, until that row exists.
"""

from __future__ import annotations

import math
import re

import mpmath as mp
import numpy as np
import pytest
import scipy.special as special
import sympy as sp
from references import REFERENCES, ROWS, missing, reference

from dezero_cli import api
from dezero_cli.engine.core import Variable
from dezero_cli.engine.functions import FUNCTIONS


def points(name: str) -> list[tuple[float, ...]]:
    return list(reference(name).points)


def cases() -> list:
    """(name, point) for every registered name; a name without a row gets one case with no
    point, which fails naming it."""
    return [
        pytest.param(name, p, id=f"{name}{p}" if p else f"{name}-no-reference")
        for name in sorted(FUNCTIONS)
        for p in (REFERENCES[name].points if name in REFERENCES else [None])
    ]


def static(name: str) -> int:
    """How many leading arguments of `name` are numbers in the text, given to its constructor
    (polygamma's n), not arguments of the call: nothing is differentiated by them."""
    return getattr(FUNCTIONS[name], "static_args", 0)


def function(name: str, xs):
    """The registered function made for the point `xs`, and the arguments of its call."""
    k = static(name)
    return FUNCTIONS[name](*xs[:k]), xs[k:]


def forward(name: str, *xs: float) -> float:
    """The value of the registered function, from plain floats, without a graph."""
    f, args = function(name, xs)
    y = f(*[np.float64(x) for x in args])
    return float(y.data)


def gradients(name: str, *xs: float) -> list[float]:
    """The derivatives by each argument of the call (static ones excluded)."""
    f, args = function(name, xs)
    inputs = [Variable(np.array(x)) for x in args]
    f(*inputs).backward()
    # No gradient at all is the engine's exact zero (where's condition, say).
    return [0.0 if x.grad is None else float(x.grad.data) for x in inputs]


def arity_range(name: str) -> tuple[int, int | None]:
    """The least and the most arguments a call of `name` takes (None: no upper bound)."""
    arity = FUNCTIONS[name].arity
    return arity if isinstance(arity, tuple) else (arity, arity)


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
    assert missing(FUNCTIONS) == [], "add a row to tests/references.py for each of these"


def test_each_row_is_one_registered_function_with_its_aliases():
    for row in ROWS:
        cls = FUNCTIONS.get(row.name)
        assert cls is not None, f"tests/references.py has a row for {row.name!r}, not registered"
        assert row.names == (cls.name, *getattr(cls, "aliases", ())), row.names
    assert len(REFERENCES) == sum(len(row.names) for row in ROWS)  # no name in two rows


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_each_row_s_points_fit_the_function(row):
    least, most = arity_range(row.name)
    assert row.points and all(least <= len(p) <= (most or len(p)) for p in row.points), row.points
    if most is None:  # a variadic function at its least and at more arguments
        assert {least, least + 1} <= {len(p) for p in row.points}
    k = static(row.name)
    assert all(x == int(x) >= 0 for p in row.points for x in p[:k])  # what the compiler takes
    assert row.bitwise is not None, "a row that is not exact needs same_bits"
    with mp.workdps(30):
        for p in row.points:
            assert row.domain(*map(mp.mpf, p)), p  # inside the domain, away from its edges
            assert math.isfinite(float(row.mpmath(*map(mp.mpf, p))))
            symbols = sp.symbols(f"a0:{len(p)}", real=True)
            given = [sp.Integer(int(x)) for x in p[:k]] + [sp.Float(x) for x in p[k:]]
            value = row.sympy(*symbols).subs(dict(zip(symbols, given)))
            assert float(value) == pytest.approx(float(row.numpy(*map(np.float64, p))), rel=1e-12)
            if row.near is not None:  # the piece the point is on has the same value there
                near = row.near([mp.mpf(x) for x in p], *symbols).subs(dict(zip(symbols, given)))
                assert float(near) == pytest.approx(float(value), rel=1e-12)


def test_registry_names_and_arity():
    assert {"square", "exp", "log", "ln", "sqrt", "sin", "cos", "tan", "tanh", "sinh", "cosh"} <= (
        set(FUNCTIONS)
    )
    assert {"sigmoid", "abs", "pow"} <= set(FUNCTIONS)
    assert FUNCTIONS["ln"] is FUNCTIONS["log"]
    assert FUNCTIONS["pow"].arity == 2
    for name in FUNCTIONS:
        assert name.isidentifier() and name not in ("pi", "e"), name
        least, most = arity_range(name)
        assert 1 <= least <= (most or least)
    assert arity_range("max") == arity_range("min") == (2, None)


def test_seed_class_names():
    assert FUNCTIONS["square"].__name__ == "Square"
    assert FUNCTIONS["exp"].__name__ == "Exp"


def test_seed_example_exactly():
    result = api.grad("square(exp(square(x)))", {"x": 0.5})
    assert float(result.value) == 1.648721270700128
    assert float(result.grad["x"]) == 3.297442541400256


@pytest.mark.parametrize("name, xs", cases())
def test_forward_matches_numpy(name, xs):
    row = reference(name)
    expected = float(row.numpy(*[np.float64(x) for x in xs]))
    if row.exact:
        assert forward(name, *xs) == expected
    else:
        assert forward(name, *xs) == pytest.approx(expected, rel=4 * np.finfo(float).eps)


def elementwise(name: str) -> bool:
    return getattr(FUNCTIONS[name], "elementwise", True)


def vector_groups(name: str) -> list[list[tuple[float, ...]]]:
    """The row's points in groups that can be one vector call: the same number of arguments,
    and the same static ones."""
    groups: dict = {}
    for p in points(name):
        groups.setdefault((len(p), p[: static(name)]), []).append(p)
    return list(groups.values())


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_forward_on_vectors(name):
    for group in vector_groups(name):
        k = static(name)
        xs = [np.array(p, dtype=np.float64) for p in zip(*group)]
        f, args = function(name, [x[0] for x in xs[:k]] + xs[k:])
        y = f(*[Variable(x) for x in args])
        data = np.asarray(y.data)
        assert data.dtype == np.float64
        if elementwise(name):  # each element exactly as when computed alone
            assert data.shape == xs[-1].shape
            np.testing.assert_array_equal(data, [forward(name, *p) for p in group])
        row = reference(name)
        if row.exact:
            np.testing.assert_array_equal(data, row.numpy(*xs))
        else:
            np.testing.assert_allclose(data, row.numpy(*xs), rtol=8 * np.finfo(float).eps)


@pytest.mark.parametrize("name, xs", cases())
def test_backward_matches_central_differences(name, xs):
    numpy = reference(name).numpy

    def f(*a):
        return float(numpy(*map(np.float64, a)))

    got = gradients(name, *xs)
    k = static(name)
    for i, g in enumerate(got, start=k):
        assert g == pytest.approx(central_difference(f, xs, i), rel=1e-7, abs=1e-9), i


@pytest.mark.parametrize("name, xs", cases())
def test_backward_rule_is_differentiable_again(name, xs):
    # The second derivative by double backprop (create_graph) against central differences
    # of the first derivative: fails if a rule computes on raw arrays where it should use
    # Variable operations. Same step and tolerance reasoning as above, one order higher.
    reference(name)  # (fails, naming the function, when it has no row and so no point)
    if name == "pow" and xs[1] == 0.0:  # an exponent of 0: checked at 0.5 instead
        xs = (xs[0], 0.5)
    k = static(name)
    f, args = function(name, xs)
    for i in range(len(args)):
        inputs = [Variable(np.array(x)) for x in args]
        f(*inputs).backward(create_graph=True)
        gx = inputs[i].grad
        for x in inputs:
            x.cleargrad()
        if gx is not None:  # (None: the first derivative is identically 0, so are these)
            gx.backward()
        second = [0.0 if x.grad is None else float(x.grad.data) for x in inputs]
        for j in range(len(args)):
            expected = central_difference(lambda *a, i=i: gradients(name, *a)[i], xs, k + j)
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


def call_text(name: str, p: tuple[float, ...], arguments: list[str]) -> str:
    """`name(...)` with the static arguments of the point `p` as numbers, then `arguments`."""
    numbers = [repr(int(x)) for x in p[: static(name)]]
    return f"{name}({', '.join(numbers + arguments)})"


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_function_is_callable_from_an_expression(name):
    k = static(name)
    for p in {len(p): p for p in reversed(points(name))}.values():  # the first of each length
        names = [f"x{i}" for i in range(len(p) - k)]
        result = api.grad(call_text(name, p, names), dict(zip(names, p[k:])))
        assert float(result.value) == forward(name, *p)
        assert [float(result.grad[n]) for n in names] == gradients(name, *p)


OPERATORS = ["x + y", "x - y", "x * y", "x / y", "x ^ y", "-x"]


def least_arity(name: str) -> int:
    """How many arguments a call of `name` takes at least (`arity` is a count or a range)."""
    return arity_range(name)[0]


@pytest.mark.parametrize(
    "expr",
    OPERATORS
    + [
        call_text(name, points(name)[-1], ["x", "y", "x - 15"][: least_arity(name) - static(name)])
        for name in sorted(FUNCTIONS)
        if elementwise(name)
    ]
    + ["max(x, y, x - 15)", "min(y, x - 15, x)"],
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
        # (nan equals nan here: acosh(x) at x < 1, say)
        np.testing.assert_array_equal(one.value, together.value[i], err_msg=str((i, xs[i], ys[i])))
        for name, g in one.grad.items():
            np.testing.assert_array_equal(g, together.grad[name][i], err_msg=str((name, i)))


SYNTAX = "error: {message}\n  {line}\n  {caret}\n"


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("atan2(x)", "atan2() takes 2 arguments, got 1", 0),
        ("1 + max(x)", "max() takes at least 2 arguments, got 1", 4),  # no reduction: an error
        ("min()", "min() takes at least 2 arguments, got 0", 0),
        ("clip(x, 1)", "clip() takes 3 arguments, got 2", 0),
        ("hypot(x, x, x)", "hypot() takes 2 arguments, got 3", 0),
        ("polygamma(x)", "polygamma() takes 2 arguments, got 1", 0),
        ("polygamma(1.5, x)", "argument 1 of polygamma() must be a non-negative integer", 10),
        ("polygamma(-1, x)", "argument 1 of polygamma() must be a non-negative integer", 10),
        ("polygamma(y, x)", "argument 1 of polygamma() must be a number", 10),
        ("polygamma(1 + 1, x)", "argument 1 of polygamma() must be a number", 10),
    ],
)
def test_argument_errors_point_at_the_call(text, message, column, dezero):
    result = dezero("grad", text, "--x", "1", "--y", "2")
    assert (result.code, result.stdout) == (2, "")
    assert result.stderr == SYNTAX.format(message=message, line=text, caret=" " * column + "^")


@pytest.mark.parametrize("n", [1, 2, 3, 5])
@pytest.mark.parametrize("x", [-100.5, -150.3, -1000.3, -12345.75])
def test_polygamma_below_zero_matches_mpmath(n, x):
    # Below -100 it is the reflection formula: scipy's zeta(n + 1, x) adds |x| terms.
    with mp.workdps(40):
        want = float(mp.polygamma(n, x))
    assert float(api.evaluate(f"polygamma({n}, x)", {"x": x}).value) == pytest.approx(
        want, rel=2e-14
    )


@pytest.mark.parametrize("x", [-500000000.5, -(2.0**51) - 0.5])
def test_polygamma_of_a_huge_negative_argument(x):
    # scipy alone takes seconds at -5e8 (uninterruptible C) and years at -2^51. At a
    # half-integer cot(pi x) = 0: psi_1(x) = pi^2 - psi_1(1 - x), psi_2(x) = psi_2(1 - x).
    result = api.grad("polygamma(1, x)", {"x": x})
    with mp.workdps(40):
        value = float(mp.pi**2 - mp.polygamma(1, 1 - mp.mpf(x)))
        slope = float(mp.polygamma(2, 1 - mp.mpf(x)))
    assert float(result.value) == pytest.approx(value, rel=1e-15)
    assert float(result.grad["x"]) == pytest.approx(slope, rel=1e-12)


def test_polygamma_takes_its_order_as_a_number_written_any_way():
    for text in ("polygamma(2, x)", "polygamma(2.0, x)", "polygamma(+2, x)", "polygamma((2), x)"):
        assert float(api.evaluate(text, {"x": 1.5}).value) == float(special.polygamma(2, 1.5))
    assert float(api.evaluate("polygamma(-0, x)", {"x": 1.5}).value) == special.digamma(1.5)


def test_special_functions_import_scipy_only_when_used(dezero_process):
    # Start-up is unchanged for expressions without them; the first one imports scipy.
    for argv in (["grad", "sin(x)", "--x", "1"], ["eval", "max(x, 1) + floor(x)", "--x", "2"]):
        proc, imported = dezero_process.imports(*argv)
        assert proc.code == 0 and proc.stderr == ""
        assert "numpy" in imported and "scipy" not in imported  # (numpy: so this can fail)
    proc, imported = dezero_process.imports("grad", "erf(x)", "--x", "1")
    assert proc.code == 0 and "scipy" in imported
