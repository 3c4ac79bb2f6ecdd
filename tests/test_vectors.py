"""Vector results `[e1, e2, ...]`: the grammar, the Jacobian, every command that prints one.

The reference for every output is the same expression written alone: `[a, b]` must give, for
output i, exactly what `dezero grad` gives for the i-th element by itself.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from dezero_cli import api
from dezero_cli.errors import ExpressionSyntaxError
from dezero_cli.limits import counting_nodes


def ok(outcome, stdout: str, stderr: str = "") -> None:
    assert (outcome.code, outcome.stdout, outcome.stderr) == (0, stdout, stderr)


def test_grad_prints_each_value_then_the_jacobian_by_rows(dezero):
    ok(
        dezero("grad", "[x*y, x + sin(y)]", "--x", "1", "--y", "2"),
        "f[0] = 2.0\nf[1] = 1.9092974268256817\n"
        "df[0]/dx = 2.0\ndf[0]/dy = 1.0\ndf[1]/dx = 1.0\ndf[1]/dy = -0.4161468365471424\n",
    )


def test_json_value_is_a_list_and_grad_maps_each_variable_to_its_list_over_outputs(dezero):
    outcome = dezero("grad", "[x*y, x + sin(y)]", "--x", "1", "--y", "2", "--format", "json")
    ok(
        outcome,
        '{"schema": 1, "expr": "[x*y, x + sin(y)]", "inputs": {"x": 1.0, "y": 2.0}, '
        '"value": [2.0, 1.9092974268256817], "grad": {"x": [2.0, 1.0], '
        '"y": [1.0, -0.4161468365471424]}, "warnings": []}\n',
    )


def test_one_element_is_a_vector_of_one_output(dezero):
    ok(dezero("grad", "[x^2]", "--x", "3"), "f[0] = 9.0\ndf[0]/dx = 6.0\n")
    record = json.loads(dezero("grad", "[x^2]", "--x", "3", "--format", "json").stdout)
    assert (record["value"], record["grad"]) == ([9.0], {"x": [6.0]})


def test_eval_prints_each_output(dezero):
    ok(dezero("eval", "[x^2, 2*x, 7]", "--x", "3"), "f[0] = 9.0\nf[1] = 6.0\nf[2] = 7.0\n")
    ok(dezero("eval", "[x^2, 2*x]", "--x", "3", "-q"), "9.0\n6.0\n")


def test_definitions_come_before_the_vector(dezero):
    ok(
        dezero("grad", "r = x^2 + y^2; [sqrt(r), r]", "--x", "3", "--y", "4", "-q"),
        "5.0\n25.0\n0.6000000000000001\n0.8\n6.0\n8.0\n",
    )


def test_vector_inputs_give_outputs_by_points(dezero):
    record = json.loads(
        dezero("grad", "[x*y, x + y]", "--x", "1,2,3", "--y", "2", "--format", "json").stdout
    )
    assert record["value"] == [[2.0, 4.0, 6.0], [3.0, 4.0, 5.0]]
    assert record["grad"] == {"x": [[2.0] * 3, [1.0] * 3], "y": [[1.0, 2.0, 3.0], [1.0] * 3]}
    ok(
        dezero("grad", "[x*y, x + y]", "--x", "1,2", "--y", "2"),
        "f[0] = [2.0, 4.0]\nf[1] = [3.0, 4.0]\ndf[0]/dx = [2.0, 2.0]\ndf[0]/dy = [1.0, 2.0]\n"
        "df[1]/dx = [1.0, 1.0]\ndf[1]/dy = [1.0, 1.0]\n",
    )


def test_order_n_gives_each_outputs_derivatives_as_in_the_scalar_case(dezero):
    ok(
        dezero("grad", "[x^3*y, x*y]", "--x", "2", "--y", "1", "--order", "2"),
        "f[0] = 8.0\nf[1] = 2.0\n"
        "df[0]/dx = 12.0\ndf[0]/dy = 8.0\ndf[1]/dx = 1.0\ndf[1]/dy = 2.0\n"
        "d2f[0]/dx2 = 12.0\nd2f[0]/dxdy = 12.0\nd2f[0]/dy2 = 0.0\n"
        "d2f[1]/dx2 = 0.0\nd2f[1]/dxdy = 1.0\nd2f[1]/dy2 = 0.0\n",
    )
    record = json.loads(
        dezero("grad", "[x^3*y, x*y]", "--x", "2", "--y", "1", "--order", "2", "--format", "json")
        .stdout
    )  # fmt: skip
    assert record["derivatives"][1] == {
        "x": {"x": [12.0, 0.0], "y": [12.0, 1.0]},
        "y": {"x": [12.0, 1.0], "y": [0.0, 0.0]},
    }


ELEMENTS = ["x*y + sin(x)/(1+y^2)", "exp(x - y)", "x^y", "sum(x*y)", "7", "y"]


@pytest.mark.parametrize("order", [1, 2, 3])
def test_each_output_is_what_the_element_gives_alone(order):
    values = {"x": 0.7, "y": 1.3}
    vector = api.derivatives(f"[{', '.join(ELEMENTS)}]", values, order)
    assert vector.outputs == len(ELEMENTS)
    for i, element in enumerate(ELEMENTS):
        names = api.compile(element).variables
        alone = api.derivatives(element, {name: values[name] for name in names}, order)
        assert vector.value[i] == alone.value
        for k, level in enumerate(vector.derivatives):
            single = alone.derivatives[k]
            for key, a in level.items():
                assert a[i] == single.get(key, 0.0), (element, key)


def test_the_jacobian_agrees_with_central_differences():
    values = {"x": 0.4, "y": -1.1}
    result = api.grad("[x*y + sin(x)/(1+y^2), exp(x - y), tanh(x*y)]", values)
    for name in values:
        h = 1e-6
        up = api.evaluate(result.expr, {**values, name: values[name] + h}).value
        down = api.evaluate(result.expr, {**values, name: values[name] - h}).value
        assert result.grad[name] == pytest.approx((up - down) / (2 * h), rel=1e-7)


def test_one_forward_pass_serves_every_output():
    # The backward passes record nothing and the forward graph is built once: the nodes
    # recorded are those of the forward pass alone.
    text = "[sin(x)*y, cos(x)*y, x*y]"
    with counting_nodes() as vector:
        api.grad(text, {"x": 1.0, "y": 2.0})
    with counting_nodes() as forward:
        api.evaluate(text, {"x": 1.0, "y": 2.0})  # no graph: counts nothing
        from dezero_cli.engine.core import Variable

        api.as_program(text).run({"x": Variable(np.array(1.0)), "y": Variable(np.array(2.0))})
    assert vector() == forward() == 5


def test_outputs_of_different_lengths_are_refused(dezero):
    # A reduction's one value is used at every point; lengths that cannot agree are an error.
    record = json.loads(dezero("eval", "[sum(x), x]", "--x", "1,2", "--format", "json").stdout)
    assert record["value"] == [[3.0, 3.0], [1.0, 2.0]]
    outcome = dezero("grad", "[x + sum(x), y]", "--x", "1,2", "--y", "1,2,3")
    assert outcome.code == 2
    assert outcome.stderr == (
        "error: the elements of the list differ in length (f[0] has 2, f[1] has 3 values): a "
        "reduction such as sum() gives one value where the others give one per element\n"
    )


SYNTAX = [
    (
        "[[x]]",
        "a list [...] can only be the whole result (the last statement): it cannot be nested, "
        "an argument or part of an expression",
        " ^",
    ),
    (
        "sin([x])",
        "a list [...] can only be the whole result (the last statement): it cannot be nested, "
        "an argument or part of an expression",
        "    ^",
    ),
    (
        "x + [y]",
        "a list [...] can only be the whole result (the last statement): it cannot be nested, "
        "an argument or part of an expression",
        "    ^",
    ),
    ("[x] + 1", "a list [...] is the whole result: nothing can follow it but ';'", "    ^"),
    ("[]", "an empty list: a vector result needs at least one element, as in [x]", " ^"),
    ("[x", "missing ']' at the end of the expression", "  ^"),
    ("x]", "unmatched ']'", " ^"),
    ("[sin(x]", "missing ')' before ']'", "      ^"),
    (
        "[x, y]; z",
        "only the last statement is the result: the ones before it must be definitions "
        "(name = ... or f(t) = ...)",
        "^",
    ),
]


@pytest.mark.parametrize("text, message, caret", SYNTAX, ids=[t for t, _, _ in SYNTAX])
def test_a_list_anywhere_but_the_result_is_an_error_with_a_caret(text, message, caret, dezero):
    outcome = dezero("grad", text, "--x", "1", "--y", "1", "--z", "1")
    assert (outcome.code, outcome.stdout) == (2, "")
    assert outcome.stderr == f"error: {message}\n  {text}\n  {caret}\n"


def test_the_parse_loop_and_lark_agree_on_lists():
    from test_parse import lark_view, loop_view

    for text in ["[x]", "[x, y]", "a = 1; [a, x]", "[x];", *(t for t, _, _ in SYNTAX)]:
        assert loop_view(text) == lark_view(text), text


def test_check_refuses_a_vector_result(dezero):
    outcome = dezero("check", "[x, x^2]", "--x", "1")
    assert (outcome.code, outcome.stdout) == (2, "")
    assert outcome.stderr == (
        "error: check compares the gradient of one result: check each element of the list "
        "[...] on its own\n"
    )


def test_diff_prints_each_outputs_formulas(dezero):
    ok(
        dezero("diff", "[x*y, sin(x)*y]"),
        "# holds wherever the expression is smooth (generic point x = 0.8090169943749475, "
        "y = 0.6180339887498949)\n"
        "df[0]/dx = y\ndf[0]/dy = x\ndf[1]/dx = y*cos(x)\ndf[1]/dy = sin(x)\n",
    )
    record = json.loads(dezero("diff", "[x*y, sin(x)*y]", "--format", "json").stdout)
    assert record["grad"] == {"x": ["y", "y*cos(x)"], "y": ["x", "sin(x)"]}
    latex = dezero("diff", "[x*y, x^2]", "--wrt", "x", "--format", "latex").stdout
    assert latex.splitlines()[1:] == [r"\frac{d f_{0}}{d x} = y", r"\frac{d f_{1}}{d x} = 2 x"]


def test_diff_formulas_evaluate_to_the_jacobian():
    formulas = api.diff("[x*y + sin(x)/(1+y^2), exp(x*y)]", order=2)
    point = {"x": 0.3, "y": 1.7}
    numbers = api.derivatives(formulas.expr, point, 2)
    for level, texts in zip(numbers.derivatives, formulas.derivatives):
        for key, per_output in texts.items():
            for i, text in enumerate(per_output):
                got = float(api.evaluate(text, point).value)
                assert got == pytest.approx(float(level[key][i]), rel=1e-12)


def test_graph_names_each_output(dezero):
    text = dezero("graph", "[x*y, x]", "--x", "1", "--y", "2").stdout
    assert 'label="f[0]"' in text and 'label="f[1]"' in text
    text = dezero("graph", "[x*y, x]", "--x", "1", "--y", "2", "--order", "1").stdout
    assert 'label="df[0]/dx"' in text and 'label="df[1]/dy"' in text


def test_batch_points_name_each_output(dezero):
    ok(
        dezero("batch", "--expr", "[x*y, x + y]", stdin="x,y\n1,2\n3,4\n"),
        "x,y,value_0,value_1,grad_0_x,grad_0_y,grad_1_x,grad_1_y,error\n"
        "1,2,2.0,3.0,2.0,1.0,1.0,1.0,\n3,4,12.0,7.0,4.0,3.0,1.0,1.0,\n",
    )
    ok(
        dezero("batch", "--expr", "[x*y, x]", "--order", "2", stdin="x,y\n1,2\n"),
        "x,y,value_0,value_1,grad_0_x,grad_0_y,grad_1_x,grad_1_y,"
        "d2f[0]/dx2,d2f[0]/dxdy,d2f[0]/dydx,d2f[0]/dy2,"
        "d2f[1]/dx2,d2f[1]/dxdy,d2f[1]/dydx,d2f[1]/dy2,error\n"
        "1,2,2.0,1.0,2.0,1.0,1.0,0.0,0.0,1.0,1.0,0.0,0.0,0.0,0.0,0.0,\n",
    )
    ok(
        dezero("batch", "--expr", "[x, 2*x]", "--no-grad", stdin="x\n1\n"),
        "x,value_0,value_1,error\n1,1.0,2.0,\n",
    )


def test_batch_rows_are_what_grad_gives_for_each(dezero):
    rows = dezero(
        "batch", "--expr", "[x*y, sin(x)]", "--output-format", "jsonl", stdin="x,y\n1,2\n3,4\n"
    ).stdout.splitlines()
    for line, (x, y) in zip(rows, [("1", "2"), ("3", "4")]):
        single = json.loads(dezero("grad", "[x*y, sin(x)]", "--x", x, "--y", y, "--format", "json")
                            .stdout)  # fmt: skip
        record = json.loads(line)
        assert record == {key: v for key, v in single.items() if key != "schema"}


def test_batch_records_with_a_vector_expression(dezero):
    line = json.dumps({"id": 7, "expr": "[x*y, x]", "x": 2, "y": 3})
    outcome = dezero("batch", stdin=line + "\n")
    assert outcome.code == 0
    assert json.loads(outcome.stdout) == {
        "id": 7,
        "expr": "[x*y, x]",
        "inputs": {"x": 2.0, "y": 3.0},
        "value": [6.0, 2.0],
        "grad": {"x": [3.0, 1.0], "y": [2.0, 0.0]},
        "warnings": [],
    }


def test_batch_column_names_come_from_one_function():
    from dezero_cli.batch.names import result_columns

    assert [name for name, _ in result_columns(("x", "y"), 1)] == ["value", "grad_x", "grad_y"]
    assert [name for name, _ in result_columns(("x",), 2, 2, True)] == [
        "value_0", "value_0_sd", "value_1", "value_1_sd", "grad_0_x", "grad_1_x",
        "d2f[0]/dx2", "d2f[1]/dx2",
    ]  # fmt: skip


def test_terminal_shows_the_jacobian_as_a_table():
    import io

    from rich.console import Console

    from dezero_cli.render.results import render_rich

    result = api.grad("[x*y, x + sin(y)]", {"x": 1.0, "y": 2.0})
    buffer = io.StringIO()
    Console(file=buffer, width=80, color_system=None).print(render_rich(result, 80))
    assert [line.rstrip() for line in buffer.getvalue().splitlines()] == [
        "f[0] = 2.0",
        "f[1] = 1.9092974268256817",
        "Jacobian df[row]/d(column)",
        "┏━━━━━━┳━━━━━┳━━━━━━━━━━━━━━━━━━━━━┓",
        "┃      ┃   x ┃                   y ┃",
        "┡━━━━━━╇━━━━━╇━━━━━━━━━━━━━━━━━━━━━┩",
        "│ f[0] │ 2.0 │                 1.0 │",
        "│ f[1] │ 1.0 │ -0.4161468365471424 │",
        "└──────┴─────┴─────────────────────┘",
    ]


def test_program_knows_its_outputs():
    assert api.compile("x").outputs == 0
    assert api.compile("[x]").outputs == 1
    assert api.compile("a = 2; [a, x, a*x]").outputs == 3
    with pytest.raises(ExpressionSyntaxError):
        api.compile("[x, [y]]")
