"""Property tests: random expressions from the grammar against an independent evaluator.

Hypothesis builds expression trees here (numbers, constants, 1-3 variables, the operators and
calls of every registered function with its arity), prints them as text in several equivalent
spellings, and checks that dezero's value matches a direct numpy evaluation of the same tree,
that gradients match central differences where the function is smooth, and that every
spelling compiles to the same program.
"""

from __future__ import annotations

import functools
import math
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from references import REFERENCES, missing

from dezero_cli import api
from dezero_cli.engine.functions import FUNCTIONS

# Modest and the same cases on every default run, so that CI is reproducible (as the fuzz
# tests); DEZERO_EXAMPLES=5000 pytest tests/test_properties.py for a long run of new cases.
EXAMPLES = settings(
    max_examples=int(os.environ.get("DEZERO_EXAMPLES", "200")),
    deadline=None,  # the machine is shared: no timing in tests
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    derandomize="DEZERO_EXAMPLES" not in os.environ,
)

VARIABLES = ("x", "y", "z_1")


# Every registered function by its row in tests/references.py: numpy with dezero's very bits
# on float64 scalars. A function without such a row takes no part, and fails
# test_every_function_has_a_bitwise_reference, named.
REFERENCE = {
    name: row.bitwise for name, row in REFERENCES.items() if row.bitwise and name in FUNCTIONS
}
BINARY = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "^": np.power}
CALLABLE = sorted(REFERENCE)


def test_every_function_has_a_bitwise_reference():
    assert missing(FUNCTIONS) == [], "add a row to tests/references.py for each of these"
    assert sorted(set(FUNCTIONS) - set(REFERENCE)) == [], "these rows need same_bits"


# ---- Trees -------------------------------------------------------------------------------
# ("num", float) | ("const", "pi"|"e") | ("var", name) | ("neg"|"pos", a)
# | ("bin", op, a, b) | ("call", name, [args])

numbers = st.one_of(
    st.integers(0, 20).map(float),
    st.sampled_from([0.5, 0.25, 1.5, 2.5, 0.1, 3.0, 1e-3, 2.5e1]),
    st.floats(0.01, 10.0, allow_nan=False).map(lambda v: float(f"{v:.3g}")),
)
leaves = st.one_of(
    numbers.map(lambda v: ("num", v)),
    st.sampled_from(["pi", "e"]).map(lambda c: ("const", c)),
    st.sampled_from(VARIABLES).map(lambda n: ("var", n)),
    st.sampled_from(VARIABLES).map(lambda n: ("var", n)),
    st.sampled_from(VARIABLES).map(lambda n: ("var", n)),
)


def extend(children):
    def call(name):
        # Its arity (k or k + 1 arguments where it takes any number from k on), the static
        # ones first: numbers, those of the function's reference points (polygamma's n).
        arity = FUNCTIONS[name].arity
        least, most = arity if isinstance(arity, tuple) else (arity, arity)
        k = getattr(FUNCTIONS[name], "static_args", 0)
        fixed = st.tuples(
            *[st.sampled_from(sorted({p[j] for p in REFERENCES[name].points})) for j in range(k)]
        )
        rest = st.lists(
            children, min_size=least - k, max_size=(least + 1 if most is None else most) - k
        )
        return st.tuples(fixed, rest).map(
            lambda args: ("call", name, [("num", v) for v in args[0]] + args[1])
        )

    return st.one_of(
        st.tuples(st.just("bin"), st.sampled_from(sorted(BINARY)), children, children),
        st.tuples(st.sampled_from(["neg", "pos"]), children),
        st.sampled_from(CALLABLE).flatmap(call),
        st.sampled_from(CALLABLE).flatmap(call),
    )


trees = st.recursive(leaves, extend, max_leaves=10)


def evaluate(tree, values):
    """The independent evaluator: numpy on float64 scalars, straight from the tree."""
    kind = tree[0]
    if kind == "num":
        return np.float64(tree[1])
    if kind == "const":
        return np.float64(math.pi if tree[1] == "pi" else math.e)
    if kind == "var":
        return np.float64(values[tree[1]])
    if kind == "neg":
        return -evaluate(tree[1], values)
    if kind == "pos":
        return evaluate(tree[1], values)
    if kind == "bin":
        return BINARY[tree[1]](evaluate(tree[2], values), evaluate(tree[3], values))
    return REFERENCE[tree[1]](*[evaluate(a, values) for a in tree[2]])


def variables(tree) -> list[str]:
    """Variable names in order of first appearance in the printed text (left to right)."""
    seen: dict[str, None] = {}
    todo = [tree]
    while todo:
        node = todo.pop()
        if node[0] == "var":
            seen.setdefault(node[1], None)
        elif node[0] in ("neg", "pos"):
            todo.append(node[1])
        elif node[0] == "bin":
            todo.extend([node[3], node[2]])
        elif node[0] == "call":
            todo.extend(reversed(node[2]))
    return list(seen)


# ---- Printing ------------------------------------------------------------------------------
# Levels of the grammar, loosest first: sum 1, product 2, unary 3, power 4, atom 5.
LEVEL = {"+": 1, "-": 1, "*": 2, "/": 2, "^": 4}


def level(tree) -> int:
    if tree[0] == "bin":
        return LEVEL[tree[1]]
    return 3 if tree[0] in ("neg", "pos") else 5


def show(tree, style) -> str:
    """Print with the fewest parentheses the grammar needs (style 'min'), or with every
    sub-expression parenthesized, spaced, and `**` for power (style 'full')."""
    full = style == "full"

    def wrap(child, need):
        text = show(child, style)
        return (
            f"({text})"
            if full and child[0] not in ("num", "var", "const") or level(child) < need
            else text
        )

    kind = tree[0]
    if kind == "num":
        return repr(tree[1]) if not full else number_variant(tree[1])
    if kind in ("const", "var"):
        return tree[1]
    if kind in ("neg", "pos"):
        return ("-" if kind == "neg" else "+") + wrap(tree[1], 3)
    if kind == "bin":
        op = tree[1]
        if op == "^":  # atom POW unary: the base must be an atom, the exponent may be signed
            left, right = wrap(tree[2], 5), wrap(tree[3], 3)
        else:  # left-associative: the right operand must bind tighter
            left, right = wrap(tree[2], LEVEL[op]), wrap(tree[3], LEVEL[op] + 1)
        op = "**" if full and op == "^" else op
        return f"{left} {op} {right}" if full else f"{left}{op}{right}"
    sep = " , " if full else ","
    return f"{tree[1]}(" + sep.join(show(a, style) for a in tree[2]) + ")"


def number_variant(v: float) -> str:
    """Another spelling of the same float: `.5`, `5.`, `2.5E+1`."""
    text = f"{v:.17E}".replace("E+00", "E+0")
    if float(text) == v:
        return text
    return repr(v)


values_st = st.fixed_dictionaries({name: st.floats(0.2, 2.5) for name in VARIABLES})


@EXAMPLES
@given(tree=trees, values=values_st)
def test_value_matches_independent_evaluation(tree, values):
    text = show(tree, "min")
    used = variables(tree)
    given_values = {name: values[name] for name in used}
    with np.errstate(all="ignore"):
        expected = evaluate(tree, values)
    result = api.evaluate(text, given_values)
    # Same operations in the same order on float64: equal to the last bit (nan equals nan).
    np.testing.assert_array_equal(result.value, expected, err_msg=text)
    assert api.as_program(text).variables == tuple(used)
    assert (result.warnings == []) == bool(np.isfinite(expected)), (text, result.warnings)


def central_difference(f, values, name, h):
    up, down = dict(values), dict(values)
    up[name] += h
    down[name] -= h
    return (f(up) - f(down)) / (up[name] - down[name])


@EXAMPLES
@given(tree=trees, values=values_st)
def test_gradient_matches_central_differences(tree, values):
    if not variables(tree):  # keep the example: give it a variable to differentiate by
        tree = ("bin", "+", tree, ("var", "x"))
    text = show(tree, "min")
    used = variables(tree)
    given_values = {name: values[name] for name in used}
    with np.errstate(all="ignore"):
        f = float(evaluate(tree, values))
        result = api.grad(text, given_values)
        assert float(result.value) == f or (math.isnan(f) and math.isnan(float(result.value)))
        for name in used:
            g = float(result.grad[name])
            assume(math.isfinite(f) and math.isfinite(g))
            # Central differences at two steps: h = cbrt(eps) * scale is where truncation
            # error O(h^2 f''') and rounding error O(eps * |f| / h) balance. If the two
            # estimates (steps h and h/2) disagree by more than 1e-6 relative, the point is
            # near a kink, a pole or a cancellation and the estimate itself is unreliable:
            # skip it. Where they agree, the truncation error of the h/2 estimate is about a
            # third of their difference, so 1e-5 relative (plus an absolute floor for
            # derivatives that are zero) is a safe yet still demanding bound.
            h = np.cbrt(np.finfo(float).eps) * max(1.0, abs(values[name]))
            d1 = central_difference(lambda v: float(evaluate(tree, v)), values, name, h)
            d2 = central_difference(lambda v: float(evaluate(tree, v)), values, name, h / 2)
            assume(math.isfinite(d1) and math.isfinite(d2))
            scale = max(abs(d1), abs(d2), 1e-300)
            assume(abs(d1 - d2) <= 1e-6 * scale + 1e-9 * (1.0 + abs(f)))
            # A kink is symmetric enough to pass that test (relu(x - 1) at 1: both steps give
            # 1/2), but there the two one-sided slopes differ by the jump of the derivative,
            # while where f is smooth they differ by about h f''. Skip kinks: what a function
            # gives at one (relu'(0) = 0, 1 at a bound of clip) is a convention, checked in
            # test_numerics.
            right = central_difference(lambda v: float(evaluate(tree, v)), values, name, h / 4)
            up = dict(values, **{name: values[name] + h / 2})
            slope = (float(evaluate(tree, up)) - f) / (up[name] - values[name])
            assume(abs(slope - right) <= 1e-3 * scale + 1e-9 * (1.0 + abs(f)))
            assert g == pytest.approx(d2, rel=1e-5, abs=1e-7 * (1.0 + abs(f))), (text, name)


@EXAMPLES
@given(tree=trees, values=values_st)
def test_every_spelling_compiles_to_the_same_program(tree, values):
    minimal, full = show(tree, "min"), show(tree, "full")

    # The same steps; only the labels, which name each call as written (`^`, `**`), may differ.
    # A call with static arguments (polygamma's n) is a factory made for it: the same function
    # with the same arguments.
    def computation(text):
        return [
            (kind, (arg.func, arg.args) if isinstance(arg, functools.partial) else arg, n)
            for kind, arg, n, _ in api.as_program(text).steps
        ]

    assert computation(minimal) == computation(full), (minimal, full)
    given_values = {name: values[name] for name in variables(tree)}
    a = api.grad(minimal, given_values)
    b = api.grad(full, given_values)
    np.testing.assert_array_equal(a.value, b.value)
    assert a.grad.keys() == b.grad.keys()
    for name in a.grad:
        np.testing.assert_array_equal(a.grad[name], b.grad[name])


@settings(max_examples=100, deadline=None)
@given(v=st.floats(0, 1e300, allow_nan=False, allow_infinity=False))
def test_printed_numbers_read_back_exactly(v):
    for text in (repr(v), number_variant(v)):
        assert float(api.evaluate(text, {}).value) == v
        result = api.grad("x", {"x": api.parse_value(text)})
        assert float(result.value) == v


@settings(max_examples=40, deadline=None)
@given(xs=st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=5))
def test_vector_values_are_elementwise(xs):
    text = ",".join(repr(x) for x in xs)
    values = api.parse_value(text)
    result = api.grad("sin(x)*x", {"x": values})
    x = np.array(xs)
    np.testing.assert_array_equal(
        result.value, np.sin(x) * x if len(xs) > 1 else np.sin(x[0]) * x[0]
    )
    np.testing.assert_allclose(result.grad["x"], np.cos(x) * x + np.sin(x), rtol=1e-12, atol=1e-300)


def test_the_printer_needs_and_adds_parentheses_where_the_grammar_does():
    # The printer's own test: the fixed cases it must get right for the properties to mean much.
    x, two = ("var", "x"), ("num", 2.0)
    assert show(("bin", "-", x, ("bin", "-", x, x)), "min") == "x-(x-x)"
    assert show(("bin", "-", ("bin", "-", x, x), x), "min") == "x-x-x"
    assert show(("bin", "^", ("bin", "^", x, two), two), "min") == "(x^2.0)^2.0"
    assert show(("bin", "^", x, ("bin", "^", x, two)), "min") == "x^x^2.0"
    assert show(("neg", ("bin", "^", x, two)), "min") == "-x^2.0"
    assert show(("bin", "^", ("neg", x), two), "min") == "(-x)^2.0"
    assert show(("bin", "^", two, ("neg", x)), "min") == "2.0^-x"
    assert show(("bin", "*", x, ("neg", x)), "min") == "x*-x"
    assert show(("call", "pow", [x, two]), "full") == "pow(x , 2.00000000000000000E+0)"
