"""sum, mean and dot: values against numpy, gradients against hand formulas and batch rows."""

from __future__ import annotations

import numpy as np
import pytest

from dezero_cli.api import grad
from dezero_cli.engine.core import Variable, using_config
from dezero_cli.engine.functions import Dot, Mean, Sum

X = np.array([1.0, 2.0, 4.0])
Y = np.array([-1.0, 0.5, 3.0])


def test_issue_example_sum_of_squares(dezero):
    result = dezero("grad", "sum(square(x))", "--x", "1,2,3")
    assert (result.code, result.stdout) == (0, "f = 14.0\ndf/dx = [2.0, 4.0, 6.0]\n")


def test_mean_broadcasts_back_and_centering_has_zero_gradient_sum():
    result = grad("x - mean(x)", {"x": X})
    np.testing.assert_array_equal(result.value, X - X.mean())
    # d/dx_j sum_i (x_i - mean) = 1 - n * (1/n) = 0 for every j
    np.testing.assert_allclose(result.grad["x"], [0.0, 0.0, 0.0], atol=1e-15)
    result = grad("mean(x^2)", {"x": X})
    assert float(result.value) == np.mean(X**2)
    np.testing.assert_allclose(result.grad["x"], 2 * X / 3, rtol=1e-15)


def test_dot_value_and_both_gradients():
    result = grad("dot(a, b)", {"a": X, "b": Y})
    assert float(result.value) == float(np.dot(X, Y))
    assert result.grad["a"].tolist() == Y.tolist()
    assert result.grad["b"].tolist() == X.tolist()
    result = grad("dot(a, a)", {"a": X})
    assert result.grad["a"].tolist() == (2 * X).tolist()


def test_dot_of_a_scalar_and_a_vector_sums_the_gradient_back():
    result = grad("dot(s, b)", {"s": 2.0, "b": Y})
    assert float(result.value) == 2.0 * Y.sum()
    assert float(result.grad["s"]) == Y.sum()
    assert result.grad["b"].tolist() == [2.0, 2.0, 2.0]


def test_dot_of_different_lengths_is_a_user_error(dezero):
    outcome = dezero("grad", "dot(a, b)", "--a", "1,2,3", "--b", "1,2")
    assert outcome.code == 2
    assert outcome.stderr == "error: vector values differ in length: a has 3, b has 2\n"


def test_reductions_of_scalars_are_the_identity_and_sum_to_scalar():
    for cls in (Sum, Mean):
        y = cls()(Variable(np.array(3.0)))
        assert y.shape == () and float(y.data) == 3.0
    assert Sum()(Variable(X)).shape == ()


def test_second_order_through_sum_broadcast_and_back():
    x = Variable(X.copy(), "x")
    y = Sum()(x * x * x)
    y.backward(create_graph=True)
    gx = x.grad
    np.testing.assert_array_equal(gx.data, 3 * X**2)
    x.grad = None
    gx.backward()
    np.testing.assert_array_equal(x.grad.data, 6 * X)


@pytest.mark.parametrize("cls", [Sum, Mean])
def test_batch_rows_reduce_only_their_own_axes(cls):
    rows = np.array([[1.0, 2.0, 3.0], [10.0, 20.0, 40.0]])
    reduce = np.sum if cls is Sum else np.mean
    with using_config("batch_ndim", 1):
        x = Variable(rows.copy(), "x")
        y = cls()(x)
        assert y.shape == (2, 1)  # kept, so it broadcasts back per row
        np.testing.assert_array_equal(y.data, reduce(rows, axis=1, keepdims=True))
        centered = x - y
        np.testing.assert_array_equal(centered.data, rows - reduce(rows, axis=1, keepdims=True))
        z = Sum()(centered * centered)
        z.backward()
    # Each row's gradient is what the same computation gives on that row alone.
    for r, row in enumerate(rows):
        with using_config("batch_ndim", 0):
            single = Variable(row.copy())
            c = single - cls()(single)
            Sum()(c * c).backward()
        np.testing.assert_allclose(x.grad.data[r], single.grad.data, rtol=1e-14)
    if cls is Mean:  # and by hand: 2 (x - mean) per row
        np.testing.assert_allclose(x.grad.data, 2 * (rows - rows.mean(axis=1, keepdims=True)))


def test_batch_dot_per_row():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    b = np.array([[5.0, 6.0], [7.0, 8.0]])
    with using_config("batch_ndim", 1):
        x0, x1 = Variable(a.copy()), Variable(b.copy())
        y = Dot()(x0, x1)
        assert y.data.tolist() == [[17.0], [53.0]]
        Sum()(y).backward()
    assert x0.grad.data.tolist() == b.tolist()
    assert x1.grad.data.tolist() == a.tolist()
