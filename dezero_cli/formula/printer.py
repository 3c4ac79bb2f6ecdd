"""Formulas as text and LaTeX: what `dezero diff` prints of a Dag.

`Printer` writes nodes with the fewest parentheses the grammar allows and binds a
subexpression used more than once to a name (`t1 = exp(x^2); 4*x*t1^2`), so the output grows
with the graph, never with the number of paths through it. Printing is a loop, not recursion.
The LaTeX parts are tex.py's.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from fractions import Fraction

from ..engine.functions import FUNCTIONS
from ..engine.operators import COMPARISONS
from .dag import Dag
from .nodes import MAX_DENOMINATOR, NUM, POW, PROD, SUM, VAR, ZERO, Rational
from .tex import TexParts, tex_number
from .text import (
    AND,
    ATOM,
    COMPARE,
    NOT,
    OR,
    POWER,
    PRODUCT,
    SUM_,
    UNARY,
    flat,
    joined,
    number_text,
)


class Printer(TexParts):
    """Text (the language) or LaTeX for nodes of a Dag, with definitions for shared parts."""

    def __init__(self, dag: Dag, latex: bool = False, variables: Iterable[str] = ()):
        self.dag = dag
        self.latex = latex
        self.rank = {name: i for i, name in enumerate(variables)}
        self.reserved = set(self.rank) | set(FUNCTIONS) | {"pi", "e"}  # no definition's name
        self._named: dict[int, str] = {}

    def _order(self, i: int) -> tuple:
        """Where a factor or term goes: numbers, then variables in order, then the rest as
        they were made (inner parts first)."""
        n = self.dag.nodes[i]
        if n[0] == NUM:
            return (0, 0, i)
        if n[0] == VAR:
            return (1, self.rank.get(n[1], 0), i)
        return (2, 0, i)

    def listing(self, roots: list[int]) -> tuple[list[tuple[str, str]], list[str]]:
        """The definitions (name, text) that `roots` need, in order, and each root's text."""
        dag = self.dag
        uses: dict[int, int] = {}
        stack = list(roots)
        for r in roots:
            uses[r] = uses.get(r, 0) + 1
        seen: set[int] = set()
        while stack:
            i = stack.pop()
            if i in seen:
                continue
            seen.add(i)
            for c in dag.children(i):
                uses[c] = uses.get(c, 0) + 1
                stack.append(c)
        shared = {i for i, k in uses.items() if k > 1 and not self._atomic(i)}
        names: dict[int, str] = {}
        order: list[int] = []
        fresh = self._names()
        done: set[int] = set()
        for r in roots:  # post-order: a definition comes after those it uses
            stack = [(r, False)]
            while stack:
                i, expanded = stack.pop()
                if expanded:
                    if i in shared:
                        names[i] = next(fresh)
                        order.append(i)
                    continue
                if i in done:
                    continue
                done.add(i)
                stack.append((i, True))
                stack.extend((c, False) for c in dag.children(i) if c not in done)
        definitions = [(names[i], self._render(i, names)) for i in order]
        return definitions, [names[r] if r in names else self._render(r, names) for r in roots]

    def _names(self):
        for k in itertools.count(1):
            name = f"t{k}"
            if name not in self.reserved:
                yield (f"t_{{{k}}}" if self.latex else name)

    def _atomic(self, i: int) -> bool:
        """Short enough to repeat instead of naming: a leaf, or an operation on at most two
        leaves (`x^2`, `2*x`, `sech(x)`)."""
        dag = self.dag
        kids = list(dag.children(i))
        return len(kids) <= 2 and all(dag.nodes[c][0] in (VAR, NUM) for c in kids)

    def _render(self, root: int, names: dict[int, str]) -> str:
        self._named = names
        out: list[str] = []
        parts = self._latex_parts if self.latex else self._text_parts
        open_, close = (r"\left(", r"\right)") if self.latex else ("(", ")")
        prec, items = parts(root)
        stack = list(reversed(items))
        while stack:
            item = stack.pop()
            if type(item) is str:
                out.append(item)
                continue
            i, context = item
            if i in names:
                out.append(names[i])
                continue
            prec, items = parts(i)
            if prec < context:
                stack.append(close)
                stack.extend(reversed(items))
                stack.append(open_)
            else:
                stack.extend(reversed(items))
        return "".join(out)

    # The parts of one node: strings, and (node, the least precedence it may have there).

    def _text_parts(self, i: int) -> tuple[int, list]:
        n = self.dag.nodes[i]
        kind = n[0]
        if kind == VAR:
            return ATOM, [n[1]]
        if kind == NUM:
            text = number_text(n[1])
            return (UNARY if text[0] == "-" else ATOM), [text]
        if kind == SUM:
            return SUM_, self._sum_parts(n, " + ", " - ")
        if kind == PROD:
            return self._product_parts(n[1], n[2], n[3])
        if kind == POW:
            return POWER, [(n[1], ATOM), "^", (n[2], UNARY)]
        name, args = n[1], n[2]
        if name in COMPARISONS:
            return COMPARE, [(args[0], SUM_), f" {name} ", (args[1], SUM_)]
        if name == "and":
            return AND, [(args[0], AND), " and ", (args[1], NOT)]
        if name == "or":
            return OR, [(args[0], OR), " or ", (args[1], AND)]
        if name == "not":
            return NOT, ["not ", (args[0], NOT)]
        return ATOM, [f"{name}(", *joined([(a, 0) for a in args], ", "), ")"]

    def _sum_parts(self, n: tuple, plus: str, minus: str) -> list:
        parts: list = []
        terms = sorted(n[2], key=lambda term: (term[1] < 0, self._order(term[0])))
        const = n[1]
        if const > 0 and terms[0][1] < 0:  # 1 - x rather than -x + 1
            parts.append(self._constant_text(const))
            const = ZERO
        for t, k in terms:
            m = self.dag.nodes[t]
            if m[0] == PROD and t not in self._named:  # the coefficient joins the product's
                k = k * m[1]
                _, items = self._product_parts(abs(k), m[2], m[3])
            elif m[0] == SUM and k == 1 and t not in self._named:
                items = [(t, SUM_)]  # a sum among the terms needs no parentheses
            else:
                _, items = self._product_parts(abs(k), ((t, 1),), ())
            parts.append((minus if k < 0 else plus) if parts else ("-" if k < 0 else ""))
            parts.extend(items)
        if const != 0:
            parts.append(minus if const < 0 else plus)
            parts.append(self._constant_text(abs(const)))
        return parts

    def _constant_text(self, q: Rational) -> str:
        f = float(q)
        if Fraction(f) == q:
            return tex_number(number_text(f)) if self.latex else number_text(f)
        if self.latex:
            return rf"\frac{{{q.numerator}}}{{{q.denominator}}}"
        return f"{q.numerator}/{q.denominator}"

    def _product_parts(self, coef: Rational, num: tuple, den: tuple) -> tuple[int, list]:
        numer, denom = _coefficient(abs(coef))
        top: list = [] if numer is None else [tex_number(numer) if self.latex else numer]
        bottom: list = [] if denom is None else [denom]
        for f, k in sorted(num, key=lambda factor: self._order(factor[0])):
            top.append(self._factor(f, k, True))
        for f, k in sorted(den, key=lambda factor: self._order(factor[0])):
            bottom.append(self._factor(f, k, False))
        sign = ["-"] if coef < 0 else []
        if self.latex:
            return self._tex_product(sign, top, bottom)
        if not top:
            top = ["1"]
        parts = sign + joined(top, "*")
        if bottom:
            parts.append("/")
            if len(bottom) == 1:
                parts += flat(bottom)
            else:
                parts += ["(", *joined(bottom, "*"), ")"]
        if sign and not bottom and len(top) == 1:
            return UNARY, parts  # -x, -x^2
        if bottom or len(top) > 1:  # -x/2 is (-x)/2: a product, parenthesized in an exponent
            return PRODUCT, parts
        return (POWER if isinstance(top[0], list) else ATOM), parts

    def _factor(self, f: int, k: int, numerator: bool):
        if k == 1:
            # A product among the factors of a numerator needs no parentheses (a chain of
            # products is kept in pieces of at most WIDE factors).
            n = self.dag.nodes[f]
            if numerator and n[0] == PROD and n[1] > 0 and f not in self._named:
                return (f, PRODUCT)
            return (f, POWER)
        return [(f, ATOM), "^{" + str(k) + "}" if self.latex else f"^{k}"]


def _coefficient(q: Rational) -> tuple[str | None, str | None]:
    """Numerator and denominator text of a positive coefficient (None where it is 1)."""
    if q == 1:
        return None, None
    f = float(q)
    if Fraction(f) == q and (q.denominator == 1 or q.denominator > MAX_DENOMINATOR):
        return number_text(f), None
    return (None if q.numerator == 1 else str(q.numerator)), str(q.denominator)
