"""The parse loop against Lark, the grammar's authority, and the tables against the grammar.

Lark builds the LALR tables from grammar/expression.lark ahead of time (grammar/
generate_tables.py); at run time the loop in dezero_cli/language/parse.py reads them without
Lark. Here Lark parses the same texts with the same grammar: the loop must accept exactly what
Lark accepts, and reject the rest at the same place, for the same reason.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import lark
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dezero_cli.engine.functions import FUNCTIONS
from dezero_cli.errors import DezeroError, ExpressionSyntaxError
from dezero_cli.language import tables
from dezero_cli.language.compiler import _compile, compile_expression
from dezero_cli.language.parse import explain, parse

ROOT = Path(__file__).resolve().parent.parent
GRAMMAR = (ROOT / "grammar" / "expression.lark").read_text(encoding="utf-8")


def load_generator():
    spec = importlib.util.spec_from_file_location(
        "generate_tables", ROOT / "grammar" / "generate_tables.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GENERATOR = load_generator()
LARK = lark.Lark(GRAMMAR, **GENERATOR.OPTIONS)


def test_the_committed_tables_are_those_the_grammar_gives():
    committed = (ROOT / "dezero_cli" / "language" / "tables.py").read_text(encoding="utf-8")
    assert committed == GENERATOR.module_text(GRAMMAR), "run python grammar/generate_tables.py"
    assert committed.splitlines()[0].startswith("# Generated from grammar/expression.lark by")


def test_the_generator_check_fails_on_stale_tables(tmp_path, monkeypatch):
    stale = tmp_path / "tables.py"
    stale.write_text("ACTIONS = {}\n")
    monkeypatch.setattr(GENERATOR, "TABLES", stale)
    monkeypatch.setattr(sys, "argv", ["generate_tables.py", "--check"])
    assert GENERATOR.main() == 1
    monkeypatch.setattr(sys, "argv", ["generate_tables.py"])
    assert GENERATOR.main() == 0
    monkeypatch.setattr(sys, "argv", ["generate_tables.py", "--check"])
    assert GENERATOR.main() == 0


def test_the_tables_do_not_depend_on_the_hash_seed():
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT / 'grammar')!r}); import generate_tables as g; "
        "sys.stdout.write(g.module_text(g.GRAMMAR.read_text()))"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env={"PYTHONHASHSEED": seed, "PATH": ""},
            check=True,
        ).stdout
        for seed in ("0", "1", "12345")
    }
    assert len(outputs) == 1


def lark_view(text: str):
    """What Lark makes of `text`: None when it parses, else our sentence for its rejection."""
    try:
        LARK.parse(text)
    except lark.exceptions.UnexpectedCharacters as exc:
        error = explain(text, exc.pos_in_stream)
    except lark.exceptions.UnexpectedToken as exc:
        token = exc.token
        if token.type == "$END":
            error = explain(text, len(text), "$END")
        else:
            error = explain(text, token.end_pos, token.type, str(token), token.start_pos)
    else:
        return None
    return error.message, error.column


LEAVES = {"name": lambda children: 1, "number": lambda children: 1}


def loop_view(text: str):
    try:
        parse(text, LEAVES)
    except ExpressionSyntaxError as exc:
        return exc.message, exc.column
    return None


SAMPLES = [
    "square(exp(square(x)))",
    "-x^2",
    "2^3^2",
    "2**-1",
    "1-2-3",
    "8/4/2",
    "+-+x",
    "pow(x, y) * (x + 1)",
    "sin(x)*cos(x)^2",
    "x*y + sin(x)/(1+y^2)",
    ".5 + 1e-3 - 2.5E+10 + 3.",
    "pi * e - x",
    " \t x \n",
    "((((x))))",
    "x1 + _a2 - e * E",
    "1e5 + 2.5E+10 * e1",
    "x**-y**2",
    "2 ^ 3 ** 2",
    "pow(sin(x),\t\r\n2)",
    # rejected:
    "2x",
    "x +",
    "(x",
    "x)",
    "1.2.3",
    "sin x",
    "x $ y",
    "x ^^ 2",
    "x***2",
    "()",
    "x,y",
    "f(,)",
    "1..2",
    "2e3e4",
    "x\u00a0+ 1",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_the_loop_agrees_with_lark(text):
    assert loop_view(text) == lark_view(text)


def texts():
    """Random text over the language's alphabet: mostly rejected, some accepted."""
    pieces = st.sampled_from(
        ["x", "y", "sin", "pow", "2", "0.5", ".5", "1e3", "e", "(", ")", ",", "+", "-", "*", "/",
         "^", "**", " ", "\n", "#", "1.", "e5", "_a"]
    )  # fmt: skip
    return st.lists(pieces, min_size=1, max_size=14).map("".join)


@settings(max_examples=600, deadline=None)
@given(texts())
def test_the_loop_agrees_with_lark_on_random_text(text):
    if text.strip():
        assert loop_view(text) == lark_view(text)


def expressions():
    leaf = st.sampled_from(["x", "y", "2", "0.5", "pi", "1e-3", ".25"])
    unary = sorted(name for name, cls in FUNCTIONS.items() if cls.arity == 1)

    def grow(inner):
        return st.one_of(
            st.builds(lambda f, a: f"{f}({a})", st.sampled_from(unary), inner),
            st.builds(
                lambda a, op, b: f"{a}{op}{b}",
                inner,
                st.sampled_from(["+", "-", "*", "/", "^", "**", " + ", " ^ "]),
                inner,
            ),
            st.builds(lambda a: f"({a})", inner),
            st.builds(lambda a: f"-{a}", inner),
            st.builds(lambda a, b: f"pow({a}, {b})", inner, inner),
        )

    return st.recursive(leaf, grow, max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(expressions())
def test_every_valid_expression_parses(text):
    assert lark_view(text) is None and loop_view(text) is None


def test_deep_text_parses_without_recursion():
    depth = 100_000
    program = compile_expression("sin(" * depth + "x" + ")" * depth)
    assert program.size() == depth
    assert program.variables == ("x",)


def test_rules_without_callbacks_add_up_their_operands():
    assert parse("x+1", LEAVES) == 2
    assert parse("sin(x, 2)", LEAVES) == 2


# The first problem in reading order is reported, a syntax error before any other.
@pytest.mark.parametrize(
    "text, message",
    [
        ("foo(x) + 2x", "implicit multiplication is not supported: write 2*x"),
        ("frob(x) + bar(y)", "unknown function 'frob': run 'dezero functions' for the list"),
        ("sin(x, 1) + 1e999", "sin() takes 1 argument, got 2"),
        ("1e999 + sin", "number 1e999 is outside the float64 range (largest about 1.8e308)"),
        ("bar(frob(x))", "unknown function 'frob': run 'dezero functions' for the list"),
    ],
)
def test_a_syntax_error_comes_before_other_problems(text, message):
    _compile.cache_clear()
    with pytest.raises(DezeroError) as info:
        compile_expression(text)
    assert info.value.message == message


def test_running_needs_no_lark(tmp_path, dezero_process):
    # Lark cannot even be imported here (a module of that name that refuses, first on the
    # path): every command, and every syntax error, still works.
    (tmp_path / "lark.py").write_text("raise ImportError('no Lark at run time')\n")
    env = {"PYTHONPATH": str(tmp_path)}
    ok = dezero_process("grad", "x^2 + sin(x)", "--x", "1", env=env)
    assert (ok.code, ok.stderr) == (0, "")
    bad = dezero_process("grad", "2x", "--x", "1", env=env)
    assert bad == (
        2,
        "",
        "error: implicit multiplication is not supported: write 2*x\n  2x\n   ^\n",
    )


def test_the_tables_are_plain_data():
    plain = (dict, list, tuple, str, int)

    def check(value):
        assert isinstance(value, plain), value
        if isinstance(value, dict):
            for k, v in value.items():
                check(k)
                check(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                check(v)

    for name in ("TERMINALS", "LITERALS", "KEYWORDS", "IGNORE", "RULES", "ACTIONS", "GOTOS"):
        check(getattr(tables, name))
