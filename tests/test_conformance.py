"""Conformance with an independent symbolic reference: SymPy differentiates, mpmath evaluates.

A seeded generator makes random expressions over every registered function and every operator,
with one to three variables, and a random point for each. `dezero` computes the value and all
partial derivatives of orders 1, 2 and 3 (the higher ones by `backward(create_graph=True)`
through the library's Variables); SymPy differentiates the same expression symbolically and
mpmath evaluates the result at 50 digits. They must agree to 1e-9 relative.

Only where the reference is well-conditioned. A case is judged by Monte Carlo arithmetic: the
reference formula is evaluated three more times with every intermediate result multiplied by
(1 + d), d uniform in [-2^-53, 2^-53], which is what rounding to float64 can do to it. If that
moves the result by more than 1e-11 relative, float64 cannot be expected to reach 1e-9 there
and the entry is counted as ill-conditioned instead (skipped, and reported). Points where an
intermediate leaves its real domain, comes near a kink or a pole, or overflows are redrawn.

    python tests/test_conformance.py [CASES]    # prints the agreement counts, and any case
                                                # that disagrees
"""

from __future__ import annotations

import random
import sys
from collections import Counter
from dataclasses import dataclass

import mpmath as mp
import numpy as np
import pytest
import sympy as sp
from references import REFERENCES, ROWS, missing

from dezero_cli import api
from dezero_cli.engine.core import Variable
from dezero_cli.engine.functions import FUNCTIONS
from dezero_cli.language.compiler import compile_expression

CASES = 300
SEED = 20261122
RTOL = 1e-9
CONDITION = 1e-11  # largest relative spread under simulated rounding for a comparable entry
mp.mp.dps = 50

# The reference for each registered function is its row in tests/references.py: SymPy to
# differentiate, mpmath to evaluate, and the domain where a comparison is fair. A function
# without a row takes no part here, and fails test_every_function_has_a_reference, named.
CALLABLE = sorted(name for name in FUNCTIONS if name in REFERENCES)
OPERATORS = ["+", "-", "*", "/", "^", "**", "neg", "pos"]
CONSTANTS = ["2", "3", "0.5", "1.5", "0.25", "pi", "e", "1e-1"]
NAMES = ["x", "y", "z"]


def arguments(rng: random.Random, name: str) -> int:
    """How many arguments a call of `name` gets: its arity, or for one that takes any number
    from k on, k or k + 1."""
    arity = FUNCTIONS[name].arity
    least, most = arity if isinstance(arity, tuple) else (arity, arity)
    return rng.choice([least, least + 1]) if most is None else rng.randint(least, most)


def statics(name: str) -> list[list[str]]:
    """For each static argument of `name` (a number in the text, as polygamma's n), the values
    it is tested with: those of its reference row's points."""
    k = getattr(FUNCTIONS[name], "static_args", 0)
    return [sorted({repr(int(p[j])) for p in REFERENCES[name].points}) for j in range(k)]


class OutsideDomain(Exception):
    """The point is no good for this expression: draw another."""


@dataclass
class Node:
    """A generated expression: `op` is a function name, an operator, 'var' or 'const'."""

    op: str
    args: tuple = ()
    leaf: str = ""


def generate(rng: random.Random, names: list[str], must: str, depth: int = 3) -> Node:
    """A random expression of at most `depth` levels whose root applies `must`."""

    unused = list(names)

    def leaf() -> Node:
        if rng.random() < 0.7:  # each variable once before any repeats
            return Node("var", leaf=unused.pop(0) if unused else rng.choice(names))
        return Node("const", leaf=rng.choice(CONSTANTS))

    def build(op: str, level: int) -> Node:
        if op in OPERATORS:
            return Node(op, tuple(grow(level - 1) for _ in range(1 if op in ("neg", "pos") else 2)))
        fixed = tuple(Node("const", leaf=rng.choice(values)) for values in statics(op))
        n = arguments(rng, op) - len(fixed)
        return Node(op, fixed + tuple(grow(level - 1) for _ in range(n)))

    def grow(level: int) -> Node:
        if level <= 0 or rng.random() < 0.25:
            return leaf()
        pick = rng.random()
        op = rng.choice(CALLABLE if pick < 0.5 else OPERATORS)
        return build(op, level)

    return build(must, depth)


def text_of(node: Node) -> str:
    if node.op == "var" or node.op == "const":
        return node.leaf
    args = [text_of(a) for a in node.args]
    if node.op in ("neg", "pos"):
        return ("-" if node.op == "neg" else "+") + f"({args[0]})"
    if node.op in OPERATORS:
        return f"({args[0]}){node.op}({args[1]})"
    return f"{node.op}({', '.join(args)})"


def sympy_of(node: Node, symbols: dict, point: dict):
    """The SymPy expression. A function with a `near` form in its row (abs, max, floor, ...)
    becomes the smooth piece its arguments' values at `point` are on: the same function near
    the point (which is away from the kinks and jumps), and SymPy differentiates it without
    leaving unevaluated Derivative(sign(...)) or Heaviside terms."""
    if node.op == "var":
        return symbols[node.leaf]
    if node.op == "const":
        return {"pi": sp.pi, "e": sp.E}.get(node.leaf) or sp.Rational(node.leaf)
    args = [sympy_of(a, symbols, point) for a in node.args]
    row = REFERENCES.get(node.op)
    if row is not None and row.near is not None:
        return row.near([check_domain(a, point) for a in node.args], *args)
    if node.op == "neg":
        return -args[0]
    if node.op == "pos":
        return args[0]
    if node.op in OPERATORS:
        a, b = args
        return binary(node.op, a, b, lambda a, b: a**b)
    return REFERENCES[node.op].sympy(*args)


def binary(op: str, a, b, power):
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return a / b
    return power(a, b)


def check_domain(node: Node, point: dict) -> mp.mpf:
    """The value at `point`; OutsideDomain where dezero and the reference may rightly differ."""
    if node.op == "var":
        return mp.mpf(point[node.leaf])
    if node.op == "const":
        return {"pi": mp.pi, "e": mp.e}.get(node.leaf) or mp.mpf(node.leaf)
    args = [check_domain(a, point) for a in node.args]
    op = node.op
    if op == "/" and abs(args[1]) < 1e-6:
        raise OutsideDomain
    if op in ("^", "**", "pow"):  # one function, Pow: its row's domain, and one more case
        a, b = args
        domain = REFERENCES["pow"].domain
        # A negative base is fine with a constant integer exponent: a^b is then real near
        # the point, and it is not differentiated by b.
        constant_integer = node.args[1].op == "const" and b == int(b)
        if not (domain(a, b) or (constant_integer and a < -1e-3 and domain(-a, b))):
            raise OutsideDomain
    elif op in REFERENCES and not REFERENCES[op].domain(*args):
        raise OutsideDomain  # outside the real domain, or near a kink or a pole
    if op == "neg":
        value = -args[0]
    elif op == "pos":
        value = args[0]
    elif op in OPERATORS:
        a, b = args
        value = binary(op, a, b, mp.power)
    else:
        value = REFERENCES[op].mpmath(*args)
    if not isinstance(value, mp.mpf) or abs(value) > 1e12:
        raise OutsideDomain
    return value


def evaluate(expr, point: dict, rng: random.Random | None = None):
    """A SymPy expression at `point` in mpmath; with `rng`, every operation's result is
    perturbed by one float64 rounding. A loop over the tree, with shared parts done once."""
    done: dict = {}
    todo = [expr]
    while todo:
        e = todo[-1]
        if e in done:
            todo.pop()
            continue
        pending = [a for a in e.args if a not in done]
        if pending:
            todo.extend(pending)
            continue
        todo.pop()
        done[e] = _apply(e, [done[a] for a in e.args], point)
        if rng is not None and e.args and isinstance(done[e], mp.mpf):
            done[e] *= 1 + mp.mpf(rng.uniform(-1, 1)) * mp.mpf(2) ** -53
    return done[expr]


def _apply(e, args: list, point: dict):
    if e.is_Symbol:
        return mp.mpf(point[e.name])
    if e.is_Number or e.is_NumberSymbol:
        return mp.mpf(e.evalf(60))
    if e.is_Add:
        return mp.fsum(args)
    if e.is_Mul:
        return mp.fprod(args)
    if e.is_Pow:
        return mp.power(*args)
    if e is sp.true or e is sp.false:  # the pieces of a Piecewise (where)
        return bool(e)
    if isinstance(e, sp.core.relational.Relational):
        return RELATIONS[e.rel_op](*args)
    if isinstance(e, sp.functions.elementary.piecewise.ExprCondPair):
        return tuple(args)
    if isinstance(e, sp.Piecewise):
        return next(value for value, holds in args if holds)
    # Conditions SymPy rewrites a Piecewise inside another's condition into.
    if isinstance(e, sp.ITE):
        return args[1] if args[0] else args[2]
    if isinstance(e, (sp.And, sp.Or, sp.Not)):
        return {sp.And: all, sp.Or: any, sp.Not: lambda a: not a[0]}[e.func](args)
    if isinstance(e, sp.DiracDelta):
        if args[0] == 0:
            raise OutsideDomain
        return mp.mpf(0)
    return SYMPY_TO_MPMATH[e.func](*args)


RELATIONS = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}

# The SymPy functions that expressions and their derivatives are written in, to mpmath: those
# of the reference rows, sign (the derivative of abs), and zeta (SymPy writes polygamma(2, 1)
# as -2*zeta(3)).
SYMPY_TO_MPMATH = {
    row.sympy: row.mpmath for row in ROWS if isinstance(row.sympy, sp.FunctionClass)
} | {sp.sign: mp.sign, sp.zeta: mp.zeta}


@dataclass
class Case:
    index: int
    text: str
    names: list[str]
    point: dict[str, float]
    tree: Node


def make_cases(count: int = CASES, seed: int = SEED) -> list[Case]:
    """`count` cases; case i applies function or operator i (cyclically) at its root."""
    rng = random.Random(seed)
    roots = CALLABLE + OPERATORS
    cases = []
    while len(cases) < count:
        names = NAMES[: rng.choice([1, 2, 3, 3])]
        tree = generate(rng, names, roots[len(cases) % len(roots)])
        used = sorted({n.leaf for n in walk(tree) if n.op == "var"})
        if not used:
            continue
        for _ in range(20):  # a point inside the domain, if one is easy to find
            point = {name: round(rng.uniform(-2.5, 2.5), rng.choice([1, 3, 17])) for name in used}
            try:
                check_domain(tree, point)
            except (OutsideDomain, ZeroDivisionError, ValueError, OverflowError):
                continue
            cases.append(Case(len(cases), text_of(tree), used, point, tree))
            break
    return cases


def walk(node: Node):
    todo = [node]
    while todo:
        n = todo.pop()
        yield n
        todo.extend(n.args)


def dezero_derivatives(case: Case) -> dict[tuple[str, ...], float]:
    """Value and partials up to order 3 from the library: key () is the value, (x, y) d2/dxdy."""
    program = compile_expression(case.text)
    xs = {name: Variable(np.array(case.point[name]), name) for name in program.variables}
    out: dict[tuple[str, ...], float] = {}
    with np.errstate(all="ignore"):
        level = {(): program.run(xs)}
        out[()] = float(level[()].data)
        for order in (1, 2, 3):
            following = {}
            for key, v in level.items():
                grads = backprop(v, xs, create_graph=order < 3)
                for name in case.names:
                    if key and name < key[-1]:
                        continue  # non-decreasing keys: each distinct partial once
                    following[key + (name,)] = grads[name]
            for key, g in following.items():
                out[key] = 0.0 if g is None else float(g.data)
            level = following
    return out


def backprop(v: Variable | None, xs: dict, create_graph: bool) -> dict:
    if v is None or v.creator is None:
        return {name: (None if v is not x else Variable(np.array(1.0))) for name, x in xs.items()}
    for x in xs.values():
        x.grad = None
    v.grad = None
    v.backward(create_graph=create_graph)
    grads = {name: x.grad for name, x in xs.items()}
    for x in xs.values():
        x.grad = None
    return grads


def reference(case: Case, keys) -> dict[tuple[str, ...], tuple[mp.mpf, bool]]:
    """For each key, (the reference value, whether it is well-conditioned)."""
    symbols = {name: sp.Symbol(name, real=True) for name in NAMES}
    exprs = {(): sympy_of(case.tree, symbols, case.point)}
    noise = random.Random(case.index)
    out = {}
    for key in sorted(keys, key=len):
        if key:
            exprs[key] = sp.diff(exprs[key[:-1]], symbols[key[-1]])
        exact = evaluate(exprs[key], case.point)
        spread = max(abs(evaluate(exprs[key], case.point, noise) - exact) for _ in range(3))
        out[key] = (exact, spread <= CONDITION * abs(exact))
    return out


def compare(case: Case) -> Counter:
    """Counts of outcomes; raises AssertionError naming the first disagreement."""
    got = dezero_derivatives(case)
    try:
        ref = reference(case, got.keys())
    except OutsideDomain:
        return Counter(outside_domain=1)
    counts: Counter = Counter()
    scale = {
        k: max([1.0] + [abs(float(r)) for key, (r, _) in ref.items() if len(key) == k])
        for k in range(4)
    }
    for key, value in got.items():
        exact, conditioned = ref[key]
        if exact == 0:
            # A symbolic zero: small against the other entries of that order.
            assert abs(value) <= RTOL * scale[len(key)], (case.text, case.point, key, value)
            counts[f"order {len(key)}: exact zero"] += 1
        elif not conditioned:
            counts[f"order {len(key)}: ill-conditioned"] += 1
        else:
            want = float(exact)
            assert abs(value - want) <= RTOL * abs(want), (case.text, case.point, key, value, want)
            counts[f"order {len(key)}: agree"] += 1
    return counts


CASE_LIST = make_cases()


def well_conditioned(text: str, point: dict, key: tuple = ()) -> bool:
    case = Case(0, text, sorted(point), point, parse_tree(text))
    return reference(case, [key[:i] for i in range(len(key) + 1)])[key][1]


def parse_tree(text: str) -> Node:
    """The few shapes the judge test needs, as Nodes."""
    trees = {
        "exp(x) - (1 + x)": Node(
            "-",
            (
                Node("exp", (Node("var", leaf="x"),)),
                Node("+", (Node("const", leaf="1"), Node("var", leaf="x"))),
            ),
        ),
        "sin(x)": Node("sin", (Node("var", leaf="x"),)),
    }
    return trees[text]


def test_the_conditioning_judge_tells_cancellation_from_a_benign_case():
    # exp(x) - (1 + x) near 0 cancels (value x^2/2 from terms near 1); its derivative
    # exp(x) - 1 too. sin and its derivatives are benign at 1.
    assert not well_conditioned("exp(x) - (1 + x)", {"x": 1e-6})
    assert not well_conditioned("exp(x) - (1 + x)", {"x": 1e-6}, ("x",))
    assert well_conditioned("exp(x) - (1 + x)", {"x": 1e-6}, ("x", "x"))  # exp(x), no cancelling
    assert well_conditioned("sin(x)", {"x": 1.0}, ("x", "x", "x"))


def test_every_function_has_a_reference():
    assert missing(FUNCTIONS) == [], "add a row to tests/references.py for each of these"


def test_cases_cover_every_function_and_operator():
    used = {n.op for case in CASE_LIST for n in walk(case.tree)}
    assert set(FUNCTIONS) | set(OPERATORS) <= used
    assert {len(case.names) for case in CASE_LIST} == {1, 2, 3}


@pytest.mark.parametrize("case", CASE_LIST, ids=lambda case: f"{case.index}:{case.text[:40]}")
def test_conformance(case):
    counts = compare(case)
    assert counts["outside_domain"] == 0 and sum(counts.values()) > 0
    # The command paths agree with the engine: eval's value, grad's first derivatives.
    direct = dezero_derivatives(case)
    with np.errstate(all="ignore"):
        assert float(api.evaluate(case.text, case.point).value) == direct[()]
        grads = api.grad(case.text, case.point).grad
    assert {name: float(g) for name, g in grads.items()} == {
        name: direct[(name,)] for name in case.names
    }


if __name__ == "__main__":
    total: Counter = Counter()
    disagreements = []
    for case in make_cases(int(sys.argv[1]) if len(sys.argv) > 1 else CASES):
        try:
            total += compare(case)
        except AssertionError as error:  # counted and shown, and the run goes on
            disagreements.append(error)
    for key in sorted(total):
        print(f"{key}: {total[key]}")
    print("entries compared:", sum(v for k, v in total.items() if "agree" in k or "zero" in k))
    print("ill-conditioned, skipped:", sum(v for k, v in total.items() if "ill" in k))
    print("cases with a disagreement:", len(disagreements))
    for error in disagreements[:10]:
        print("  ", error)
    sys.exit(1 if disagreements else 0)
