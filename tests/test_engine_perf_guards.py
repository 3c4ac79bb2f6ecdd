"""Guards for what the speed work added: each fast path must agree with the plain one."""

from __future__ import annotations

import math
import os
import pickle
import stat

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dezero_cli import compiler, lalr, parser
from dezero_cli.core import ONE, Function, Mul, Variable, no_grad
from dezero_cli.errors import DezeroError
from dezero_cli.functions import FUNCTIONS, Cos, Sin, Tanh

# --- the LALR loop of lalr.py against Lark's parse tree ----------------------------------------

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
    "tanh(sin(tanh(x)))",
    "x1 + _a2 - e * E",
    "1e5 + 2.5E+10 * e1",
    "x**-y**2",
    "2 ^ 3 ** 2",
    "pow(sin(x),\t\r\n2)",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_fast_compile_equals_tree_compile(text):
    fast = compiler._compile_fast(text)
    assert fast is not None
    assert fast == compiler._compile_tree(text)


BAD = [
    "",
    "   ",
    "2x",
    "x +",
    "(x",
    "x)",
    "1.2.3",
    "sin x",
    "foo(x)",
    "sin(x, y)",
    "pow(x)",
    "sin",
    "x $ y",
    "x ^^ 2",
    "f()",
]


@pytest.mark.parametrize("text", BAD)
def test_text_with_a_problem_gets_the_reference_error(text):
    assert compiler._compile_fast(text) is None
    with pytest.raises(DezeroError) as reference:
        compiler._compile_tree(text)
    compiler.compile_expression.cache_clear()
    with pytest.raises(DezeroError) as got:
        compiler.compile_expression(text)
    assert type(got.value) is type(reference.value)
    assert got.value.message == reference.value.message
    assert getattr(got.value, "column", None) == getattr(reference.value, "column", None)


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
            st.builds(lambda s, a: f"{s}{a}", st.sampled_from(["-", "+", "- "]), inner),
            st.builds(lambda a, b: f"pow({a}, {b})", inner, inner),
        )

    return st.recursive(leaf, grow, max_leaves=12)


@settings(max_examples=150, deadline=None)
@given(expressions())
def test_fast_compile_equals_tree_compile_on_random_text(text):
    assert compiler._compile_fast(text) == compiler._compile_tree(text)


def test_deep_text_compiles_without_recursion():
    depth = 100_000
    program = compiler._compile_fast("sin(" * depth + "x" + ")" * depth)
    assert program.size() == depth
    assert program.variables == ("x",)


# --- the cached tables -------------------------------------------------------------------------


LEAVES = {"name": lambda children: 1, "number": lambda children: 1}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DEZERO_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(lalr, "_tables", None)
    return tmp_path


def test_tables_are_cached_and_read_back(cache):
    built = lalr.get_tables()
    (path,) = cache.glob("tables-*.pickle")
    assert stat.S_IMODE(path.stat().st_mode) & 0o022 == 0
    loaded = lalr._load(str(path), parser.grammar_text())
    assert loaded is not None and loaded.data() == built.data()
    assert lalr.parse("x+1", LEAVES, loaded) == 2  # two operands: rules without callbacks add up


def test_tables_from_a_freshly_built_parser_are_plain_data(cache):
    # A new Lark parser names symbols with Token objects; the cache must hold plain str.
    grammar = parser.grammar_text()
    built = lalr.tables_from_lark(parser.build_parser(grammar), grammar)
    path = cache / "tables-fresh.pickle"
    lalr._save(built, str(path))
    loaded = lalr._load(str(path), grammar)
    assert loaded is not None and loaded.data() == built.data()


def test_cache_that_others_can_write_is_ignored(cache):
    lalr.get_tables()
    (path,) = cache.glob("tables-*.pickle")
    os.chmod(path, 0o666)
    assert lalr._load(str(path), parser.grammar_text()) is None


def test_cache_for_another_grammar_is_ignored(cache):
    lalr.get_tables()
    (path,) = cache.glob("tables-*.pickle")
    assert lalr._load(str(path), parser.grammar_text() + "\n// changed") is None


def test_cache_holding_anything_but_plain_data_is_refused(cache):
    path = cache / "tables-evil.pickle"
    with open(path, "wb") as f:
        pickle.dump(os.getcwd, f)  # unpickling would import and look up a callable
    os.chmod(path, 0o600)
    assert lalr._load(str(path), parser.grammar_text()) is None


def test_unwritable_cache_dir_still_parses(cache, monkeypatch):
    monkeypatch.setenv("DEZERO_CACHE_DIR", "/proc/no-such-dir/dezero")
    assert lalr.parse("sin(x, 2)", LEAVES) == 2


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


# --- start-up: what a command imports ------------------------------------------------------------

IMPORTS = """
import sys
from dezero_cli.cli import main
main(sys.argv[1:])
print(" ".join(sorted(m for m in ("lark", "interegular", "pathlib", "json", "hashlib", "rich")
                      if m in sys.modules)))
"""


@pytest.mark.parametrize(
    "argv, imported",
    [
        (["grad", "square(exp(square(x)))", "--x", "0.5"], ""),
        (["grad", "x^2", "--x", "3", "--format", "json"], "json"),
        # A syntax error needs Lark to explain it, but never interegular (grammar checks only).
        (["grad", "sin(x", "--x", "1"], "hashlib lark pathlib"),
    ],
)
def test_a_command_imports_only_what_it_needs(argv, imported, tmp_path):
    import subprocess
    import sys

    env = dict(os.environ, DEZERO_CACHE_DIR=str(tmp_path))
    subprocess.run([sys.executable, "-c", IMPORTS, "grad", "x", "--x", "1"], env=env, check=True)
    out = subprocess.run(
        [sys.executable, "-c", IMPORTS, *argv], env=env, capture_output=True, text=True
    )
    assert out.stdout.splitlines()[-1] == imported
