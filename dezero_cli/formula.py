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

import math
from collections.abc import Iterable, Mapping
from fractions import Fraction

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
    Select,
    Sub,
    SumTo,
)
from .engine.power import Fill, Pow, ScaledPow

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
    if op is ScaledPow:  # f1 * ... * fk * a^p, where the plain product would over- or underflow
        *factors, (a, flat), (p, _) = args
        return dag.mul([*((n, 1, fl) for n, fl in factors), (dag.power(a, p, flat), 1, False)])
    if op is Fill:  # a point's choice between the plain and the whole product, made there
        return dag.number(f.value) if bool(f.mask) else args[0][0]
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
    if getattr(op, "static_args", 0) and FUNCTIONS.get(op.name) is op:
        # Its first arguments are numbers the instance was made with (polygamma's n).
        numbers = tuple(dag.number(float(v)) for v in f.static_values())
        return dag.call(op.name, numbers + nodes)
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
