"""Text -> Program: a flat postfix list of steps, compiled once and run many times.

The parse loop calls back here at each reduce, in postfix order, so steps are emitted as the
text is read, without a parse tree. Running a Program on Variables builds a fresh DeZero graph
each time, so nothing is shared between evaluations. Both compiling and running are loops:
expressions may nest 100,000 deep.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..engine.core import Add, Div, Function, Mul, Neg, Sub, Variable
from ..engine.functions import FUNCTIONS, Pow
from ..errors import ArityError, DezeroError, ExpressionSyntaxError, UnknownFunction
from ..values import literal_problem
from .parse import parse

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
# A step is (kind, constant or name or Function class, n, label): the label names the call as
# the user wrote it (`ln`, `'^'`), for warnings.
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
        for kind, arg, n, label in self.steps:
            if kind == CALL:
                args = stack[-n:]
                del stack[-n:]
                y = arg()(*args)
                if trace is not None:
                    trace.append((label, args, y))
                stack.append(y)
            elif kind == VAR:
                stack.append(values[arg])
            else:
                stack.append(arg)
        (y,) = stack
        return y if isinstance(y, Variable) else Variable(np.asarray(y), requires_grad=False)

    def size(self) -> int:
        """The number of function calls one evaluation makes."""
        return sum(1 for step in self.steps if step[0] == CALL)


@functools.lru_cache(maxsize=4096)
def compile_expression(text: str) -> Program:
    """Parse and resolve names; raise our own errors for anything that will not run.

    Steps are made in the reduce callbacks, in postfix order. A name or number that cannot be
    used does not stop the parse: a syntax error anywhere in the text is reported first, then
    the first such problem.
    """
    steps: list[tuple] = []
    variables: dict[str, None] = {}
    problems: list[DezeroError] = []

    def emit(make, *args) -> int:
        try:
            steps.append(make(*args))
        except DezeroError as exc:
            problems.append(exc)
        return 1  # one operand: `args` adds these up to count a call's arguments

    def number(children):
        return emit(_number_step, children[0][1], children[0][2], text)

    def name(children):
        return emit(_name_step, children[0][1], children[0][2], text, variables)

    def call(children):
        n = children[2] if len(children) == 4 else 0  # NAME ( [args] )
        return emit(_function_step, children[0][1], n, children[0][2], text)

    def operator(kind):
        return lambda children: emit(_operator_step, kind)

    def power(children):  # `^` or `**`: the label says which
        return emit(_operator_step, "pow", children[1][1])

    callbacks = {"number": number, "name": name, "call": call, "pow": power}
    for kind in OPERATORS:
        callbacks.setdefault(kind, operator(kind))
    parse(text, callbacks)
    if problems:
        raise problems[0]
    return Program(text, tuple(variables), tuple(steps))


def _operator_step(kind: str, written: str | None = None) -> tuple:
    cls = OPERATORS[kind]
    return (CALL, cls, 1 if kind == "neg" else 2, f"'{written or cls.name}'")


def _number_step(token: str, pos: int, text: str) -> tuple:
    x = float(token)
    problem = literal_problem(token, x)
    if problem:
        raise ExpressionSyntaxError(f"number {problem}", text, pos)
    return (CONST, x, 0, None)


def _name_step(name: str, pos: int, text: str, variables: dict[str, None]) -> tuple:
    if name in CONSTANTS:
        return (CONST, CONSTANTS[name], 0, None)
    if name in FUNCTIONS:
        raise ExpressionSyntaxError(f"{name!r} is a function: call it as {name}(...)", text, pos)
    variables.setdefault(name, None)
    return (VAR, name, 0, None)


def _function_step(name: str, n: int, pos: int, text: str) -> tuple:
    cls = FUNCTIONS.get(name)
    if cls is None:
        raise UnknownFunction(_unknown_message(name), text, pos)
    if n != cls.arity:
        wanted = f"{cls.arity} argument" + ("s" if cls.arity != 1 else "")
        raise ArityError(f"{name}() takes {wanted}, got {n}", text, pos)
    return (CALL, cls, n, name)


# Functions that mathematics and other tools have and dezero does not: each is a function of
# its own, so a registered name a letter away (`tan` for `atan`, `log` for `log2`, `sin` for
# `sign`) is never suggested for it.
OTHER_FUNCTIONS = frozenset([
    "acos", "acosh", "arccos", "arccosh", "arcosh", "arcsin", "arcsinh", "arctan", "arctanh",
    "arsinh", "artanh", "asin", "asinh", "atan", "atanh", "cbrt", "ceil", "cot", "coth", "csc",
    "csch", "erf", "erfc", "expm1", "floor", "gamma", "hypot", "lg", "lgamma", "log1p", "max",
    "min", "mod", "relu", "round", "sec", "sech", "sign", "sinc", "softplus", "trunc",
])  # fmt: skip
# Other names of registered functions.
ALIASES = {
    "power": "pow",
    "logistic": "sigmoid",
    "expit": "sigmoid",
    "fabs": "abs",
    "cosine": "cos",
    "tangent": "tan",
}


def _unknown_message(name: str) -> str:
    suggestion = _meant_function(name)
    hint = f"did you mean {suggestion}?" if suggestion else "run 'dezero functions' for the list"
    return f"unknown function {name!r}: {hint}"


def _meant_function(name: str) -> str | None:
    """The registered function NAME stands for: the same in other letter case, a known other
    name of it, or a near miss (1 edit, 2 from 6 letters on); never when NAME is another
    function (a known one, or a registered name with digits after it)."""
    from ..spelling import closest

    lower = name.lower()
    if lower in FUNCTIONS:
        return lower
    if ALIASES.get(lower) in FUNCTIONS:
        return ALIASES[lower]
    if lower in OTHER_FUNCTIONS or lower.rstrip("0123456789") in FUNCTIONS:  # log2, ln2
        return None
    return closest(lower, sorted(FUNCTIONS), 1 if len(lower) < 6 else 2)
