"""The expression DAG: nodes made once (hash-consing) and simplified locally as each is made.

Constants are folded where the result is exact, products and sums flattened, equal factors
collected into powers (`x*x` is `x^2`) and equal terms into multiples, `*1`, `+0` and double
negation dropped. Nodes are tuples of nodes.py's kinds; every walk is a loop.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from fractions import Fraction

from .nodes import (
    CALL,
    MAX_EXPONENT,
    NUM,
    ONE,
    POW,
    PROD,
    SUM,
    VAR,
    ZERO,
    Rational,
    exact,
    fits,
    integer,
    power,
    whole,
)

# A product or sum with at most SMALL factors or terms is merged into the one that uses it even
# when it is used several times: copying it costs little, and `2*x*x` becomes `2*x^2`. One used
# once is merged up to WIDE factors or terms: beyond that, merging every link of a chain
# (a*b*c*... built one factor at a time) would copy quadratically.
SMALL = 3
WIDE = 16


class Dag:
    """Expression nodes, each made once (hash-consed) and simplified as it is made."""

    def __init__(self) -> None:
        self.nodes: list[tuple] = []
        self._ids: dict[tuple, int] = {}

    def _node(self, key: tuple, node: tuple | None = None) -> int:
        i = self._ids.get(key)
        if i is None:
            i = self._ids[key] = len(self.nodes)
            self.nodes.append(key if node is None else node)
        return i

    def var(self, name: str) -> int:
        return self._node((VAR, name))

    def number(self, v: float) -> int:
        v = float(v)
        return self._node((NUM, repr(v)), (NUM, v))  # repr keeps -0.0 and nan apart

    def constant(self, q: Rational) -> int:
        f = float(q)
        if Fraction(f) == q:
            return self.number(f)
        return self._node((PROD, q, (), ()))  # 1/3: printed as the ratio

    def width(self, i: int) -> int:
        n = self.nodes[i]
        if n[0] == SUM:
            return len(n[2]) + (n[1] != 0)
        if n[0] == PROD:
            return len(n[2]) + len(n[3]) + (n[1] != 1)
        return 1

    def _mergeable(self, i: int, flat: bool) -> bool:
        width = self.width(i)
        return width <= SMALL or (flat and width <= WIDE)

    def children(self, i: int) -> Iterable[int]:
        n = self.nodes[i]
        kind = n[0]
        if kind == SUM:
            return [t for t, _ in n[2]]
        if kind == PROD:
            return [f for f, _ in n[2]] + [f for f, _ in n[3]]
        if kind == POW:
            return n[1:]
        if kind == CALL:
            return n[2]
        return ()

    def bare(self, i: int) -> int:
        """A product without its coefficient."""
        _, _, num, den = self.nodes[i]
        if not den and len(num) == 1 and num[0][1] == 1:
            return num[0][0]
        return self._node((PROD, ONE, num, den))

    def mul(self, items: Iterable[tuple[int, int, bool]], coef: Rational = ONE) -> int:
        """The product of node^k for each (node, k, flat) of `items`, times `coef`; a product
        among them is merged into this one if `flat` (it is used only here) or it is small."""
        num: dict[int, int] = {}
        den: dict[int, int] = {}
        flat_of: dict[int, bool] = {}
        for i, k, flat in items:
            n = self.nodes[i]
            if n[0] == PROD and n[1] != 0 and abs(k) <= MAX_EXPONENT:
                c = coef if n[1] == 1 else whole(coef * power(n[1], k))
                if c is coef or fits(c):
                    if self._mergeable(i, flat):
                        coef = c
                        for f, j in n[2]:
                            _collect(num, den, f, j * k)
                            flat_of[f] = flat
                        for f, j in n[3]:
                            _collect(num, den, f, -j * k)
                            flat_of[f] = flat
                        continue
                    if n[1] != 1:
                        coef, i = c, self.bare(i)
            _collect(num, den, i, k)
            flat_of[i] = flat
        # Constants join the coefficient where the result is exact; one that does not stays a
        # factor, with all its powers (log(2)*log(2) is log(2)^2, not 0.69... * 0.69...).
        for side, sign in ((num, 1), (den, -1)):
            for i, k in list(side.items()):
                n = self.nodes[i]
                q = exact(n[1]) if n[0] == NUM else None
                if q is not None and (q != 0 or sign > 0) and k <= MAX_EXPONENT:
                    c = whole(coef * power(q, sign * k))
                    if fits(c):
                        coef = c
                        del side[i]
                    elif coef == q and sign > 0:  # the coefficient is this constant already
                        coef, side[i] = ONE, k + 1
                    elif q < 0:  # the sign joins the coefficient: -0.5*0.1*x, not 0.1*(-0.5)*x
                        del side[i]
                        j = self.number(-n[1])
                        side[j] = side.get(j, 0) + k
                        coef = -coef if k % 2 else coef
        if not num and not den:
            return self.constant(coef)
        if not den and len(num) == 1:
            ((f, k),) = num.items()
            if k == 1 and coef == 1:
                return f
            if k == 1 and coef == -1 and self.nodes[f][0] == SUM and flat_of[f]:
                return self.add([(f, -ONE, True)])  # -(a + b) is -a - b
            if k == 1 and self._is_where(f):
                c, a, b = self.nodes[f][2]
                if self._is_constant(a) and self._is_constant(b):  # -where(c, 0, 1)
                    return self.where(
                        c, self.mul([(a, 1, False)], coef), self.mul([(b, 1, False)], coef)
                    )
        return self._node((PROD, coef, tuple(sorted(num.items())), tuple(sorted(den.items()))))

    def add(self, items: Iterable[tuple[int, Rational, bool]], const: Rational = ZERO) -> int:
        """The sum of coef * node for each (node, coef, flat) of `items`, plus `const`."""
        terms: dict[int, Rational] = {}
        flat_of: dict[int, bool] = {}

        def put(i: int, c: Rational, flat: bool) -> None:
            if i in terms:
                total = whole(terms[i] + c)
                if not fits(total):  # keep it apart, as a product of its own
                    i, total = self.mul([(i, 1, flat)], c), ONE
                    total += terms.get(i, ZERO)
                terms[i] = total
            else:
                terms[i] = c
            flat_of[i] = flat

        for i, c, flat in items:
            n = self.nodes[i]
            kind = n[0]
            if kind == NUM:
                q = exact(n[1])
                if q is not None and fits(whole(const + c * q)):
                    const = whole(const + c * q)
                    continue
                if n[1] < 0:
                    i, c = self.number(-n[1]), -c
            elif kind == SUM and self._mergeable(i, flat):
                if c == 1:
                    scaled = n[2]
                else:
                    scaled = [(t, whole(k * c)) for t, k in n[2]]
                    if not all(fits(k) for _, k in scaled):
                        scaled = None
                if scaled is not None and fits(whole(const + n[1] * c)):
                    const = whole(const + n[1] * c)
                    for t, k in scaled:
                        put(t, k, flat)
                    continue
            elif kind == PROD and n[1] not in (0, 1) and fits(whole(c * n[1])):
                c, i = whole(c * n[1]), self.bare(i)
            put(i, c, flat)
        # where(c, a, b) + where(c, p, q) is where(c, a + p, b + q).
        branches: dict[int, list[tuple[int, Rational]]] = {}
        for t, k in terms.items():
            if self._is_where(t):
                branches.setdefault(self.nodes[t][2][0], []).append((t, k))
        for c, group in branches.items():
            if len(group) > 1:
                for t, _ in group:
                    del terms[t]
                a = self.add([(self.nodes[t][2][1], k, False) for t, k in group])
                b = self.add([(self.nodes[t][2][2], k, False) for t, k in group])
                put(self.where(c, a, b), ONE, False)
        terms = {t: k for t, k in terms.items() if k != 0}  # t - t is 0
        if not terms:
            return self.constant(const)
        if const == 0 and len(terms) == 1:
            ((t, k),) = terms.items()
            return t if k == 1 else self.mul([(t, 1, flat_of[t])], k)
        return self._node((SUM, const, tuple(sorted(terms.items()))))

    def power(self, base: int, exponent: int, flat: bool) -> int:
        n = self.nodes[exponent]
        k = integer(n[1]) if n[0] == NUM else None
        if k is None:
            return self._node((POW, base, exponent))
        if k == 0:
            return self.number(1.0)  # a^0 is 1 for every a (0^0 = 1 is the convention)
        return self.mul([(base, k, flat)])

    def call(self, name: str, args: tuple[int, ...]) -> int:
        if name == "where":
            return self.where(*args)
        return self._node((CALL, name, tuple(args)))

    def where(self, c: int, a: int, b: int) -> int:
        # In the branch taken where c is true, a where(c, p, q) among its factors or terms is
        # p (and q in the other branch): where(c, 2*x*where(c, 1, 0), 0) is where(c, 2*x, 0).
        return self._node((CALL, "where", (c, self._assume(a, c, 1), self._assume(b, c, 2))))

    def _assume(self, i: int, c: int, branch: int) -> int:
        """Node `i` where condition `c` is true (branch 1) or false (2): a where(c, ...) that
        is `i` itself, or one of its factors or terms, is replaced by its branch."""
        n = self.nodes[i]
        if n[0] == PROD:
            items = [(self._branch(f, c, branch), k) for f, k in n[2]]
            items += [(self._branch(f, c, branch), -k) for f, k in n[3]]
            if any(f != g for (f, _), (g, _) in zip(items, n[2] + n[3])):
                return self.mul([(f, k, False) for f, k in items], n[1])
        elif n[0] == SUM:
            terms = [(self._branch(t, c, branch), k) for t, k in n[2]]
            if any(t != u for (t, _), (u, _) in zip(terms, n[2])):
                return self.add([(t, k, False) for t, k in terms], n[1])
        return self._branch(i, c, branch)

    def _branch(self, i: int, c: int, branch: int) -> int:
        n = self.nodes[i]
        return n[2][branch] if n[0] == CALL and n[1] == "where" and n[2][0] == c else i

    def _is_where(self, i: int) -> bool:
        n = self.nodes[i]
        return n[0] == CALL and n[1] == "where"

    def _is_constant(self, i: int) -> bool:
        n = self.nodes[i]
        return (n[0] == NUM and math.isfinite(n[1])) or (n[0] == PROD and not n[2] and not n[3])


def _collect(num: dict, den: dict, f: int, k: int) -> None:
    # Powers of the same node add up on the same side of the fraction bar; a numerator power
    # never cancels one in the denominator (x/x is not 1 at x = 0).
    if k > 0:
        num[f] = num.get(f, 0) + k
    elif k < 0:
        den[f] = den.get(f, 0) - k
