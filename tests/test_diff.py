"""`dezero diff`: derivatives printed as formulas, read off the graph that backprop records.

The formulas themselves are checked at many points in test_diff_roundtrip.py; here are their
exact texts, the simplifications, the definitions, every Function's spelling, the sizes, the
output formats and the errors.
"""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from conftest import run_in_process
from references import call_of

from dezero_cli import api
from dezero_cli.engine.core import Variable
from dezero_cli.engine.dot import count_functions
from dezero_cli.engine.functions import FUNCTIONS
from dezero_cli.engine.higher import partials
from dezero_cli.formula import Dag, Printer, generic_point, read_graph, tex_label

COMMENT = "# holds wherever the expression is smooth (generic point x = 0.8090169943749475)\n"


def run(argv, stdin=None):
    """`dezero ARGV...` through the harness's in-process runner."""
    return run_in_process(*argv, stdin=stdin)


def lines(expr: str, order: int = 1, **values) -> list[str]:
    """`left = right` lines of the text format, without the comment."""
    return [f"{left} = {right}" for left, right in api.diff(expr, values, order).listing()]


def test_the_seed_expression():
    assert lines("square(exp(square(x)))") == ["df/dx = 4*x*exp(x^2)^2"]
    outcome = run(["diff", "square(exp(square(x)))"])
    assert (outcome.code, outcome.stderr) == (0, "")
    assert outcome.stdout == COMMENT + "df/dx = 4*x*exp(x^2)^2\n"
    assert lines("square(exp(square(x)))", 2) == [
        "t1 = exp(x^2)",
        "df/dx = 4*x*t1^2",
        "d2f/dx2 = 4*t1^2 + 16*x^2*t1^2",
    ]


def test_tanh_to_order_4_is_a_few_lines():
    assert lines("tanh(x)", 4) == [
        "t1 = sech(x)^2",
        "df/dx = t1",
        "d2f/dx2 = -2*sech(x)^2*tanh(x)",
        "d3f/dx3 = 4*sech(x)^2*tanh(x)^2 - 2*sech(x)^4",
        "d4f/dx4 = 12*sech(x)^4*tanh(x) - 2*sech(x)^2*tanh(x)*(4*tanh(x)^2 - 2*t1)",
    ]


# expression -> its first derivative's formula, read at the generic point.
FIRST = [
    ("x*x", "2*x"),  # x*x is x^2: Pow computes the exponent 2 as x*x
    ("x*x*x", "3*x^2"),
    ("x^3", "3*x^2"),
    ("-(-x)^2", "-2*x"),
    ("1*x + 0", "1"),
    ("3*x - x", "2"),
    ("x/y", "1/y"),
    ("x/(2*y)", "1/(2*y)"),
    ("1/x", "-1/x^2"),
    ("sqrt(x)", "1/(2*sqrt(x))"),
    ("x^0.5", "x^-0.5/2"),
    ("exp(x)/exp(x)", "exp(x)/exp(x) - exp(x)^2/exp(x)^2"),  # nothing cancels: x/x is not 1
    ("abs(x)", "sign(x)"),
    ("sign(x)", "0"),
    ("tanh(x)", "sech(x)^2"),
    ("sech(x)", "-tanh(x)*sech(x)"),
    ("sigmoid(x)", "sigmoid(-x)*sigmoid(x)"),
    ("log(x)", "1/x"),
    ("x^y", "y*x^(y - 1)"),
    ("2^x", "0.6931471805599453*2^x"),  # log(2), a number in the graph
    ("pi*x^2", "6.283185307179586*x"),
    ("sin(y)*x", "sin(y)"),  # y stays y, not the number it is at the point
    ("sum(x) + mean(x) + dot(x, x)", "2*x + 2"),
    ("where(x > 0, x^2, -x)", "where(x > 0, 2*x, -1)"),
    ("where(x < 1, sqrt(x), log(-x))", "where(x < 1, 1/(2*sqrt(x)), 1/x)"),
    ("x < 1", "0"),
]


@pytest.mark.parametrize("expr, formula", FIRST)
def test_first_derivatives(expr, formula):
    assert api.diff(expr, wrt=["x"]).grad["x"] == formula


def test_printing_precedence_and_constants():
    dag = Dag()
    x, y = dag.var("x"), dag.var("y")

    def text(i: int) -> str:
        return Printer(dag, variables=("x", "y")).listing([i])[1][0]

    s = dag.add([(x, 1, False), (y, 1, False)])
    assert text(dag.mul([(s, 2, False)])) == "(x + y)^2"
    assert text(dag.mul([(s, 1, False)], -1)) == "-(x + y)"
    assert text(dag.mul([(s, 1, True)], -1)) == "-x - y"  # used once: opened
    assert text(dag.power(x, dag.add([(y, 1, False)], -1), False)) == "x^(y - 1)"
    assert text(dag.power(dag.power(x, y, False), y, False)) == "(x^y)^y"
    assert text(dag.power(x, dag.power(y, x, False), False)) == "x^y^x"
    assert text(dag.power(dag.number(-2.0), x, False)) == "(-2)^x"
    assert text(dag.mul([(x, 1, False), (dag.number(3.0), -1, False)])) == "x/3"
    assert text(dag.mul([(x, 1, False), (dag.number(0.1), 1, False)], 3)) == "3*0.1*x"
    assert text(dag.number(math.inf)) == "(1/0)"
    assert text(dag.number(math.pi)) == "pi"
    less = dag.call("<", (x, y))
    assert text(dag.mul([(less, 1, False)], 2)) == "2*(x < y)"
    assert text(dag.call("not", (dag.call("and", (less, less)),))) == "not (x < y and x < y)"


def test_definitions_are_named_apart_from_the_variables():
    formulas = api.diff("exp(t1^2)*t2 + t1", order=2, wrt=["t1"])
    left = [name for name, _ in formulas.listing()]
    assert left[0] == "t3"  # t1 and t2 are the expression's own
    assert formulas.formula(("t1", "t1")).startswith("t3 = exp(t1^2); ")


def test_the_formula_grows_with_the_graph_not_with_the_paths():
    # a_k = sin(a_(k-1)) * a_(k-1): each level uses the one below twice, so the derivative
    # written out as a tree has 2^n paths; the formula names what is shared and stays linear.
    def size(n: int, order: int) -> int:
        expr = "a0 = x; " + " ".join(f"a{k} = sin(a{k - 1})*a{k - 1};" for k in range(1, n + 1))
        return len(api.diff(expr + f" a{n}", order=order).formula(("x",) * order))

    for order in (1, 2):
        small, large = size(30, order), size(60, order)
        assert large < 2.2 * small
        assert large < 120 * 60 * order


def test_a_point_chooses_the_formula_that_holds_there():
    # Pow at 0: the convention's mask is printed as the where it is.
    formulas = api.diff("x^y", {"x": 0.0, "y": 0.0})
    assert formulas.generic is False and formulas.point == {"x": 0.0, "y": 0.0}
    assert formulas.grad == {
        "x": "y*where(x == 0 and y == 0, 1, x)^(y - 1)",
        "y": "log(where(x == 0 and y >= 0, 1, x))*x^y",
    }
    assert api.diff("x^y").grad["x"] == "y*x^(y - 1)"


def test_the_generic_point_is_the_documented_one():
    assert generic_point("xyz") == {
        "x": 0.8090169943749475,
        "y": 0.6180339887498949,
        "z": 0.9270509831248424,
    }
    values = list(generic_point(f"v{i}" for i in range(200)).values())
    assert len(set(values)) == 200
    assert all(0.5 < v < 1 and v not in (0.5, 0.75, 2 / 3) for v in values)


def test_deep_expressions_do_not_recurse():
    n = 100_000
    formulas = api.diff("sin(" * n + "x" + ")" * n)
    text = formulas.formula(("x",))
    assert text.startswith("t1 = sin(sin(x)); t2 = sin(t1); ")
    assert text.count(";") == n - 3  # sin(x) is short enough to repeat, the rest are named
    assert len(formulas.listing(latex=True)) == n - 2


# Every Function a backward rule records can be written in the language.

OPERATOR_EXPRESSIONS = [
    "x + y", "x - y", "x * y", "x / y", "x ^ y", "-x", "x < y", "x <= y", "x > y", "x >= y",
    "x == y", "x != y", "(x < y) and (y < 1)", "(x < y) or (y < 1)", "not (x < y)",
    "where(x < y, x*y, x/y)", "sum(x*y)",
]  # fmt: skip


def spelling_cases():
    for name, cls in sorted(FUNCTIONS.items()):
        yield call_of(name, cls), {}
    yield from ((expr, {}) for expr in OPERATOR_EXPRESSIONS)
    # The points where rules record more: Pow's masks at 0, abs and sign at 0.
    yield "x^y", {"x": 0.0, "y": 0.0}
    yield "x^y", {"x": 0.0, "y": 2.0}
    yield "abs(x)*sign(x)", {"x": 0.0}


@pytest.mark.parametrize("expr, values", list(spelling_cases()))
def test_every_function_in_backward_graphs_has_a_spelling(expr, values):
    program = api.compile(expr)
    point = values or generic_point(program.variables)
    xs = {name: Variable(np.array(point[name]), name) for name in program.variables}
    with np.errstate(all="ignore"):
        y = program.run(xs)
        levels = list(partials(y, list(xs.values()), 3, keep_graph=True))
    outputs = [v for level in levels for v in level.values()]
    seen = set()
    todo = [v for v in outputs if v is not None]
    while todo:
        v = todo.pop()
        if id(v) in seen or v.creator is None:
            continue
        seen.add(id(v))
        f = v.creator
        read_graph([v], xs)  # raises FormulaError for a Function without a spelling
        todo.extend(f.inputs)
    # And the formulas evaluate, at that point, to what the graph holds there.
    formulas = api.diff(expr, values, 3)
    with np.errstate(all="ignore"):
        grad = api.derivatives(expr, point, 3)
        for k, level in enumerate(formulas.derivatives):
            for key, text in level.items():
                got = float(api.evaluate(text, point).value)
                want = float(grad.derivatives[k][key])
                assert got == pytest.approx(want, rel=1e-12, abs=1e-300, nan_ok=True), (key, text)


# Sizes: the formula grows as the graph does, never with the number of paths through it.

SIZES = {  # expression -> (characters of the N-th derivative's formula, N = 1, 2, ...)
    "tanh(x)": [9, 20, 35, 70, 241, 601, 1558, 3885],
    "square(exp(square(x)))": [14, 35, 79, 243],
}


@pytest.mark.parametrize("expr", sorted(SIZES))
def test_formula_sizes(expr):
    sizes = SIZES[expr]
    formulas = api.diff(expr, order=len(sizes))
    got = [len(formulas.formula(("x",) * n)) for n in range(1, len(sizes) + 1)]
    assert got == sizes
    functions = [
        count_functions(api.derivative_graph(expr, {"x": 0.5}, n)) for n in range(1, len(sizes) + 1)
    ]
    assert all(chars <= 5 * graph + 20 for chars, graph in zip(got, functions))


# Output formats.


def test_json_mirrors_grad_with_texts_that_eval_accepts():
    expr = "x*y + sin(x)/(1+y^2)"
    outcome = run(["diff", expr, "--order", "2", "--format", "json"])
    assert outcome.code == 0 and outcome.stderr == ""
    record = json.loads(outcome.stdout)
    grad = json.loads(run(["grad", expr, "--x", "0.8", "--y", "0.6", "--order", "2",
                           "--format", "json"]).stdout)  # fmt: skip
    assert list(record) == [
        "schema", "expr", "point", "generic", "grad", "derivatives", "warnings"
    ]  # fmt: skip
    assert record["point"] == {"x": 0.8090169943749475, "y": 0.6180339887498949}
    assert record["generic"] is True
    assert record["derivatives"][1]["y"]["y"] == ("t1 = y^2 + 1; 8*y^2*sin(x)/t1^3 - 2*sin(x)/t1^2")
    # The same nesting as grad's, and each text evaluates to grad's number.
    for k, level in enumerate(record["derivatives"]):
        for key in itertools.product("xy", repeat=k + 1):
            text, number = level, grad["derivatives"][k]
            for name in key:
                text, number = text[name], number[name]
            value = json.loads(run(["eval", text, "--x", "0.8", "--y", "0.6",
                                    "--format", "json"]).stdout)["value"]  # fmt: skip
            assert value == pytest.approx(number, rel=1e-13)
    assert record["grad"] == record["derivatives"][0]
    without = json.loads(run(["diff", expr, "--format", "json"]).stdout)
    assert "derivatives" not in without and without["grad"] == record["grad"]


def test_json_at_a_point():
    outcome = run(["diff", "x*y", "--x", "2", "--y", "-1", "--format", "json"])
    assert json.loads(outcome.stdout) == {
        "schema": 1,
        "expr": "x*y",
        "point": {"x": 2.0, "y": -1.0},
        "generic": False,
        "grad": {"x": "y", "y": "x"},
        "warnings": [],
    }


def test_text_at_a_point_and_with_wrt():
    outcome = run(["diff", "x^y", "--x", "2", "--y", "3", "--wrt", "y"])
    assert outcome.stdout == "# holds at x = 2.0, y = 3.0\ndf/dy = log(x)*x^y\n"


def test_latex_output():
    outcome = run(["diff", "square(exp(square(x)))", "--order", "2", "--format", "latex"])
    assert outcome.stdout == (
        "% holds wherever the expression is smooth (generic point x = 0.8090169943749475)\n"
        "t_{1} = \\exp\\left(x^{2}\\right)\n"
        "\\frac{d f}{d x} = 4 x t_{1}^{2}\n"
        "\\frac{d^{2} f}{d x^{2}} = 4 t_{1}^{2} + 16 x^{2} t_{1}^{2}\n"
    )
    assert tex_label(("x", "x", "y"), True) == (
        "\\frac{\\partial^{3} f}{\\partial x^{2} \\partial y}"
    )
    from matplotlib.mathtext import MathTextParser

    for line in outcome.stdout.splitlines()[1:]:
        MathTextParser("path").parse(f"${line}$")
    MathTextParser("path").parse(f"${tex_label(('x', 'x', 'y'), True)}$")


LATEX_EXPRESSIONS = [
    "x*y + sin(x)/(1+y^2)",
    "sqrt(x)*exp(-x^2/2) + log(1 + x)",
    "where(x_1 > 0 and alpha < 1, sqrt(x_1)*abs(alpha), long_name^1e-5)",
    "tan(x)^y - cosh(x)/sinh(y) + 1e300*x + x/3",
    "(x < y) * 2 + (not (x > 1)) + (x >= y or y != 1)",
] + [call_of(name, cls) for name, cls in sorted(FUNCTIONS.items())]


@pytest.mark.parametrize("expr", LATEX_EXPRESSIONS)
def test_every_latex_line_renders_with_mathtext(expr):
    from matplotlib.mathtext import MathTextParser

    parser = MathTextParser("path")
    formulas = api.diff(expr, order=2)
    for left, right in formulas.listing(latex=True):
        parser.parse(f"${left} = {right}$")
    for key in formulas.levels[-1]:
        parser.parse(f"${formulas.formula(key, latex=True)}$")


def test_help_has_an_example():
    outcome = run(["diff", "--help"])
    assert outcome.code == 0
    assert "Example:" in outcome.stdout and "$ dezero diff" in outcome.stdout


# Errors: one line, exit 2.


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["sin(x)", "--x", "1,2"],
            "diff prints the formula at one point: give x one number, not 2",
        ),
        (
            ["x*y", "--x", "1"],
            "no value for variable 'y': give every variable a value (--y VALUE), or none for the "
            "formula at a generic point",
        ),
        (["sin(x)", "--wrt", "y"], "--wrt names 'y', which is not a variable of the expression"),
        (["x", "--order", "101"], "the order must be at most 100, got 101"),
        (
            ["x", "--format", "tex"],
            "Invalid value for '--format': 'tex' is not one of 'text', "
            "'json', 'latex'. (see 'dezero diff --help')",
        ),  # fmt: skip
        (["tanh(x)", "--order", "16"], None),
    ],
)
def test_errors(argv, message):
    outcome = run(["diff", *argv])
    assert outcome.code == 2 and outcome.stdout == ""
    lines = outcome.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    if message is not None:
        assert lines[0] == f"error: {message}"


def test_unused_values_warn():
    outcome = run(["diff", "x", "--x", "1", "--y", "2"])
    assert outcome.code == 0
    assert outcome.stderr == "warning: variable 'y' is given but not used in the expression\n"


def documented_examples() -> list[tuple[str, str, str]]:
    """(file, command line, output) for each `$ dezero diff` example in the docs and README."""
    import re
    import shlex
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    found = []
    for path in (root / "docs" / "diff.md", root / "README.md"):
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"^    \$ dezero (diff .*)\n((?:    (?!\$).*\n)*)", text, re.M):
            output = "".join(line[4:] + "\n" for line in match[2].splitlines())
            found.append((path.name, shlex.split(match[1]), output))
    return found


@pytest.mark.parametrize("where, argv, output", documented_examples())
def test_documented_examples(where, argv, output):
    outcome = run(argv)
    assert (outcome.code, outcome.stdout) == (0, output)


def test_help_example_is_true():
    example = run(["diff", "--help"]).stdout.split("Example:\n")[1]
    shown = [line.strip() for line in example.splitlines()[1:3]]
    assert "\n".join(shown) + "\n" == run(["diff", "square(exp(square(x)))"]).stdout


def test_the_terminal_rendering_has_the_text_of_the_plain_one():
    from dezero_cli.render.formulas import render_diff_rich, render_diff_text

    formulas = api.diff("tanh(x)*y", order=2)
    assert render_diff_rich(formulas).plain + "\n" == render_diff_text(formulas)
