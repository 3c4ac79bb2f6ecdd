"""The engine: DeZero's Variable/Function model and the generation-ordered backward loop.

Every expected number is derived by hand (the formula is in the test) or computed
independently with numpy, never by the engine under test.
"""

from __future__ import annotations

import gc
import math
import weakref

import numpy as np
import pytest

from dezero_cli import api
from dezero_cli.engine.core import Config, Function, Variable, no_grad
from dezero_cli.engine.functions import Cos, Exp, Sin, Square


def var(x, name=None) -> Variable:
    return Variable(np.array(x, dtype=np.float64), name)


def test_chain_rule_seed_example():
    # d/dx exp(x^2)^2 = 4x exp(2x^2); at 0.5 the textbook prints 3.297442541400256.
    x = var(0.5)
    y = Square()(Exp()(Square()(x)))
    y.backward()
    assert float(y.data) == np.square(np.exp(np.square(0.5))) == 1.648721270700128
    assert float(x.grad.data) == 3.297442541400256
    assert float(x.grad.data) == pytest.approx(4 * 0.5 * math.exp(2 * 0.25), rel=1e-15)


@pytest.mark.parametrize(
    "expr, x, derivative",
    [
        ("x*x", 3.0, lambda x: 2 * x),
        ("x + sin(x)", 0.7, lambda x: 1 + math.cos(x)),
        # d/dx sin cos^2 = cos^3 - 2 sin^2 cos
        ("sin(x)*cos(x)^2", 0.7, lambda x: math.cos(x) ** 3 - 2 * math.sin(x) ** 2 * math.cos(x)),
        ("x*x*x + x", 2.0, lambda x: 3 * x * x + 1),
        ("exp(x)*exp(x)/exp(x)", 0.3, math.exp),
    ],
)
def test_fan_out_adds_every_use(expr, x, derivative):
    result = api.grad(expr, {"x": x})
    assert float(result.grad["x"]) == pytest.approx(derivative(x), rel=1e-14)


def test_diamond_graph_visits_by_generation():
    # x -> a = square(x) -> b = exp(a), c = sin(a) -> y = b + c.
    # `a` must receive both contributions before Square's backward runs once.
    calls: list[str] = []

    class Logged(Square):
        __slots__ = ()

        def backward(self, gy):
            calls.append("square")
            return super().backward(gy)

    x = var(0.6)
    a = Logged()(x)
    b = Exp()(a)
    c = Sin()(a)
    y = b + c
    assert (x.generation, a.generation, b.generation, c.generation, y.generation) == (0, 1, 2, 2, 3)
    y.backward()
    assert calls == ["square"]
    # dy/dx = (exp(x^2) + cos(x^2)) * 2x
    expected = (math.exp(0.36) + math.cos(0.36)) * 2 * 0.6
    assert float(x.grad.data) == pytest.approx(expected, rel=1e-15)


def test_unbalanced_diamond_waits_for_the_long_branch():
    # One branch of the diamond is three functions longer than the other.
    x = var(0.4)
    a = Square()(x)
    long = Sin()(Sin()(Sin()(a)))
    y = long * a
    y.backward()
    s1 = math.sin(0.16)
    s2 = math.sin(s1)
    dlong_da = math.cos(s2) * math.cos(s1) * math.cos(0.16)
    expected = (dlong_da * 0.16 + math.sin(s2)) * 2 * 0.4
    assert float(x.grad.data) == pytest.approx(expected, rel=1e-14)


def test_leaf_backward_gives_one():
    x = var(2.5)
    x.backward()
    assert float(x.grad.data) == 1.0
    result = api.grad("x", {"x": 2.5})
    assert float(result.value) == 2.5 and float(result.grad["x"]) == 1.0


def test_constant_has_value_and_empty_gradient():
    result = api.grad("3", {})
    assert float(result.value) == 3.0
    assert result.grad == {}
    assert result.value.dtype == np.float64


def test_integers_become_float64():
    result = api.grad("x*y", {"x": 2, "y": np.array([1, 2])})
    assert result.value.dtype == np.float64
    assert result.inputs["x"].dtype == np.float64
    assert result.grad["x"].dtype == np.float64


def test_broadcast_gradients_sum_back_to_each_shape():
    x = np.array([1.0, 2.0, 3.0])
    result = api.grad("sum(x*y + y)", {"x": x, "y": 2.0})
    assert float(result.value) == float(np.sum(x * 2 + 2))
    np.testing.assert_array_equal(result.grad["x"], [2.0, 2.0, 2.0])
    assert result.grad["y"].shape == ()
    assert float(result.grad["y"]) == 1 + 2 + 3 + 3  # sum of (x + 1)
    # Without a reduction each element is its own point: y's derivative at each of them.
    pointwise = api.grad("x*y + y", {"x": x, "y": 2.0})
    np.testing.assert_array_equal(pointwise.grad["y"], x + 1)


def test_broadcast_rows_against_columns():
    x = var([[1.0], [2.0]])  # (2, 1)
    y = var([10.0, 20.0, 30.0])  # (3,)
    z = x * y  # (2, 3)
    z.backward()
    assert x.grad.shape == (2, 1) and y.grad.shape == (3,)
    np.testing.assert_array_equal(x.grad.data, [[60.0], [60.0]])
    np.testing.assert_array_equal(y.grad.data, [3.0, 3.0, 3.0])


def test_scalar_output_of_vector_input_is_seeded_elementwise():
    result = api.grad("sin(x)", {"x": np.array([0.0, 1.0, 2.0])})
    np.testing.assert_array_equal(result.grad["x"], np.cos([0.0, 1.0, 2.0]))


def test_no_accumulation_across_calls():
    program = api.as_program("x*y + square(x)")
    first = api.grad(program, {"x": 1.5, "y": -2.0})
    second = api.grad(program, {"x": 1.5, "y": -2.0})
    third = api.grad("x*y + square(x)", {"x": 1.5, "y": -2.0})
    for result in (first, second, third):
        assert float(result.grad["x"]) == -2.0 + 3.0
        assert float(result.grad["y"]) == 1.5


def test_no_grad_records_nothing():
    x = var(1.0)
    with no_grad():
        y = Exp()(Sin()(x))
    assert y.creator is None
    assert Config.enable_backprop is True
    y2 = Exp()(x)
    assert isinstance(y2.creator, Exp)
    assert list(y2.creator.inputs) == [x]


def test_no_grad_is_restored_after_an_exception():
    with pytest.raises(ZeroDivisionError), no_grad():
        1 / 0  # noqa: B018
    assert Config.enable_backprop is True


def test_constant_inputs_record_nothing():
    y = Sin()(Variable(np.array(1.0), requires_grad=False))
    assert y.creator is None


def test_eval_builds_no_graph(monkeypatch):
    seen = []
    original = Function.__call__

    def spy(self, *inputs):
        y = original(self, *inputs)
        seen.append(y.creator)
        return y

    monkeypatch.setattr(Function, "__call__", spy)
    api.evaluate("sin(x) * x + 1", {"x": 0.5})
    # (An engine may skip Function.__call__ under no_grad; whatever it calls must record nothing.)
    assert all(creator is None for creator in seen)


def test_intermediate_grads_are_freed_unless_retained():
    x = var(0.5)
    a = Square()(x)
    y = Exp()(a)
    y.backward()
    assert a.grad is None and y.grad is None
    assert x.grad is not None

    x = var(0.5)
    a = Square()(x)
    y = Exp()(a)
    y.backward(retain_grad=True)
    assert float(a.grad.data) == math.exp(0.25)
    assert float(y.grad.data) == 1.0


def test_outputs_are_weak_references():
    x = var(0.5)
    y = Sin()(x)
    f = y.creator
    assert isinstance(f.outputs[0], weakref.ref)
    assert f.outputs[0]() is y
    del y
    gc.collect()
    assert f.outputs[0]() is None


def test_graph_is_collected_without_cycles():
    x = var(0.5)
    a = Sin()(x)
    y = Exp()(a)
    probe = weakref.ref(a)
    del a
    gc.disable()
    try:
        del y  # reference counting alone must free it: outputs are weak
        assert probe() is None
    finally:
        gc.enable()


def test_create_graph_gives_a_differentiable_gradient():
    # y = x^3: y' = 3x^2 = 12 at 2, y'' = 6x = 12 at 2, y''' = 6.
    x = var(2.0)
    y = x**3
    y.backward(create_graph=True)
    gx = x.grad
    assert float(gx.data) == 12.0
    x.cleargrad()
    gx.backward(create_graph=True)
    gx2 = x.grad
    assert float(gx2.data) == 12.0
    x.cleargrad()
    gx2.backward()
    assert float(x.grad.data) == 6.0


@pytest.mark.parametrize(
    "build, second",
    [
        (lambda x: Sin()(x), lambda x: -math.sin(x)),
        (lambda x: Cos()(x), lambda x: -math.cos(x)),
        (lambda x: Exp()(Square()(x)), lambda x: (2 + 4 * x * x) * math.exp(x * x)),
        (lambda x: 1 / x, lambda x: 2 / x**3),
        (lambda x: 2**x, lambda x: math.log(2) ** 2 * 2**x),
    ],
)
def test_second_derivatives(build, second):
    x = var(0.7)
    build(x).backward(create_graph=True)
    gx = x.grad
    x.cleargrad()
    gx.backward()
    assert float(x.grad.data) == pytest.approx(second(0.7), rel=1e-13)


def test_without_create_graph_the_gradient_has_no_creator():
    x = var(2.0)
    y = x**3
    y.backward()
    assert x.grad.creator is None


def test_deep_chain_backward_has_no_recursion():
    depth = 100_000
    x = var(0.5)
    y = x
    for _ in range(depth):
        y = Sin()(y)
    assert y.generation == depth
    y.backward()
    # Independent: the same chain rule as a plain loop over floats.
    value, derivative = 0.5, 1.0
    for _ in range(depth):
        derivative *= math.cos(value)
        value = math.sin(value)
    assert float(y.data) == value
    assert float(x.grad.data) == pytest.approx(derivative, rel=1e-9)
    del y  # freeing a 100,000-long graph must not overflow the C stack either


def test_variable_operators_accept_numbers_and_arrays():
    x = var(3.0)
    for y, expected in [
        (x + 1, 4.0),
        (1 + x, 4.0),
        (x - 1, 2.0),
        (1 - x, -2.0),
        (x * 2, 6.0),
        (2 * x, 6.0),
        (x / 2, 1.5),
        (6 / x, 2.0),
        (-x, -3.0),
        (x**2, 9.0),
        (2**x, 8.0),
        (np.array(1.0) + x, 4.0),
    ]:
        assert isinstance(y, Variable)
        assert float(y.data) == expected
