"""Parse tree -> Program: a flat postfix list of steps, compiled once and run many times.

Running a Program on Variables builds a fresh DeZero graph each time, so nothing is shared
between evaluations. Both compiling and running are loops: expressions may nest 100,000 deep.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from lark import Token, Tree

from .core import Add, Div, Function, Mul, Neg, Pow, Sub, Variable
from .errors import ArityError, ExpressionSyntaxError, UnknownFunction
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
    tree = parse(text)
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
            steps.append((CONST, _number(node.children[0], text), 0))
        elif kind == "name":
            token = node.children[0]
            name = str(token)
            if name in CONSTANTS:
                steps.append((CONST, CONSTANTS[name], 0))
            elif name in FUNCTIONS:
                raise ExpressionSyntaxError(
                    f"{name!r} is a function: call it as {name}(...)", text, token.start_pos
                )
            else:
                variables.setdefault(name, None)
                steps.append((VAR, name, 0))
        elif kind == "pos":
            todo.append((node.children[0], False))
        elif expanded:
            steps.append(_call_step(node, text))
        else:
            todo.append((node, True))
            todo.extend((child, False) for child in reversed(_operands(node)))
    return Program(text, tuple(variables), tuple(steps))


def _number(token: Token, text: str) -> float:
    x = float(token)
    problem = literal_problem(str(token), x)
    if problem:
        raise ExpressionSyntaxError(f"number {problem}", text, token.start_pos)
    return x


def _operands(node: Tree) -> list:
    if node.data == "call":
        args = node.children[1]
        return [] if args is None else list(args.children)
    if node.data == "pow":
        return [node.children[0], node.children[2]]
    return list(node.children)


def _call_step(node: Tree, text: str) -> tuple:
    if node.data != "call":
        return (CALL, OPERATORS[node.data], 2 if node.data != "neg" else 1)
    token = node.children[0]
    name = str(token)
    cls = FUNCTIONS.get(name)
    if cls is None:
        raise UnknownFunction(_unknown_message(name), text, token.start_pos)
    n = len(_operands(node))
    if n != cls.arity:
        wanted = f"{cls.arity} argument" + ("s" if cls.arity != 1 else "")
        raise ArityError(f"{name}() takes {wanted}, got {n}", text, token.start_pos)
    return (CALL, cls, n)


def _unknown_message(name: str) -> str:
    close = difflib.get_close_matches(name.lower(), list(FUNCTIONS), n=1, cutoff=0.75)
    hint = f"did you mean {close[0]}?" if close else "run 'dezero functions' for the list"
    return f"unknown function {name!r}: {hint}"
