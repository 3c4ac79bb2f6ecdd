"""The round trip: a formula that `dezero diff` prints without values, evaluated as an expression
at other points, agrees there with the derivatives `dezero grad` computes.

Expressions come from the conformance suite's generator (every registered function and
operator, one to three variables) and from the fuzz harness's, orders 1 to 3. Each formula is
read at the generic point, then evaluated with `api.evaluate` (what `dezero eval` runs) at 5
random points inside the expression's domain (the conformance suite's check), and compared with
`api.derivatives` there to 1e-10 relative, wherever the conformance suite's Monte Carlo check
judges the entry well-conditioned. Exact zeros of the reference are compared against the
largest entry of that order, as the conformance suite does.

    python tests/test_diff_roundtrip.py [CASES]    # prints the counts for CASES of each
"""

from __future__ import annotations

import random
import sys
from collections import Counter

import numpy as np
import pytest
from fuzz_harness import valid_expression
from hypothesis import HealthCheck, given, settings
from test_conformance import (
    Case,
    Node,
    OutsideDomain,
    check_domain,
    make_cases,
    reference,
    walk,
)

from dezero_cli import api
from dezero_cli.engine.operators import Add, Div, Mul, Neg, Sub
from dezero_cli.engine.power import Pow
from dezero_cli.language import program as steps

RTOL = 1e-10
POINTS = 5
ORDER = 3
SEED = 20270114
CASES = 120  # in the test run; the script runs as many as it is asked for
TALLY: Counter = Counter()


def points(case: Case, rng: random.Random) -> list[dict[str, float]]:
    """Up to POINTS points inside the expression's domain, none of them the generic one."""
    found = []
    for _ in range(20 * POINTS):
        point = {name: round(rng.uniform(-2.5, 2.5), rng.choice([1, 3, 17])) for name in case.names}
        try:
            check_domain(case.tree, point)
        except (OutsideDomain, ZeroDivisionError, ValueError, OverflowError):
            continue
        found.append(point)
        if len(found) == POINTS:
            break
    return found


def round_trip(case: Case, rng: random.Random, strict: bool = True) -> Counter:
    """Counts of outcomes for one expression. A disagreement raises AssertionError naming it
    (`strict`), or is counted and printed."""
    counts: Counter = Counter()
    formulas = api.diff(case.text, order=ORDER)
    assert formulas.generic
    keys = [()]
    for _ in range(ORDER):  # every non-decreasing key, each prefix before it
        keys += [k + (n,) for k in keys if len(k) == len(keys[-1]) for n in case.names
                 if not k or n >= k[-1]]  # fmt: skip
    texts = {key: formulas.formula(key) for key in keys if key}
    chosen = points(case, rng)
    if not chosen:
        counts["expressions without a point in the domain"] += 1
        return counts
    counts["expressions"] += 1
    for point in chosen:
        with np.errstate(all="ignore"):
            grad = api.derivatives(case.text, point, ORDER)
        try:
            ref = reference(Case(case.index, case.text, case.names, point, case.tree), keys)
        except OutsideDomain:
            counts["points outside the reference's domain"] += 1
            continue
        counts["points"] += 1
        scale = {
            k: max([1.0] + [abs(float(r)) for key, (r, _) in ref.items() if len(key) == k])
            for k in range(ORDER + 1)
        }
        for key, text in texts.items():
            want = float(grad.derivatives[len(key) - 1][key])
            with np.errstate(all="ignore"):
                got = float(api.evaluate(text, point).value)
            exact, conditioned = ref[key]
            if exact == 0:
                agree, kind = abs(got - want) <= RTOL * scale[len(key)], "exact zeros, agree"
            elif not conditioned:
                counts["ill-conditioned, skipped"] += 1
                continue
            else:
                agree, kind = abs(got - want) <= RTOL * abs(want), "compared, agree"
            where = (case.text, point, key, text, got, want)
            assert agree or not strict, where
            if not agree:
                print(f"disagreement: {case.text} at {point}, {key}: the formula gives {got!r}, "
                      f"grad {want!r}; each from the reference: {float((got - exact) / exact):.2g}"
                      f", {float((want - exact) / exact):.2g}")  # fmt: skip
            counts[kind if agree else "disagreements"] += 1
    return counts


ROUND_TRIP_CASES = make_cases(CASES, SEED)


@pytest.mark.parametrize("case", ROUND_TRIP_CASES, ids=lambda c: f"{c.index}:{c.text[:40]}")
def test_formulas_agree_with_grad_at_other_points(case):
    counts = round_trip(case, random.Random(case.index))
    TALLY.update(counts)
    assert counts["expressions"] + counts["expressions without a point in the domain"] == 1


# The fuzz harness's generator, through the expression's compiled steps as a conformance tree.

BINARY = {Add: "+", Sub: "-", Mul: "*", Div: "/", Pow: "^"}


def tree_of(text: str) -> Node:
    """The conformance suite's tree of an expression, from its compiled steps."""
    stack: list[Node] = []
    for kind, arg, n, _ in api.compile(text).steps:
        if kind == steps.VAR:
            stack.append(Node("var", leaf=arg))
        elif kind == steps.CONST:
            leaf = {np.pi: "pi", np.e: "e"}.get(arg, repr(float(arg)))
            stack.append(Node("const", leaf=leaf))
        else:
            args = tuple(stack[len(stack) - n :])
            del stack[len(stack) - n :]
            op = BINARY.get(arg) or ("neg" if arg is Neg else arg.name)
            stack.append(Node(op, args))
    (tree,) = stack
    return tree


def fuzz_round_trip(examples: int, strict: bool = True) -> None:
    """The round trip over `examples` expressions of the fuzz harness's generator."""

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(text=valid_expression())
    def run(text):
        tree = tree_of(text)
        names = sorted({n.leaf for n in walk(tree) if n.op == "var"})
        if names:
            case = Case(0, text, names, {}, tree)
            TALLY.update(round_trip(case, random.Random(text), strict))

    run()


def test_fuzz_expressions_round_trip():
    fuzz_round_trip(60)


def test_the_tree_of_an_expression():
    tree = tree_of("-x^2 + log(pi*y)")
    assert " ".join(n.op for n in walk(tree)) == "+ log * var const neg ^ const var"


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else CASES
    for case in make_cases(count, SEED):
        TALLY.update(round_trip(case, random.Random(case.index), strict=False))
    print(f"conformance generator, {count} expressions:")
    for key in sorted(TALLY):
        print(f"  {key}: {TALLY[key]}")
    TALLY.clear()
    fuzz_round_trip(count, strict=False)
    print(f"fuzz generator, {count} draws:")
    for key in sorted(TALLY):
        print(f"  {key}: {TALLY[key]}")
