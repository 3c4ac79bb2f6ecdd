"""Records -> Program: one pass over what reader.py read, statement by statement.

Names become variables, constants and definitions; user functions are inlined where they are
called; the branches of `where` are marked. Nothing recurses: expressions may nest 100,000
deep. The text has parsed whole before this starts, so a syntax error anywhere comes before
any problem found here. The errors for an unknown function and for a wrong number of
arguments are names.py's.
"""

from __future__ import annotations

import functools
from collections import defaultdict

import numpy as np

from ..engine.functions import FUNCTIONS
from ..engine.operators import (
    COMPARISONS,
    Add,
    And,
    Div,
    Mul,
    Neg,
    Not,
    Or,
    Sub,
)
from ..engine.power import Pow
from ..errors import ArityError, ExpressionSyntaxError, GraphTooLarge, UnknownFunction
from ..limits import node_budget
from ..values import literal_problem
from .names import check_arity, unknown_message
from .program import BEGIN, CALL, CONST, END, LOAD, STORE, VAR, Program
from .reader import read

CONSTANTS = {"pi": np.pi, "e": np.e}
OPERATORS = {
    "add": Add,
    "sub": Sub,
    "mul": Mul,
    "div": Div,
    "pow": Pow,
    "neg": Neg,
    "and_": And,
    "or_": Or,
    "not_": Not,
}


def compile_expression(text: str) -> Program:
    """Parse and resolve names; raise our own errors for anything that will not run.

    User functions are inlined where they are called: the calls they expand to count against
    the node limit in force (limits.py) while compiling, before anything is evaluated.
    """
    budget = node_budget.get()
    return _compile(text, None if budget is None else budget[1])


@functools.lru_cache(maxsize=4096)
def _compile(text: str, most_calls: int | None) -> Program:
    return _Resolver(text, read(text), most_calls).program()


# Resolving ----------------------------------------------------------------------------------


class _UserFunction:
    """A function defined in the expression: its body compiled once, inlined where the
    program calls it. Its steps load and store local slots ("local", i), the arguments
    first, and call other user functions with USER steps, expanded at the same time."""

    def __init__(self, name: str, arity: int, steps: list, slots: int):
        self.name, self.arity, self.steps, self.slots = name, arity, steps, slots


USER = "user"  # a step of a body: (USER, _UserFunction, n, None)


class _Resolver:
    def __init__(self, text: str, records: list[tuple], most_calls: int | None):
        self.text = text
        self.records = records
        self.most_calls = most_calls
        self.scope: dict[str, tuple] = {}  # name -> ("value", slot) or ("function", _UserFunction)
        self.variables: dict[str, int] = {}  # free names -> position of first use
        self.slots = 0
        self.calls = 0
        self.defining: str | None = None
        # Every name the text defines, and where: a use before the definition is an error.
        self.defined_later = {}
        for record in records:
            if record[0] == "define":
                name, position = self._defined_name(record)
                self.defined_later.setdefault(name, position)
        # The branches of each `where`: markers to insert before the records at these indexes.
        self.before: dict[int, list[tuple]] = defaultdict(list)
        for i, record in enumerate(records):
            if record[0] == "call" and len(record[3]) == 3:
                cls = FUNCTIONS.get(record[1])
                if getattr(cls, "branching", False) and record[1] not in self.defined_later:
                    _, a, b = record[3]
                    self.before[a[0]].append((BEGIN, True, 0, None))
                    self.before[b[0]] += [(END, None, 0, None), (BEGIN, False, 0, None)]
                    self.before[i].append((END, None, 0, None))

    def error(self, message: str, position: int, cls=ExpressionSyntaxError):
        return cls(message, self.text, position)

    def program(self) -> Program:
        out = _Emitter(self)
        definitions = []
        outputs = 0
        begin = 0
        statements = [
            i for i, record in enumerate(self.records) if record[0] in ("result", "define")
        ]
        for k, end in enumerate(statements):
            record = self.records[end]
            last = k == len(statements) - 1
            if record[0] == "result":
                if not last:
                    raise self.error(
                        "only the last statement is the result: the ones before it must be "
                        "definitions (name = ... or f(t) = ...)",
                        record[1][1],
                    )
                out.emit(begin, end)  # a vector's elements leave one value each
                outputs = record[2] if len(record) > 2 else 0
            else:
                if last:
                    raise self.error(
                        "the last statement must be the result, not a definition", record[3]
                    )
                definitions.append(self.define(out, record, begin, end))
            begin = end + 1
        return Program(
            self.text,
            tuple(self.variables),
            tuple(out.steps),
            tuple(definitions),
            self.slots,
            outputs,
        )

    def _defined_name(self, record: tuple) -> tuple[str, int]:
        """The name a definition gives (the name before `=`, or before its parameters)."""
        (start, position), (rhs, _), _ = record[1], record[2], record[3]
        last = self.records[rhs - 1]
        if last[0] == "name" and rhs - 1 == start:
            return last[1], last[2]
        if last[0] == "call":
            return last[1], last[2]
        return "", position

    def define(self, out: _Emitter, record: tuple, begin: int, end: int) -> str:
        (start, position), (rhs, _), _ = record[1], record[2], record[3]
        lhs = self.records[start:rhs]
        name, name_position = self._defined_name(record)
        params: list[tuple[str, int]] = []
        if lhs[-1][0] == "call":
            arguments = lhs[-1][3]
            ends = [a for a, _ in arguments[1:]] + [rhs - 1]
            for (a, p), b in zip(arguments, ends):
                if b - a != 1 or self.records[a][0] != "name":
                    raise self.error("a parameter must be a name, as in f(t) = t^2", p)
                params.append((self.records[a][1], p))
        elif len(lhs) != 1 or lhs[0][0] != "name":
            raise self.error(
                "the left side of '=' must be a name, or a function and its parameters such as "
                "f(t)",
                position,
            )
        self.check_new_name(name, name_position)
        self.defining = name
        if lhs[-1][0] == "call":
            seen = set()
            for param, p in params:
                if param in seen:
                    raise self.error(f"parameter {param!r} is named twice", p)
                if param in CONSTANTS:
                    raise self.error(f"{param!r} is a constant: a parameter needs another name", p)
                seen.add(param)
            body = _Emitter(self, params={param: i for i, (param, _) in enumerate(params)})
            body.emit(rhs, end)
            function = _UserFunction(name, len(params), body.steps, body.next_local)
            self.scope[name] = ("function", function)
        else:
            out.emit(rhs, end)
            slot = self.new_slot()
            out.append((STORE, slot, 0, None))
            self.scope[name] = ("value", slot)
        self.defining = None
        return name

    def check_new_name(self, name: str, position: int) -> None:
        if name in FUNCTIONS:
            raise self.error(
                f"{name!r} is a built-in function: a definition needs another name", position
            )
        if name in CONSTANTS:
            raise self.error(f"{name!r} is a constant: a definition needs another name", position)
        if name in self.scope:
            raise self.error(f"{name!r} is defined twice", position)

    def new_slot(self) -> int:
        self.slots += 1
        return self.slots - 1

    def count(self, calls: int) -> None:
        """Count calls the program will make; refuse past the node limit (inlining can blow up
        exponentially: f2(t) = f1(f1(t)), f3(t) = f2(f2(t)), ...)."""
        self.calls += calls
        if self.most_calls is not None and self.calls > self.most_calls:
            raise GraphTooLarge(self.most_calls)


class _Emitter:
    """Steps for one program, or for the body of a user function (`params`: name -> local
    slot, whose slots are renumbered where the body is inlined)."""

    def __init__(self, resolver: _Resolver, params: dict[str, int] | None = None):
        self.r = resolver
        self.params = params
        self.steps: list[tuple] = []
        self.next_local = len(params) if params is not None else 0
        self.at: dict[int, int] = {}  # record index -> index of its first step
        self.constant: list[bool] = []  # for each value on the stack: is it a constant?
        self.constant_slots: dict[int, bool] = {}

    def slot(self):
        """A fresh slot: global in a program, local (renumbered when inlined) in a body."""
        if self.params is None:
            return self.r.new_slot()
        self.next_local += 1
        return ("local", self.next_local - 1)

    def emit(self, begin: int, end: int) -> None:
        records, before = self.r.records, self.r.before
        for i in range(begin, end):
            for marker in before.get(i, ()):
                self.append(marker)
            self.at[i] = len(self.steps)
            record = records[i]
            kind = record[0]
            if kind == "number":
                self.append(self.number(record[1], record[2]))
            elif kind == "name":
                self.append(self.name(record[1], record[2]))
            elif kind == "op":
                self.append(self.operator(record[1], record[2]))
            else:
                self.call(i, record)

    def append(self, step: tuple) -> None:
        """Add a step. In a program, also follow which values are constants, and count each
        call that will record a node (one with a non-constant argument) against the limit."""
        self.steps.append(step)
        if self.params is not None:
            return
        kind, constant = step[0], self.constant
        if kind == CALL:
            n = step[2]
            recorded = not all(constant[len(constant) - n :])
            del constant[len(constant) - n :]
            constant.append(not recorded)
            if recorded:
                self.r.count(1)
        elif kind in (CONST, VAR):
            constant.append(kind == CONST)
        elif kind == LOAD:
            constant.append(self.constant_slots[step[1]])
        elif kind == STORE:
            self.constant_slots[step[1]] = constant.pop()

    def number(self, token: str, position: int) -> tuple:
        x = float(token)
        problem = literal_problem(token, x)
        if problem:
            raise self.r.error(f"number {problem}", position)
        return (CONST, x, 0, None)

    def name(self, name: str, position: int) -> tuple:
        r = self.r
        if self.params is not None and name in self.params:
            return (LOAD, ("local", self.params[name]), 0, None)
        entry = r.scope.get(name)
        if entry is not None:
            if entry[0] == "function":
                raise r.error(f"{name!r} is a function: call it as {name}(...)", position)
            return (LOAD, entry[1], 0, None)
        if name in CONSTANTS:
            return (CONST, CONSTANTS[name], 0, None)
        if name == r.defining:
            raise r.error(f"{name!r} is used in its own definition", position)
        if name in r.defined_later:
            raise r.error(f"{name!r} is used before it is defined", position)
        r.variables.setdefault(name, position)
        return (VAR, name, 0, None)

    def operator(self, rule: str, written: str) -> tuple:
        if rule == "compare":
            return (CALL, COMPARISONS[written], 2, f"'{written}'")
        cls = OPERATORS[rule]
        label = (
            f"'{written}'"
            if rule == "pow"
            else (cls.name if cls.name.isalpha() else f"'{cls.name}'")
        )
        return (CALL, cls, 1 if rule in ("neg", "not_") else 2, label)

    def call(self, i: int, record: tuple) -> None:
        _, name, position, arguments = record
        r, n = self.r, len(arguments)
        if self.params is not None and name in self.params:
            raise r.error(f"{name!r} is a parameter, not a function", position)
        entry = r.scope.get(name)
        if entry is not None:
            if entry[0] == "value":
                raise r.error(f"{name!r} is a value, not a function", position)
            return self.inline(entry[1], n, position)
        cls = FUNCTIONS.get(name)
        if cls is None:
            if name == r.defining:
                raise r.error(f"{name!r} calls itself: recursion is not supported", position)
            if name in r.defined_later:
                raise r.error(f"{name!r} is used before it is defined", position)
            raise r.error(unknown_message(name), position, UnknownFunction)
        check_arity(name, cls, n, r.text, position)
        static = getattr(cls, "static_args", 0)
        factory = cls
        if static:
            values = []
            for j in range(static):
                a, p = arguments[j]
                b = arguments[j + 1][0] if j + 1 < n else i
                # A number, or a negated one (-1), which check_static may then refuse.
                negated = b - a == 2 and r.records[a + 1][:2] == ("op", "neg")
                if b - a != 1 + negated or r.records[a][0] != "number":
                    raise r.error(f"argument {j + 1} of {name}() must be a number", p)
                value = -float(r.records[a][1]) if negated else float(r.records[a][1])
                problem = cls.check_static(j, value)
                if problem:
                    raise r.error(f"argument {j + 1} of {name}() {problem}", p)
                values.append(value)
            if self.params is None:  # they are no arguments of the call: not on the stack
                del self.constant[len(self.constant) - n : len(self.constant) - n + static]
            del self.steps[
                self.at[arguments[0][0]] : self.at[arguments[static][0]]
                if static < n
                else len(self.steps)
            ]
            factory = functools.partial(cls, *values)
        self.append((CALL, factory, n - static, name))

    def inline(self, function: _UserFunction, n: int, position: int) -> None:
        if n != function.arity:
            wanted = f"{function.arity} argument" + ("s" if function.arity != 1 else "")
            raise ArityError(f"{function.name}() takes {wanted}, got {n}", self.r.text, position)
        if self.params is not None:  # in a body: expanded when the program calls the body
            self.steps.append((USER, function, n, None))
            return
        # Expanded with a stack, not recursion: user functions may call each other deeply.
        work = [(iter(function.steps), self.enter(function))]
        while work:
            steps, local = work[-1]
            step = next(steps, None)
            if step is None:
                work.pop()
            elif step[0] == USER:
                work.append((iter(step[1].steps), self.enter(step[1])))
            else:
                if step[0] in (LOAD, STORE) and type(step[1]) is tuple:
                    step = (step[0], local[step[1][1]], 0, None)
                self.append(step)

    def enter(self, function: _UserFunction) -> list:
        """Fresh slots for one expansion of `function`, its arguments stored in the first."""
        local = [self.slot() for _ in range(function.slots)]
        for j in reversed(range(function.arity)):  # the arguments are on the stack, last on top
            self.append((STORE, local[j], 0, None))
        return local
