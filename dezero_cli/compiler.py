"""Parse tree -> Program: a flat postfix list of steps, compiled once and run many times.

Running a Program on Variables builds a fresh DeZero graph each time, so nothing is shared
between evaluations. Both compiling and running are loops: expressions may nest 100,000 deep.

Compiling text that parses takes the fast road: the LALR loop of `lalr.py` calls back here at
each reduce, in postfix order, with no parse tree and without importing Lark. Anything else
takes the reference road (Lark's parse tree, walked with an explicit stack), which raises the
error a person should see. Both build steps with the same helpers.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .core import Add, Div, Function, Mul, Neg, Pow, Sub, Variable
from .errors import ArityError, DezeroError, ExpressionSyntaxError, UnknownFunction
from .functions import FUNCTIONS
from .literals import literal_problem
from .parser import parse

CONSTANTS = {"pi": np.pi, "e": np.e}
OPERATORS: dict[str, type[Function]] = {
    "add": Add,
    "sub": Sub,
    "mul": Mul,
    "div": Div,
    "pow": Pow,
    "neg": Neg,
}

# Step kinds: push a constant, push a variable's value, or call a Function on the top n values.
CONST, VAR, CALL = 0, 1, 2


@dataclass(frozen=True)
class Program:
    """A compiled expression: its text, its variables in order of first use, and its steps."""

    text: str
    variables: tuple[str, ...]
    steps: tuple[tuple, ...]

    def run(self, values: Mapping[str, Variable], trace: list | None = None) -> Variable:
        """Evaluate on `values`, building the graph as it goes (unless under no_grad)."""
        stack: list = []
        for kind, arg, n in self.steps:
            if kind == CALL:
                args = stack[-n:]
                del stack[-n:]
                y = arg()(*args)
                if trace is not None:
                    trace.append((arg, args, y))
                stack.append(y)
            elif kind == VAR:
                stack.append(values[arg])
            else:
                stack.append(arg)
        (y,) = stack
        return y if isinstance(y, Variable) else Variable(np.asarray(y), requires_grad=False)

    def size(self) -> int:
        """The number of function calls one evaluation makes."""
        return sum(1 for kind, _, _ in self.steps if kind == CALL)


@functools.lru_cache(maxsize=4096)
def compile_expression(text: str) -> Program:
    """Parse and resolve names; raise our own errors for anything that will not run."""
    program = _compile_fast(text)
    return program if program is not None else _compile_tree(text)


def _compile_fast(text: str) -> Program | None:
    """Compile during the parse; None where the text has a problem to explain."""
    from . import lalr

    steps: list[tuple] = []
    variables: dict[str, None] = {}

    def number(children):
        steps.append(_number_step(children[0][1], children[0][2], text))
        return 1

    def name(children):
        steps.append(_name_step(children[0][1], children[0][2], text, variables))
        return 1

    def call(children):
        n = children[2] if len(children) == 4 else 0  # NAME ( [args] )
        steps.append(_function_step(children[0][1], n, children[0][2], text))
        return 1

    def operator(step):
        def reduce(children):
            steps.append(step)
            return 1

        return reduce

    callbacks = {"number": number, "name": name, "call": call}
    for kind, cls in OPERATORS.items():
        callbacks[kind] = operator((CALL, cls, 1 if kind == "neg" else 2))
    try:
        lalr.parse(text, callbacks)
    except (lalr.Rejected, DezeroError):
        return None  # the reference road raises the error, with Lark's view of the text
    return Program(text, tuple(variables), tuple(steps))


def _compile_tree(text: str) -> Program:
    tree = parse(text)  # first: it imports Lark the way parser.py wants
    from lark import Token, Tree

    steps: list[tuple] = []
    variables: dict[str, None] = {}
    # Post-order walk with an explicit stack: (node, children already emitted?).
    todo: list = [(tree, False)]
    while todo:
        node, expanded = todo.pop()
        if isinstance(node, Token):  # a bare NUMBER can be the whole expression
            node = Tree("number", [node])
        kind = node.data
        if kind == "number":
            token = node.children[0]
            steps.append(_number_step(str(token), token.start_pos, text))
        elif kind == "name":
            token = node.children[0]
            steps.append(_name_step(str(token), token.start_pos, text, variables))
        elif kind == "pos":
            todo.append((node.children[0], False))
        elif expanded:
            if node.data == "call":
                token = node.children[0]
                n = len(_operands(node))
                steps.append(_function_step(str(token), n, token.start_pos, text))
            else:
                steps.append((CALL, OPERATORS[node.data], 2 if node.data != "neg" else 1))
        else:
            todo.append((node, True))
            todo.extend((child, False) for child in reversed(_operands(node)))
    return Program(text, tuple(variables), tuple(steps))


def _operands(node) -> list:
    if node.data == "call":
        args = node.children[1]
        return [] if args is None else list(args.children)
    if node.data == "pow":
        return [node.children[0], node.children[2]]
    return list(node.children)


def _number_step(token: str, pos: int, text: str) -> tuple:
    x = float(token)
    problem = literal_problem(token, x)
    if problem:
        raise ExpressionSyntaxError(f"number {problem}", text, pos)
    return (CONST, x, 0)


def _name_step(name: str, pos: int, text: str, variables: dict[str, None]) -> tuple:
    if name in CONSTANTS:
        return (CONST, CONSTANTS[name], 0)
    if name in FUNCTIONS:
        raise ExpressionSyntaxError(f"{name!r} is a function: call it as {name}(...)", text, pos)
    variables.setdefault(name, None)
    return (VAR, name, 0)


def _function_step(name: str, n: int, pos: int, text: str) -> tuple:
    cls = FUNCTIONS.get(name)
    if cls is None:
        raise UnknownFunction(_unknown_message(name), text, pos)
    if n != cls.arity:
        wanted = f"{cls.arity} argument" + ("s" if cls.arity != 1 else "")
        raise ArityError(f"{name}() takes {wanted}, got {n}", text, pos)
    return (CALL, cls, n)


def _unknown_message(name: str) -> str:
    import difflib

    close = difflib.get_close_matches(name.lower(), list(FUNCTIONS), n=1, cutoff=0.75)
    hint = f"did you mean {close[0]}?" if close else "run 'dezero functions' for the list"
    return f"unknown function {name!r}: {hint}"
