"""Guards for what the speed work added: each fast path of the engine (Function.__call__, the
all-ones seed, the backward loop) must agree with the plain one, and a command imports only
what its own path uses."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dezero_cli.engine.core import ONE, Function, Variable, no_grad
from dezero_cli.engine.functions import Cos, Sin, Tanh
from dezero_cli.engine.operators import Mul

# --- Function.__call__'s fast paths against the general path -----------------------------------


class Add3(Function):
    """Three inputs: the general path, for comparison."""

    __slots__ = ()
    arity = 3

    def forward(self, a, b, c):
        return a + b + c

    def backward(self, gy):
        return gy, gy, gy


def test_unary_binary_and_general_paths_record_the_same_way():
    x = Variable(np.array(0.5), "x")
    c = Variable(np.array(2.0), requires_grad=False)
    for f, args in [(Sin(), (x,)), (Mul(), (x, c)), (Add3(), (x, c, c))]:
        y = f(*args)
        assert f.inputs == args and type(f.inputs) is tuple
        assert [r() for r in f.outputs] == [y]
        assert f.generation == 0 and y.generation == 1 and y.creator is f and y.requires_grad
    y = Add3()(Sin()(x), x, 1.0)
    assert y.generation == 2
    y.backward()
    assert x.grad.data == math.cos(0.5) + 1.0


def test_nothing_is_recorded_without_grad():
    x = Variable(np.array(0.5), "x")
    c = Variable(np.array(2.0), requires_grad=False)
    with no_grad():
        outputs = [Sin()(x), Mul()(x, x), Add3()(x, x, x)]
    outputs += [Sin()(c), Mul()(c, 3.0), Add3()(c, 1.0, 2.0)]
    for y in outputs:
        assert y.creator is None and not y.requires_grad


def test_numbers_become_constants_on_every_path():
    for f, args in [(Sin(), (0.5,)), (Mul(), (0.5, 2)), (Add3(), (1, 2, 3))]:
        y = f(*args)
        assert y.data.dtype == np.float64 and not y.requires_grad


# --- the all-ones seed --------------------------------------------------------------------------


def test_multiplying_by_the_seed_returns_the_other_factor_unchanged():
    a = np.array([1.5, -0.0, np.nan, np.inf])
    seed = np.broadcast_to(ONE, a.shape)
    assert Mul()(seed, a).data is a
    assert Mul()(a, seed).data is a
    # A seed that broadcasts the other factor must not be skipped.
    wide = Mul()(np.broadcast_to(ONE, (2, 4)), a).data
    assert wide.shape == (2, 4) and np.array_equal(wide, np.broadcast_to(a, (2, 4)), True)
    # Ones that are not the seed are multiplied as usual.
    assert Mul()(np.ones(4), a).data is not a


def test_the_seed_is_read_only_ones():
    x = Variable(np.array([1.0, 2.0]), "x")
    y = Sin()(x)
    y.backward(retain_grad=True)
    assert not y.grad.data.flags.writeable  # the shared ONE can never be changed
    assert np.array_equal(y.grad.data, [1.0, 1.0])
    assert np.array_equal(x.grad.data, np.cos([1.0, 2.0]))


def test_a_leaf_seeds_itself_with_a_writable_ones_array():
    x = Variable(np.array([1.0, 2.0]), "x")
    x.backward()
    assert x.grad.data.flags.writeable and np.array_equal(x.grad.data, [1.0, 1.0])


def test_second_derivative_through_the_seed():
    # Newton's-method example of the textbook: f = x^4 - 2x^2, f'(2) = 24, f''(2) = 44.
    x = Variable(np.array(2.0), "x")
    y = x**4 - 2 * x**2
    y.backward(create_graph=True)
    gx = x.grad
    assert gx.data == 24.0
    x.cleargrad()
    gx.backward()
    assert x.grad.data == 44.0


def test_third_derivative_of_tanh():
    x = Variable(np.array(0.3), "x")
    y = Tanh()(x)
    for _ in range(3):
        x.cleargrad()
        y.backward(create_graph=True)
        y = x.grad
    t = math.tanh(0.3)
    assert y.data == pytest.approx(-2 * (1 - t * t) * (1 - 3 * t * t), rel=1e-12)


# --- the backward loop ---------------------------------------------------------------------------


def test_shared_subexpressions_add_up():
    # y_{k+1} = y_k + sin(y_k) * y_k: every level uses y_k three times.
    x = Variable(np.array(0.3), "x")
    y, value, slope = x, 0.3, 1.0
    for _ in range(12):
        y = y + Sin()(y) * y
        slope *= 1 + math.cos(value) * value + math.sin(value)
        value = value + math.sin(value) * value
    y.backward()
    assert y.data == pytest.approx(value, rel=1e-13)
    assert x.grad.data == pytest.approx(slope, rel=1e-12)


def test_intermediate_grads_are_freed_unless_retained():
    x = Variable(np.array(0.5), "x")
    h = Sin()(x)
    y = Cos()(h)
    y.backward()
    assert h.grad is None and y.grad is None and x.grad is not None
    x.cleargrad()
    y.backward(retain_grad=True)
    assert h.grad.data == -math.sin(math.sin(0.5))
    assert x.grad.data == -math.sin(math.sin(0.5)) * math.cos(0.5)


def test_long_chain_runs_and_frees_without_recursion():
    # Deep enough that a recursive backward, or a recursive free of the graph, would overflow.
    n = 300_000
    x = Variable(np.array(0.5), "x")
    y = x
    for _ in range(n):
        y = Sin()(y)
    y.backward()
    h, g = 0.5, 1.0
    for _ in range(n):
        g *= math.cos(h)
        h = math.sin(h)
    assert y.data == pytest.approx(h, rel=1e-12)
    assert x.grad.data == pytest.approx(g, rel=1e-9)
    del y  # the whole chain goes at once
    assert x.grad is not None


# --- start-up: what a command never imports ----------------------------------------------------

# Heavy libraries that plain commands must never pay for (each is imported only on the path
# that uses it): the parser generator, special functions, columnar I/O, plotting, clusters,
# and the terminal renderer, which only a terminal needs.
DENIED = "lark interegular scipy polars pyarrow msgspec matplotlib plotext dask distributed rich"


@pytest.mark.parametrize(
    "argv",
    [
        ["grad", "square(exp(square(x)))", "--x", "0.5"],
        ["grad", "x^2", "--x", "3", "--format", "json"],
        ["grad", "x*y", "--x", "1,2", "--y", "3", "-q"],
        ["grad", "sin(x)", "--x", "1", "--order", "3"],
        ["eval", "x^2 + 1", "--x", "3"],
        ["eval", "sin(x", "--x", "1"],  # a syntax error, explained without Lark
        ["grad", "nosuch(x)", "--x", "1"],
        ["grad", "log(x)", "--x", "-1"],  # a warning
    ],
)
def test_a_command_never_imports_heavy_libraries(argv, dezero_process):
    outcome, imported = dezero_process.imports(*argv)
    assert outcome.code in (0, 2), outcome
    assert {"numpy", "dezero_cli"} <= imported  # so that the check below can fail
    assert sorted(imported & set(DENIED.split())) == []
