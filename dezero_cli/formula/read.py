"""Reading a graph: what `backward(create_graph=True)` recorded, as nodes of a Dag.

Every Function in the graph is an operation the language can write; each Variable becomes one
node, its inputs' nodes made before it. The walk is a loop: graphs can be 100,000 deep.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from ..engine.core import Variable
from ..engine.functions import FUNCTIONS
from ..engine.operators import (
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
from ..engine.power import Fill, Pow, ScaledPow
from .dag import Dag
from .nodes import ONE

GOLDEN = 0.6180339887498949  # the fractional part of the golden ratio


def generic_point(names: Iterable[str]) -> dict[str, float]:
    """The point a formula is read at when no values are given: the i-th variable (from 0, in
    order of first use) is 0.5 + frac((i + 1) * 0.6180339887498949) / 2, which is never 0, 1,
    an integer or a simple fraction, and differs for every variable."""
    return {name: 0.5 + math.fmod((i + 1) * GOLDEN, 1.0) / 2 for i, name in enumerate(names)}


class FormulaError(Exception):
    """A Function in the graph has no spelling in the language (a bug in a rule)."""


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
    from ..language import program as steps
    from ..language.compiler import compile_expression

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
