"""Derivatives as formulas of the expression language, read off the recorded graph.

What `backward(create_graph=True)` records is the derivative's formula: every Function in it
is an operation the language can write. `read_graph` turns that graph into an expression DAG in
which structurally equal subexpressions are one node (hash-consing), simplified locally as each
node is made: constants folded where the result is exact, products and sums flattened, equal
factors collected into powers (`x*x` is `x^2`) and equal terms into multiples, `*1`, `+0` and
double negation dropped. `Printer` writes nodes as text or LaTeX and binds a subexpression used
more than once to a name (`t1 = exp(x^2); 4*x*t1^2`), so the output grows with the graph, never
with the number of paths through it. Every walk is a loop: graphs can be 100,000 deep.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction

from .diagnostics import label
from .engine.core import Variable
from .engine.functions import FUNCTIONS
from .engine.operators import (
    COMPARISONS,
    Add,
    And,
    BroadcastTo,
    Div,
    Mul,
    Neg,
    Not,
    Or,
    Pow,
    Select,
    Sub,
    SumTo,
)

# Node kinds. A node is a tuple:
#   (VAR, name)
#   (NUM, value)                      a float64 constant (any, inf and nan included)
#   (SUM, const, ((node, coef), ...))  const + sum of coef * node; exact rationals (a
#                                     Fraction, or an int when whole), nodes by id
#   (PROD, coef, ((node, k), ...), ((node, k), ...))   coef * prod node^k / prod node^k, k >= 1
#   (POW, base, exponent)             an exponent that is not a constant integer
#   (CALL, name, (argument, ...))     a function, comparison, and/or/not or where
VAR, NUM, SUM, PROD, POW, CALL = range(6)

# Precedence, loosest first, as in grammar/expression.lark.
OR, AND, NOT, COMPARE, SUM_, PRODUCT, UNARY, POWER, ATOM = range(1, 10)

ONE, ZERO = 1, 0
Rational = Fraction | int  # whole numbers stay ints: their arithmetic is many times faster
# A product or sum with at most SMALL factors or terms is merged into the one that uses it even
# when it is used several times: copying it costs little, and `2*x*x` becomes `2*x^2`. One used
# once is merged up to WIDE factors or terms: beyond that, merging every link of a chain
# (a*b*c*... built one factor at a time) would copy quadratically.
SMALL = 3
WIDE = 16
MAX_DENOMINATOR = 1000  # a coefficient p/q with q up to this is printed as the ratio
MAX_EXPONENT = 64  # constant coefficients are raised to integer powers up to this only
GOLDEN = 0.6180339887498949  # the fractional part of the golden ratio


def generic_point(names: Iterable[str]) -> dict[str, float]:
    """The point a formula is read at when no values are given: the i-th variable (from 0, in
    order of first use) is 0.5 + frac((i + 1) * 0.6180339887498949) / 2, which is never 0, 1,
    an integer or a simple fraction, and differs for every variable."""
    return {name: 0.5 + math.fmod((i + 1) * GOLDEN, 1.0) / 2 for i, name in enumerate(names)}


class FormulaError(Exception):
    """A Function in the graph has no spelling in the language (a bug in a rule)."""


def _exact(v: float) -> Rational | None:
    if not math.isfinite(v):
        return None
    return int(v) if v.is_integer() and abs(v) <= 2**53 else Fraction(v)


def _whole(q: Rational) -> Rational:
    return q if type(q) is int or q.denominator != 1 else q.numerator


def _power(q: Rational, k: int) -> Rational:
    """q^k, exactly (k may be negative; q is not 0 then)."""
    return _whole(q**k if k >= 0 else Fraction(1) / q**-k)


def _fits(q: Rational) -> bool:
    """Whether `q` prints exactly: a float64, or a ratio of two small whole numbers."""
    if q.denominator <= MAX_DENOMINATOR and abs(q.numerator) <= 2**53:
        return True
    try:
        return Fraction(float(q)) == q
    except OverflowError:
        return False


def _integer(v: float) -> int | None:
    """`v` as an int if it is a whole number small enough to be an exponent, else None."""
    if math.isfinite(v) and v == int(v) and abs(v) <= 2**31:
        return int(v)
    return None


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
                c = coef if n[1] == 1 else _whole(coef * _power(n[1], k))
                if c is coef or _fits(c):
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
                q = _exact(n[1]) if n[0] == NUM else None
                if q is not None and (q != 0 or sign > 0) and k <= MAX_EXPONENT:
                    c = _whole(coef * _power(q, sign * k))
                    if _fits(c):
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
                total = _whole(terms[i] + c)
                if not _fits(total):  # keep it apart, as a product of its own
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
                q = _exact(n[1])
                if q is not None and _fits(_whole(const + c * q)):
                    const = _whole(const + c * q)
                    continue
                if n[1] < 0:
                    i, c = self.number(-n[1]), -c
            elif kind == SUM and self._mergeable(i, flat):
                if c == 1:
                    scaled = n[2]
                else:
                    scaled = [(t, _whole(k * c)) for t, k in n[2]]
                    if not all(_fits(k) for _, k in scaled):
                        scaled = None
                if scaled is not None and _fits(_whole(const + n[1] * c)):
                    const = _whole(const + n[1] * c)
                    for t, k in scaled:
                        put(t, k, flat)
                    continue
            elif kind == PROD and n[1] not in (0, 1) and _fits(_whole(c * n[1])):
                c, i = _whole(c * n[1]), self.bare(i)
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
        k = _integer(n[1]) if n[0] == NUM else None
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


# Reading a graph ------------------------------------------------------------------------------

_SPELLINGS: dict[type, object] = {}  # a helper Function's `spelling`, compiled once


def read_graph(
    outputs: list[Variable | None], variables: Mapping[str, Variable], dag: Dag | None = None
) -> tuple[Dag, list[int]]:
    """The DAG of the graphs behind `outputs` (None is 0), and the node of each output.

    `variables` are the graph's inputs by name; any other Variable without a creator is a
    constant. Raises FormulaError for a Function the language cannot write.
    """
    dag = Dag() if dag is None else dag
    leaves = {id(v): name for name, v in variables.items()}
    # First pass: every Variable reachable, in post-order, and how many uses each has.
    uses: dict[int, int] = {}
    order: list[Variable] = []
    seen: set[int] = set()
    stack: list = []
    for v in outputs:
        if v is not None:
            uses[id(v)] = uses.get(id(v), 0) + 1
            stack.append((v, False))
    while stack:
        v, done = stack.pop()
        if done:
            order.append(v)
            continue
        if id(v) in seen:
            continue
        seen.add(id(v))
        stack.append((v, True))
        f = v.creator
        if f is None or id(v) in leaves:
            continue
        for x in f.inputs:
            uses[id(x)] = uses.get(id(x), 0) + 1
            if id(x) not in seen:
                stack.append((x, False))
    # Second pass: a node for each Variable, its inputs' nodes made before it.
    made: dict[int, int] = {}
    for v in order:
        name = leaves.get(id(v))
        if name is not None:
            made[id(v)] = dag.var(name)
        elif v.creator is None:
            made[id(v)] = dag.number(_scalar(v))
        else:
            f = v.creator
            args = [(made[id(x)], uses[id(x)] == 1) for x in f.inputs]
            made[id(v)] = _node_of(dag, f, args, v)
    roots = [dag.number(0.0) if v is None else made[id(v)] for v in outputs]
    return dag, roots


def _scalar(v: Variable) -> float:
    data = v.data
    if getattr(data, "size", 1) != 1:
        raise FormulaError("a constant in the graph is not a single number")
    return float(data.reshape(()) if hasattr(data, "reshape") else data)


def _node_of(dag: Dag, f, args: list[tuple[int, bool]], output: Variable) -> int:
    """The node for `f` applied to `args` ((node, flat) for each input)."""
    op = type(f)
    if output is not None and len(f.outputs) != 1:
        raise FormulaError(f"{op.__name__} has several outputs, which the language cannot write")
    if op is Add:
        return dag.add([(args[0][0], ONE, args[0][1]), (args[1][0], ONE, args[1][1])])
    if op is Sub:
        return dag.add([(args[0][0], ONE, args[0][1]), (args[1][0], -ONE, args[1][1])])
    if op is Neg:
        return dag.mul([(args[0][0], 1, args[0][1])], -ONE)
    if op is Mul:
        return dag.mul([(args[0][0], 1, args[0][1]), (args[1][0], 1, args[1][1])])
    if op is Div:
        return dag.mul([(args[0][0], 1, args[0][1]), (args[1][0], -1, args[1][1])])
    if op is Pow:
        return dag.power(args[0][0], args[1][0], args[0][1])
    if op is BroadcastTo or op is SumTo:
        # Broadcasting is implicit in the language; a sum that reduces is sum(...).
        if op is SumTo and f.inputs[0].shape != output.shape:
            return dag.call("sum", (args[0][0],))
        return args[0][0]
    nodes = tuple(a for a, _ in args)
    if op is Select:
        return dag.call("where", nodes)
    if op in (And, Or, Not) or COMPARISONS.get(op.name) is op:
        return dag.call(op.name, nodes)
    spelling = getattr(op, "spelling", None)
    if spelling is not None:
        return _spelled(dag, op, spelling, nodes)
    if FUNCTIONS.get(op.name) is op:
        if op.name == "square":
            return dag.mul([(args[0][0], 2, args[0][1])])
        return dag.call(op.name, nodes)
    raise FormulaError(f"{op.__name__} has no spelling in the language")


def _spelled(dag: Dag, op: type, spelling: str, args: tuple[int, ...]) -> int:
    """A helper Function written as an expression of the language in its inputs (`x`, or
    `x0`, `x1`, ... for several), such as Sech2's `sech(x)^2`."""
    from .language import program as steps
    from .language.compiler import compile_expression

    program = _SPELLINGS.get(op)
    if program is None:
        program = _SPELLINGS[op] = compile_expression(spelling)
    names = ("x",) if len(args) == 1 else tuple(f"x{i}" for i in range(len(args)))
    inputs = dict(zip(names, args))
    stack: list[int] = []
    for kind, arg, n, _ in program.steps:
        if kind == steps.VAR:
            stack.append(inputs[arg])
        elif kind == steps.CONST:
            stack.append(dag.number(arg))
        elif kind == steps.CALL:
            operands = [(a, False) for a in stack[len(stack) - n :]]
            del stack[len(stack) - n :]
            # An instance never called: only its class says what the step is.
            stack.append(_node_of(dag, arg(), operands, None))
        else:
            raise FormulaError(f"the spelling of {op.__name__} must be one expression")
    (node,) = stack
    return node


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
        if sign:
            return UNARY, parts
        if bottom or len(top) > 1:
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

    def _key(self, names: Iterable[str]) -> tuple[str, ...]:
        rank = {name: i for i, name in enumerate(self.wrt)}
        return tuple(sorted(names, key=rank.__getitem__))

    def formula(self, names: Iterable[str], latex: bool = False) -> str:
        """One partial (by the variables differentiated by, in any order) as a complete
        expression, its definitions first: `t1 = exp(x^2); 4*x*t1^2`."""
        key = self._key(names)
        node = self.levels[len(key) - 1][key]
        definitions, (text,) = Printer(self.dag, latex, self.variables).listing([node])
        if latex:
            return "".join(f"{name} = {body},\\quad " for name, body in definitions) + text
        return "".join(f"{name} = {body}; " for name, body in definitions) + text

    @property
    def grad(self) -> dict[str, str]:
        """The first derivative by each variable, as complete expressions."""
        return {name: self.formula((name,)) for name in self.wrt}

    @property
    def derivatives(self) -> list[dict[tuple[str, ...], str]]:
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
        label (`df/dx`, `d2f/dxdy`), all sharing the definitions."""
        keys = [key for level in self.levels for key in level]
        roots = [self.levels[len(key) - 1][key] for key in keys]
        definitions, texts = Printer(self.dag, latex, self.variables).listing(roots)
        labels = [tex_label(key, len(self.wrt) > 1) if latex else label(key) for key in keys]
        return definitions + list(zip(labels, texts))


def tex_label(names: tuple[str, ...], partial: bool) -> str:
    """The LaTeX label of a partial: `\\frac{d f}{d x}`, or with several variables (`partial`)
    `\\frac{\\partial^{2} f}{\\partial x \\partial y}`."""
    d = r"\partial" if partial else "d"
    k = len(names)
    parts = []
    for name, group in itertools.groupby(names):
        n = len(list(group))
        parts.append(f"{d} {_tex_name(name)}" + (f"^{{{n}}}" if n > 1 else ""))
    top = f"{d}^{{{k}}} f" if k > 1 else f"{d} f"
    return rf"\frac{{{top}}}{{{' '.join(parts)}}}"
