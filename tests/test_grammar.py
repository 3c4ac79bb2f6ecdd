"""The expression language: precedence and associativity, conflicts, and syntax errors."""

from __future__ import annotations

import math
from pathlib import Path

import lark
import pytest

from dezero_cli import api
from dezero_cli.errors import ArityError, ExpressionSyntaxError, UnknownFunction
from dezero_cli.language.compiler import compile_expression

ROOT = Path(__file__).resolve().parent.parent

# text -> value; each expected value is worked out by hand from the precedence table
# (loosest first: + -, * /, unary - +, then right-associative ^ / **).
VALUES = [
    ("3", 3.0),
    ("0.5", 0.5),
    (".5", 0.5),
    ("5.", 5.0),
    ("1e-3", 0.001),
    ("2.5E+10", 25000000000.0),
    ("1E3", 1000.0),
    ("007", 7.0),
    ("pi", math.pi),
    ("e", math.e),
    ("1-2-3", -4.0),  # (1-2)-3, not 1-(2-3)
    ("1-2+3", 2.0),
    ("8/4/2", 1.0),  # (8/4)/2
    ("8/4*2", 4.0),
    ("2+3*4", 14.0),
    ("(2+3)*4", 20.0),
    ("2*3^2", 18.0),
    ("2^3^2", 512.0),  # 2^(3^2)
    ("2**3**2", 512.0),
    ("2^3**2", 512.0),
    ("(2^3)^2", 64.0),
    ("-2^2", -4.0),  # -(2^2)
    ("-2**2", -4.0),
    ("(-2)^2", 4.0),
    ("2^-1", 0.5),
    ("2^-1^2", 0.5),  # 2^(-(1^2))
    ("2^+1", 2.0),
    ("-2^-2", -0.25),
    ("--3", 3.0),
    ("---3", -3.0),
    ("-+-3", 3.0),
    ("+-+3", -3.0),
    ("+3", 3.0),
    ("2*-3", -6.0),
    ("2/-4", -0.5),
    ("2--3", 5.0),
    ("1 + -2", -1.0),
    ("-3*2", -6.0),
    ("- -2^2", 4.0),
    ("sin(0)", 0.0),
    ("cos(sin(0))", 1.0),
    ("pow(2, pow(2, 3))", 256.0),
    ("pow(2,3)^2", 64.0),
    ("-pow(2,2)", -4.0),
    ("sqrt(square(-3))", 3.0),
    ("exp(log(2)*3)", math.exp(math.log(2) * 3)),
    ("e^1", math.e),
    ("2*pi", 2 * math.pi),
    ("((((7))))", 7.0),
    (" 1 +\n2\t* 3 ", 7.0),
]


@pytest.mark.parametrize("text, expected", VALUES)
def test_value_table(text, expected):
    assert float(api.evaluate(text, {}).value) == expected


# With a variable: the same structure must hold when the leaves are not constants.
@pytest.mark.parametrize(
    "text, x, expected",
    [
        ("-x^2", 3.0, -9.0),
        ("x^-1", 4.0, 0.25),
        ("2^-x", 1.0, 0.5),
        ("x-x-x", 5.0, -5.0),
        ("x/x/x", 2.0, 0.5),
        ("x^x^x", 2.0, 16.0),
    ],
)
def test_value_table_with_variables(text, x, expected):
    assert float(api.evaluate(text, {"x": x}).value) == expected


def test_names_and_variables_in_order_of_first_use():
    program = api.as_program("zeta*_a1 + B + zeta + pi + e")
    assert program.variables == ("zeta", "_a1", "B")


def grammar_text() -> str:
    return (ROOT / "grammar" / "expression.lark").read_text(encoding="utf-8")


def strict_parser(text: str) -> lark.Lark:
    import interegular  # what strict mode checks regex collisions with: it must be there

    assert lark.lexer.has_interegular and interegular
    return lark.Lark(text, parser="lalr", lexer="contextual", maybe_placeholders=True, strict=True)


def test_grammar_has_no_conflicts_in_strict_mode():
    parser = strict_parser(grammar_text())  # raises on any shift/reduce or regex collision
    assert isinstance(parser.parse("-x^2 + sin(x, y) * 3"), lark.Tree)  # and it is usable


def test_strict_mode_would_catch_a_conflict():
    # Proof that the test above can fail: an ambiguous `sum - sum` rule is rejected.
    ambiguous = grammar_text().replace('sum "-" product', 'sum "-" sum')
    assert ambiguous != grammar_text()
    with pytest.raises(lark.exceptions.GrammarError):
        strict_parser(ambiguous)


def test_parse_is_not_recursive():
    depth = 20_000
    program = compile_expression("(" * depth + "x" + ")" * depth)
    assert program.variables == ("x",)
    result = api.grad("-" * depth + "x", {"x": 2.0})
    assert float(result.value) == 2.0 and float(result.grad["x"]) == 1.0


# text -> (error class, exact message, 0-based column of the caret)
ERRORS = [
    ("", ExpressionSyntaxError, "empty expression", 0),
    ("   ", ExpressionSyntaxError, "empty expression", 0),
    ("(x", ExpressionSyntaxError, "missing ')' at the end of the expression", 2),
    ("((x)", ExpressionSyntaxError, "missing ')' at the end of the expression", 4),
    ("sin(x", ExpressionSyntaxError, "missing ')' at the end of the expression", 5),
    ("(x+1   ", ExpressionSyntaxError, "missing ')' at the end of the expression", 4),
    ("x)", ExpressionSyntaxError, "unmatched ')'", 1),
    ("sin(x))", ExpressionSyntaxError, "unmatched ')'", 6),
    ("()", ExpressionSyntaxError, "unexpected ')'", 1),
    ("x+", ExpressionSyntaxError, "the expression ends too early", 2),
    ("1 +\n", ExpressionSyntaxError, "the expression ends too early", 3),
    ("x**", ExpressionSyntaxError, "the expression ends too early", 3),
    ("x++", ExpressionSyntaxError, "the expression ends too early", 3),
    ("x*/2", ExpressionSyntaxError, "unexpected '/'", 2),
    ("x^^2", ExpressionSyntaxError, "unexpected '^'", 2),
    ("*x", ExpressionSyntaxError, "unexpected '*'", 0),
    ("x,y", ExpressionSyntaxError, "unexpected ','", 1),
    ("1.2.3", ExpressionSyntaxError, "malformed number '1.2.3'", 0),
    ("x + 1.2.3", ExpressionSyntaxError, "malformed number '1.2.3'", 4),
    ("1..2", ExpressionSyntaxError, "malformed number '1..2'", 0),
    ("1e", ExpressionSyntaxError, "malformed number '1e'", 0),
    ("1e+", ExpressionSyntaxError, "malformed number '1e+'", 0),
    ("2e3e4", ExpressionSyntaxError, "malformed number '2e3e4'", 0),
    ("sinn(x)", UnknownFunction, "unknown function 'sinn': did you mean sin?", 0),
    ("x + Exp(x)", UnknownFunction, "unknown function 'Exp': did you mean exp?", 4),
    ("frob(x)", UnknownFunction, "unknown function 'frob': run 'dezero functions' for the list", 0),
    ("pow(x)", ArityError, "pow() takes 2 arguments, got 1", 0),
    ("sin(x, 1)", ArityError, "sin() takes 1 argument, got 2", 0),
    ("1 + sin()", ArityError, "sin() takes 1 argument, got 0", 4),
    ("sin x", ExpressionSyntaxError, "'sin' is a function: call it as sin(...)", 0),
    ("2x", ExpressionSyntaxError, "implicit multiplication is not supported: write 2*x", 1),
    ("3 x", ExpressionSyntaxError, "implicit multiplication is not supported: write 3*x", 2),
    (
        "2(x+1)",
        ExpressionSyntaxError,
        "implicit multiplication is not supported: write 2*(...)",
        1,
    ),
    ("x y", ExpressionSyntaxError, "implicit multiplication is not supported: write x*y", 2),
    ("x # 1", ExpressionSyntaxError, "unexpected character '#'", 2),
    ("x@y", ExpressionSyntaxError, "unexpected character '@'", 1),
    ("x ÷ 2", ExpressionSyntaxError, "unexpected character '÷'", 2),
    ("x²", ExpressionSyntaxError, "unexpected character '²'", 1),
    ("x\u00a0+ 1", ExpressionSyntaxError, "unexpected character U+00A0", 1),
    ("x = 1", ExpressionSyntaxError, "the last statement must be the result, not a definition", 2),
    ("x => 1", ExpressionSyntaxError, "unexpected '>'", 3),
    ('__import__("os")', ExpressionSyntaxError, "unexpected character '\"'", 11),
    ("x.__class__", ExpressionSyntaxError, "unexpected character '.'", 1),
]


@pytest.mark.parametrize("text, cls, message, column", ERRORS)
def test_syntax_errors(text, cls, message, column):
    with pytest.raises(ExpressionSyntaxError) as info:
        api.evaluate(text, {"x": 1.0, "y": 1.0})
    assert type(info.value) is cls
    assert info.value.message == message
    assert info.value.column == column


def test_caret_context_points_at_the_column():
    with pytest.raises(ExpressionSyntaxError) as info:
        api.evaluate("1 + 2x", {"x": 1.0})
    assert info.value.context() == ("1 + 2x", "     ^")


def test_caret_context_of_a_long_line_is_cut_around_the_column():
    text = "x+" * 100 + "2x" + "+x" * 100
    with pytest.raises(ExpressionSyntaxError) as info:
        api.evaluate(text, {"x": 1.0})
    line, caret = info.value.context()
    assert info.value.column == 201
    assert line.startswith("...") and line.endswith("...")
    assert line[len(caret) - 1] == "x" and line[len(caret) - 2] == "2"
    assert caret.strip() == "^"


def test_caret_context_on_a_multi_line_expression_shows_that_line():
    with pytest.raises(ExpressionSyntaxError) as info:
        api.evaluate("x +\n2 $ 1", {"x": 1.0})
    assert info.value.context() == ("2 $ 1", "  ^")
