"""Formulas as text and LaTeX: what `dezero diff` prints of the DAG that formula.py reads.

`Printer` writes nodes with the fewest parentheses the grammar allows and binds a
subexpression used more than once to a name (`t1 = exp(x^2); 4*x*t1^2`), so the output grows
with the graph, never with the number of paths through it. Printing is a loop, not recursion.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction

from .diagnostics import label
from .engine.functions import FUNCTIONS
from .engine.operators import COMPARISONS
from .formula import (
    AND,
    ATOM,
    COMPARE,
    MAX_DENOMINATOR,
    NOT,
    NUM,
    OR,
    POW,
    POWER,
    PROD,
    PRODUCT,
    SUM,
    SUM_,
    UNARY,
    VAR,
    ZERO,
    Dag,
    Rational,
)

# Printing -------------------------------------------------------------------------------------

_TEX_FUNCTIONS = {"exp", "log", "sin", "cos", "tan", "sinh", "cosh", "tanh", "sec", "csc", "cot"}
_TEX_RELATIONS = {"<": "<", "<=": r"\leq", ">": ">", ">=": r"\geq", "==": "=", "!=": r"\neq"}
_GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega",
    "Gamma", "Delta", "Theta", "Lambda", "Xi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
}  # fmt: skip


class Printer:
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
            text = _number_text(n[1])
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
        return ATOM, [f"{name}(", *_joined([(a, 0) for a in args], ", "), ")"]

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
            return _tex_number(_number_text(f)) if self.latex else _number_text(f)
        if self.latex:
            return rf"\frac{{{q.numerator}}}{{{q.denominator}}}"
        return f"{q.numerator}/{q.denominator}"

    def _product_parts(self, coef: Rational, num: tuple, den: tuple) -> tuple[int, list]:
        numer, denom = _coefficient(abs(coef))
        top: list = [] if numer is None else [_tex_number(numer) if self.latex else numer]
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
        parts = sign + _joined(top, "*")
        if bottom:
            parts.append("/")
            if len(bottom) == 1:
                parts += _flat(bottom)
            else:
                parts += ["(", *_joined(bottom, "*"), ")"]
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

    # LaTeX

    def _latex_parts(self, i: int) -> tuple[int, list]:
        n = self.dag.nodes[i]
        kind = n[0]
        if kind == VAR:
            return ATOM, [_tex_name(n[1])]
        if kind == NUM:
            text = _tex_number(_number_text(n[1]))
            prec = UNARY if text[0] == "-" else (PRODUCT if r"\cdot" in text else ATOM)
            return prec, [text]
        if kind == SUM:
            return SUM_, self._sum_parts(n, " + ", " - ")
        if kind == PROD:
            return self._product_parts(n[1], n[2], n[3])
        if kind == POW:
            return POWER, [(n[1], ATOM), "^{", (n[2], 0), "}"]
        name, args = n[1], n[2]
        if name in COMPARISONS:
            return COMPARE, [(args[0], SUM_), f" {_TEX_RELATIONS[name]} ", (args[1], SUM_)]
        if name == "and":
            return AND, [(args[0], AND), r" \wedge ", (args[1], NOT)]
        if name == "or":
            return OR, [(args[0], OR), r" \vee ", (args[1], AND)]
        if name == "not":
            return NOT, [r"\neg ", (args[0], NOT)]
        if name == "sqrt":
            return ATOM, [r"\sqrt{", (args[0], 0), "}"]
        if name == "abs":
            return ATOM, [r"\left|", (args[0], 0), r"\right|"]
        head = "\\" + name if name in _TEX_FUNCTIONS else r"\operatorname{" + name + "}"
        return ATOM, [head + r"\left(", *_joined([(a, 0) for a in args], ", "), r"\right)"]

    def _tex_product(self, sign: list, top: list, bottom: list) -> tuple[int, list]:
        def juxtaposed(items: list) -> list:
            out: list = []
            for j, item in enumerate(items):
                if j:
                    out.append(r" \cdot " if self._leading_digit(item) else " ")
                out += _flat([item])
            return out

        if bottom:
            numerator = juxtaposed(top) if top else ["1"]
            parts = [*sign, r"\frac{", *numerator, "}{", *juxtaposed(bottom), "}"]
            return (UNARY if sign else PRODUCT), parts
        parts = sign + juxtaposed(top)
        if sign:
            return UNARY, parts
        if len(top) > 1:
            return PRODUCT, parts
        return (POWER if isinstance(top[0], list) else ATOM), parts

    def _leading_digit(self, item) -> bool:
        """Whether `item` starts with a digit when written, so that juxtaposition would
        run two numbers together."""
        while True:
            if isinstance(item, str):
                return item[:1].isdigit()
            if isinstance(item, list):
                item = item[0]
                continue
            n = self.dag.nodes[item[0]]
            if n[0] == NUM:
                return _number_text(n[1])[:1].isdigit()
            if n[0] == POW:
                item = (n[1], ATOM)
                continue
            return False


def _joined(items: list, sep: str) -> list:
    out: list = []
    for j, item in enumerate(items):
        if j:
            out.append(sep)
        out += _flat([item])
    return out


def _flat(items: list) -> list:
    out: list = []
    for item in items:
        if isinstance(item, list):
            out += item
        else:
            out.append(item)
    return out


def _coefficient(q: Rational) -> tuple[str | None, str | None]:
    """Numerator and denominator text of a positive coefficient (None where it is 1)."""
    if q == 1:
        return None, None
    f = float(q)
    if Fraction(f) == q and (q.denominator == 1 or q.denominator > MAX_DENOMINATOR):
        return _number_text(f), None
    return (None if q.numerator == 1 else str(q.numerator)), str(q.denominator)


def _number_text(v: float) -> str:
    """A number as the language reads it back to the same float64."""
    if v == math.pi:
        return "pi"
    if v == math.e:
        return "e"
    if math.isnan(v):
        return "(0/0)"
    if math.isinf(v):
        return "(1/0)" if v > 0 else "(-1/0)"
    if v == int(v) and abs(v) < 2**53:
        return ("-" if math.copysign(1.0, v) < 0 else "") + str(abs(int(v)))
    return repr(v)


def _tex_number(text: str) -> str:
    if text == "pi":
        return r"\pi"
    if text in ("(0/0)", "(1/0)", "(-1/0)"):
        return {"(0/0)": r"\mathrm{NaN}", "(1/0)": r"\infty", "(-1/0)": r"-\infty"}[text]
    mantissa, e, exponent = text.partition("e")
    if not e or not exponent:
        return text
    power = f"10^{{{int(exponent)}}}"
    if mantissa in ("1", "-1"):
        return ("-" if mantissa == "-1" else "") + power
    return f"{mantissa} \\cdot {power}"


def _tex_name(name: str) -> str:
    if len(name) == 1:
        return name
    if name in _GREEK:
        return "\\" + name
    match = re.fullmatch(r"([A-Za-z])_?([0-9]+)", name)
    if match:
        return f"{match[1]}_{{{match[2]}}}"
    return r"\mathit{" + name.replace("_", r"\_") + "}"


# What api.diff gives ---------------------------------------------------------------------------


@dataclass
class Formulas:
    """Each partial derivative as a formula of the language, and the point it was read at."""

    expr: str
    point: dict[str, float]
    generic: bool  # no values were given: the formula holds wherever the expression is smooth
    wrt: tuple[str, ...]
    # Element k - 1: each distinct k-th partial (names in `wrt` order) -> its node in `dag`.
    levels: list[dict[tuple[str, ...], int]]
    dag: Dag
    variables: tuple[str, ...]  # all of the expression's, in order of first use
    warnings: list[str] = field(default_factory=list)
    # A vector result's number of outputs; then each entry of `levels` is a tuple of nodes,
    # one per output, and each formula a list of texts, one per output.
    outputs: int = 0

    def _key(self, names: Iterable[str]) -> tuple[str, ...]:
        rank = {name: i for i, name in enumerate(self.wrt)}
        return tuple(sorted(names, key=rank.__getitem__))

    def formula(self, names: Iterable[str], latex: bool = False) -> str | list[str]:
        """One partial (by the variables differentiated by, in any order) as a complete
        expression, its definitions first: `t1 = exp(x^2); 4*x*t1^2`. For a vector result,
        a list: that partial of each output."""
        key = self._key(names)
        entry = self.levels[len(key) - 1][key]
        if self.outputs:
            return [self._complete(node, latex) for node in entry]
        return self._complete(entry, latex)

    def _complete(self, node: int, latex: bool) -> str:
        definitions, (text,) = Printer(self.dag, latex, self.variables).listing([node])
        if latex:
            return "".join(f"{name} = {body},\\quad " for name, body in definitions) + text
        return "".join(f"{name} = {body}; " for name, body in definitions) + text

    @property
    def grad(self) -> dict[str, str | list[str]]:
        """The first derivative by each variable, as complete expressions."""
        return {name: self.formula((name,)) for name in self.wrt}

    @property
    def derivatives(self) -> list[dict[tuple[str, ...], str | list[str]]]:
        """Element k - 1 maps every k-tuple of variables (all orderings) to its partial."""
        out = []
        for k, level in enumerate(self.levels, start=1):
            texts = {key: self.formula(key) for key in level}
            out.append(
                {key: texts[self._key(key)] for key in itertools.product(self.wrt, repeat=k)}
            )
        return out

    def listing(self, latex: bool = False) -> list[tuple[str, str]]:
        """(left side, right side) lines: the definitions, then each distinct partial by its
        label (`df/dx`, `d2f/dxdy`; `df[0]/dx`, ... for a vector result, order by order and
        output by output), all sharing the definitions."""
        entries = []  # (key, output or None, node)
        for level in self.levels:
            for i in range(self.outputs) if self.outputs else [None]:
                entries += [(key, i, node if i is None else node[i]) for key, node in level.items()]
        definitions, texts = Printer(self.dag, latex, self.variables).listing(
            [node for _, _, node in entries]
        )
        labels = [
            tex_label(key, len(self.wrt) > 1, i) if latex else label(key, i)
            for key, i, _ in entries
        ]
        return definitions + list(zip(labels, texts))


def tex_label(names: tuple[str, ...], partial: bool, output: int | None = None) -> str:
    """The LaTeX label of a partial: `\\frac{d f}{d x}`, or with several variables (`partial`)
    `\\frac{\\partial^{2} f}{\\partial x \\partial y}`; of an output of a vector result,
    `\\frac{d f_{0}}{d x}`."""
    d = r"\partial" if partial else "d"
    k = len(names)
    parts = []
    for name, group in itertools.groupby(names):
        n = len(list(group))
        parts.append(f"{d} {_tex_name(name)}" + (f"^{{{n}}}" if n > 1 else ""))
    f = "f" if output is None else f"f_{{{output}}}"
    top = f"{d}^{{{k}}} {f}" if k > 1 else f"{d} {f}"
    return rf"\frac{{{top}}}{{{' '.join(parts)}}}"
