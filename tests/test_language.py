"""The language beyond arithmetic: comparisons, logic, where, definitions and user functions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dezero_cli import api
from dezero_cli.engine.dot import count_functions
from dezero_cli.errors import ArityError, ExpressionSyntaxError, GraphTooLarge, UnknownFunction
from dezero_cli.limits import Limits, enforce

NAN = math.nan

# text -> value at x = 2, y = 3; worked out by hand from the precedence table
# (loosest first: or, and, not, comparisons, + -, * /, unary, ^).
VALUES = [
    ("x < y", 1.0),
    ("x > y", 0.0),
    ("x <= 2", 1.0),
    ("x >= 2.5", 0.0),
    ("x == 2", 1.0),
    ("x != 2", 0.0),
    ("x + 1 == y", 1.0),  # (x + 1) == y
    ("-x < -y", 0.0),
    ("x < y and y < 4", 1.0),
    ("x > y or y > 2", 1.0),
    ("not x > y", 1.0),  # not (x > y)
    ("not x", 0.0),
    ("not 0", 1.0),
    ("not not x", 1.0),
    ("0 or 0 and 1", 0.0),  # 0 or (0 and 1)
    ("1 or 0 and 0", 1.0),  # 1 or (0 and 0)
    ("not 1 or 1", 1.0),  # (not 1) or 1
    ("not 1 and 0", 0.0),  # (not 1) and 0
    ("2 * (x < y)", 2.0),
    ("(x < y) + (y < x)", 1.0),
    ("where(x < y, 10, 20)", 10.0),
    ("where(x - 2, 10, 20)", 20.0),  # 0 is false
    ("where(-0.5, 10, 20)", 10.0),  # any nonzero number is true
    ("where(x > 1 and y > 1, x*y, 0)", 6.0),
    ("r = x^2 + y^2; sqrt(r)", math.sqrt(13)),
    ("a = x; b = a*a; c = b*b; c", 16.0),
    ("f(t) = t^2 + 1; f(x) + f(y)", 15.0),
    ("f(t) = t^2; g(t) = f(t) + f(t + 1); g(x)", 13.0),
    ("f(a, b) = a - b; f(y, x)", 1.0),
    ("f() = 7; f() * x", 14.0),
    ("k = 3; f(t) = t * k; f(x)", 6.0),  # a body may use earlier definitions
    ("f(t) = t * y; f(x)", 6.0),  # and the expression's variables
]


@pytest.mark.parametrize("text, expected", VALUES)
def test_value_table(text, expected):
    values = {"x": 2.0, "y": 3.0}
    program = api.compile(text)
    used = {name: v for name, v in values.items() if name in program.variables}
    assert float(api.evaluate(program, used).value) == expected


def test_statements_end_with_an_optional_semicolon_and_newlines_are_spaces():
    assert float(api.evaluate("r = x;\n 2 * r;", {"x": 3.0}).value) == 6.0
    assert float(api.evaluate("sin(x)\n+ 1", {"x": 0.0}).value) == 1.0


def test_parameters_shadow_and_definitions_cannot_be_given():
    assert float(api.evaluate("k = 5; f(k) = k * 2; f(1)", {}).value) == 2.0
    with pytest.raises(api.DezeroError) as info:
        api.grad("r = x^2; r", {"x": 1.0, "r": 2.0})
    assert info.value.message == (
        "'r' is defined in the expression, so it cannot also be given a value (--r)"
    )
    with pytest.raises(api.DezeroError) as info:
        api.grad("r = x^2; r", {"x": 1.0}, wrt=["r"])
    assert info.value.message == (
        "--wrt names 'r', which is defined in the expression: differentiate by the variables "
        "it is made of"
    )


@pytest.mark.parametrize(
    "text, values",
    [
        ("gamma * x", {"gamma": 2.0, "x": 3.0}),  # a name not followed by ( is a variable
        ("max + 1", {"max": 3.0}),
        ("sin * 2", {"sin": 4.0}),
        ("e1 + pi2", {"e1": 1.0, "pi2": 2.0}),
    ],
)
def test_function_names_are_variables_unless_called(text, values):
    program = api.compile(text)
    assert program.variables == tuple(values)
    assert np.isfinite(api.evaluate(program, values).value)


def test_a_missing_value_for_a_function_name_says_how_to_call_it():
    with pytest.raises(api.DezeroError) as info:
        api.evaluate("sin + 1", {})
    assert info.value.message == (
        "no value for variable 'sin': give it with --sin VALUE (or call the function sin(...))"
    )


# Comparisons and logic with nan: IEEE comparisons (nan compares false, != true); and, or, not
# and where give nan for a nan operand or condition.
@pytest.mark.parametrize(
    "text, expected",
    [
        ("x < 1", 0.0),
        ("x >= 1", 0.0),
        ("x == x", 0.0),
        ("x != x", 1.0),
        ("x and 1", NAN),
        ("0 or x", NAN),
        ("not x", NAN),
        ("where(x, 1, 2)", NAN),
        ("where(x < 1, 1, 2)", 2.0),
    ],
)
def test_nan_in_comparisons_and_logic(text, expected):
    value = float(api.evaluate(text, {"x": NAN}).value)
    assert value == expected or (math.isnan(expected) and math.isnan(value))


def test_comparisons_and_logic_have_derivative_zero_at_every_order():
    r = api.derivatives("(x < y) + (x and y) + (not x) + (x == 2)", {"x": 2.0, "y": 3.0}, 3)
    for level in r.derivatives:
        assert all(float(a) == 0.0 for a in level.values())
    assert float(r.value) == 3.0


# where: both branches are evaluated, and the one not taken never reaches the value, any
# derivative or a warning (the "double where" trap of PyTorch #23395 and TensorFlow #20091).


def test_where_hides_a_nan_in_the_branch_not_taken():
    r = api.grad("where(x > 0, sqrt(x), 0)", {"x": -1.0})
    assert (float(r.value), float(r.grad["x"]), r.warnings) == (0.0, 0.0, [])
    r = api.grad("where(x > 0, sqrt(x), 0)", {"x": 4.0})
    assert (float(r.value), float(r.grad["x"]), r.warnings) == (2.0, 0.25, [])


def test_where_on_vectors_that_mix_both_branches_at_order_3():
    x = np.array([-4.0, -1.0, 0.0, 0.25, 4.0])
    r = api.derivatives("where(x > 0, sqrt(x), log(-x))", {"x": x}, 3)
    taken = x > 0
    s = np.sqrt(np.where(taken, x, 1.0))
    with np.errstate(divide="ignore"):  # at x = 0, as the expression itself: -inf
        expected = [
            np.where(taken, s, np.log(np.where(taken, 1.0, -x))),
            np.where(taken, 0.5 / s, 1 / x),
            np.where(taken, -0.25 / s**3, -1 / x**2),
            np.where(taken, 0.375 / s**5, 2 / x**3),
        ]
    got = [r.value, r.grad["x"], r.derivatives[1][("x", "x")], r.derivatives[2][("x", "x", "x")]]
    for k, (a, b) in enumerate(zip(got, expected)):
        np.testing.assert_allclose(a[x != 0], b[x != 0], rtol=1e-15, err_msg=f"order {k}")
    # At x = 0 the false branch is taken: log(-0) = -inf, derivatives 1/x = -inf, ...
    assert r.value[2] == -np.inf
    assert r.warnings == ["log gave -inf (overflow or division by zero)"]


def test_where_in_the_taken_branch_still_gives_nan_and_its_warning():
    r = api.grad("where(x < 0, sqrt(x), 1)", {"x": -1.0})
    assert math.isnan(float(r.value)) and math.isnan(float(r.grad["x"]))
    assert r.warnings == ["sqrt gave nan (outside its domain)"]


def test_nested_where_masks_every_branch():
    text = "where(x > 0, where(x > 1, log(x - 1), sqrt(1 - x)), sqrt(-x))"
    x = np.array([-4.0, 0.5, 5.0])
    r = api.derivatives(text, {"x": x}, 2)
    assert r.warnings == []
    np.testing.assert_allclose(r.value, [2.0, math.sqrt(0.5), math.log(4.0)], rtol=1e-15)
    np.testing.assert_allclose(r.grad["x"], [-0.25, -0.5 / math.sqrt(0.5), 0.25], rtol=1e-15)
    assert np.all(np.isfinite(r.derivatives[1][("x", "x")]))


def test_where_inside_a_user_function_and_in_batch_rows():
    text = "safe(t) = where(t > 0, log(t), 0); safe(x) + safe(y)"
    r = api.grad(text, {"x": np.array([-1.0, 2.0]), "y": np.array([3.0, 0.0])})
    assert r.warnings == []
    np.testing.assert_array_equal(r.value, [math.log(3.0), math.log(2.0)])
    np.testing.assert_array_equal(r.grad["x"], [0.0, 0.5])
    np.testing.assert_array_equal(r.grad["y"], [1 / 3, 0.0])
    from dezero_cli.batch.rows import grad_rows

    rows = grad_rows(text, {"x": np.array([-1.0, 2.0]), "y": np.array([3.0, 0.0])}, 2, order=2)
    np.testing.assert_array_equal(rows.value, r.value)
    assert rows.row_warnings == {}


# Definitions: one node of the graph each, computed once, their gradient summed.


def test_a_definition_is_one_node_computed_once():
    defined = api.derivative_graph("r = sin(x); r * r + r", {"x": 0.5}, 0)
    repeated = api.derivative_graph("sin(x) * sin(x) + sin(x)", {"x": 0.5}, 0)
    assert count_functions(defined) == 3  # sin, *, +
    assert count_functions(repeated) == 5
    r = api.grad("r = sin(x); r * r + r", {"x": 0.5})
    s, c = math.sin(0.5), math.cos(0.5)
    assert float(r.grad["x"]) == pytest.approx(2 * s * c + c, rel=1e-15)


def test_user_functions_are_inlined_and_bounded_by_the_node_limit():
    # f1 doubles at each level: f20 would be a million calls, refused while compiling.
    text = (
        "f1(t) = sin(t) + t; "
        + "".join(f"f{k}(t) = f{k - 1}(f{k - 1}(t)); " for k in range(2, 21))
        + "f20(x)"
    )
    with pytest.raises(GraphTooLarge), enforce(Limits(max_nodes=100_000)):
        api.compile(text)
    small = text.replace("f20(x)", "f4(x)")
    with enforce(Limits(max_nodes=100_000)):
        program = api.compile(small)
    assert program.size() == 2 * 2**3  # sin and + in each of the 8 copies of f1
    assert program.definitions == tuple(f"f{k}" for k in range(1, 21))


# Errors, each with its caret.
ERRORS = [
    ("x; y", "only the last statement is the result: the ones before it must be definitions "
     "(name = ... or f(t) = ...)", 0),
    ("r = 1; x + 1; r", "only the last statement is the result: the ones before it must be "
     "definitions (name = ... or f(t) = ...)", 7),
    ("x = 1", "the last statement must be the result, not a definition", 2),
    ("y = x2 + 1; x2 = 3; y", "'x2' is used before it is defined", 4),
    ("y = g(1); g(t) = t; y", "'g' is used before it is defined", 4),
    ("r = 1; r = 2; r", "'r' is defined twice", 7),
    ("r = r + 1; r", "'r' is used in its own definition", 4),
    ("f(t) = f(t - 1); f(x)", "'f' calls itself: recursion is not supported", 7),
    ("sin = 2; sin", "'sin' is a built-in function: a definition needs another name", 0),
    ("sin(t) = t; sin(1)", "'sin' is a built-in function: a definition needs another name", 0),
    ("pi = 3; pi", "'pi' is a constant: a definition needs another name", 0),
    ("x + 1 = 2; x", "the left side of '=' must be a name, or a function and its parameters "
     "such as f(t)", 0),
    ("f(1) = 2; f(x)", "a parameter must be a name, as in f(t) = t^2", 2),
    ("f(t, t) = t; f(x)", "parameter 't' is named twice", 5),
    ("f(e) = e; f(x)", "'e' is a constant: a parameter needs another name", 2),
    ("f(t) = t; f", "'f' is a function: call it as f(...)", 10),
    ("r = 2; r(x)", "'r' is a value, not a function", 7),
    ("f(t) = t(1); f(x)", "'t' is a parameter, not a function", 7),
    ("a < b < c", "comparisons cannot be chained: write a < b and b < c", 6),
    ("a == b != c", "comparisons cannot be chained: write a != b and b != c", 7),
    ("and + 1", "'and' is a reserved word: it cannot name a variable or a function", 0),
    ("f(or) = 1; 2", "'or' is a reserved word: it cannot name a variable or a function", 2),
    ("x;;", "unexpected ';'", 2),
    ("1 + not x", "'not' binds more loosely than arithmetic and comparisons: write (not ...)", 4),
    ("; x", "unexpected ';'", 0),
]  # fmt: skip


@pytest.mark.parametrize("text, message, column", ERRORS)
def test_errors_have_a_message_and_a_caret(text, message, column):
    with pytest.raises(ExpressionSyntaxError) as info:
        api.compile(text)
    assert (info.value.message, info.value.column) == (message, column)


def test_argument_counts_of_user_and_built_in_functions():
    with pytest.raises(ArityError) as info:
        api.compile("f(t) = t; f(x, y)")
    assert (info.value.message, info.value.column) == ("f() takes 1 argument, got 2", 10)
    with pytest.raises(ArityError) as info:
        api.compile("where(x, 1)")
    assert info.value.message == "where() takes 3 arguments, got 2"
    with pytest.raises(UnknownFunction):
        api.compile("nosuch(x)")


def test_a_syntax_error_comes_before_every_other_problem():
    with pytest.raises(ExpressionSyntaxError) as info:
        api.compile("y = x2; x2 = 3; y +")
    assert info.value.message == "the expression ends too early"


# @PATH: the expression from a file, for the EXPR argument and batch --expr only.


def test_an_expression_read_from_a_file(tmp_path, dezero):
    model = tmp_path / "model.dz"
    model.write_text("r = sqrt(x^2 + y^2);\nexp(-r) * cos(r)\n")
    direct = dezero("grad", "r = sqrt(x^2 + y^2); exp(-r) * cos(r)", "--x", "1", "--y", "2")
    assert dezero("grad", f"@{model}", "--x", "1", "--y", "2") == direct
    table = dezero("batch", "--expr", f"@{model}", stdin=b"x,y\n1,2\n")
    assert table.stdout.splitlines()[1] == (
        "1,2,-0.06597284460216153,-0.008100500868031575,-0.01620100173606315,"
    )


def test_a_record_never_makes_dezero_read_a_file(tmp_path, dezero):
    model = tmp_path / "model.dz"
    model.write_text("x*2")
    out = dezero("batch", stdin=f'{{"expr": "@{model}", "x": 1}}\n'.encode())
    assert out.code == 1
    assert '"error": "line 1: unexpected character \'@\' (column 1)"' in out.stdout


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "cannot read {path}: No such file or directory"),
        (b"", "{path} is empty: expected an expression"),
        (b"x +\xff", "the expression in {path} is not UTF-8 (byte 3)"),
        (b"x" * 20, "the expression in {path} is longer than the limit of 10 characters "
         "(--max-length)"),
    ],
)  # fmt: skip
def test_a_file_that_cannot_be_used_is_one_error(tmp_path, dezero, content, message):
    path = tmp_path / "model.dz"
    if content is not None:
        path.write_bytes(content)
    out = dezero("eval", f"@{path}", "--max-length", "10")
    assert (out.code, out.stdout, out.stderr) == (2, "", f"error: {message.format(path=path)}\n")
