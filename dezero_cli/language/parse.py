"""Text -> reduce callbacks: an LALR(1) loop over the tables generated from the grammar.

The tables (tables.py) are made ahead of time from grammar/expression.lark by Lark; this loop
reads them directly, so parsing needs neither Lark nor a cache, and nothing here recurses:
expressions may nest 100,000 deep. There is no parse tree either: the loop calls back at each
reduce, and an LR parser reduces in exactly postfix order, which is the order a compiler emits.

Where the text does not parse, the loop's own rejection (a character no terminal matches, or a
token the state does not accept) becomes one sentence a person can act on, with its column.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable

from ..errors import ExpressionSyntaxError
from . import tables

_PATTERN = re.compile("|".join(f"(?P<{name}>{rx})" for name, rx in tables.TERMINALS))
_IGNORE = frozenset(tables.IGNORE)


def parse(text: str, callbacks: dict[str, Callable]):
    """Parse `text`, calling `callbacks[rule alias](children)` at each reduce; return the result.

    A child is the value a callback returned, or a token as (type, text, position). A rule
    without a callback passes on the sum of its children that are ints.
    Raises ExpressionSyntaxError where the text does not parse.
    """
    if not text.strip():
        raise ExpressionSyntaxError("empty expression", text, 0)
    actions, gotos, keywords = tables.ACTIONS, tables.GOTOS, tables.KEYWORDS
    reducers = [(callbacks.get(name), origin, length) for name, origin, length in tables.RULES]
    # Pass-throughs such as `?sum: product` leave the values alone and only change the top
    # state, in a way fixed by the state below it, the top state and the lookahead: remember
    # where each such chain of them ends (for every parse with callbacks of the same rules).
    passes = _PASSES.setdefault(frozenset(k for k, f in callbacks.items() if f is not None), {})
    states = [tables.START]
    values: list = []
    pos = 0
    for m in itertools.chain(_PATTERN.finditer(text), (None,)):
        if m is not None:
            if m.start() != pos:
                raise explain(text, pos)  # a character no terminal matches
            kind = m.lastgroup
            pos = m.end()
            if kind in _IGNORE:
                continue
            if kind in keywords:
                kind = keywords[kind].get(m.group(), kind)
            token = (kind, m.group(), m.start())
        elif pos != len(text):
            raise explain(text, pos)
        else:
            kind, token = "$END", None
        while True:
            action = actions[states[-1]].get(kind)
            if action is None:
                raise explain(text, pos, kind, m and m.group(), m and m.start())
            if action >= 0:  # shift
                states.append(action)
                values.append(token)
                break
            callback, origin, length = reducers[~action]
            if length == 1 and callback is None:
                key = (states[-2], states[-1], kind)
                top = passes.get(key)
                if top is None:
                    top = passes[key] = _pass_through(key, actions, gotos, reducers)
                states[-1] = top
            else:
                children = values[-length:] if length else []
                del values[len(values) - length :]
                del states[len(states) - length + 1 :]
                values.append(
                    callback(children)
                    if callback is not None
                    else sum(c for c in children if type(c) is int)
                )
                states[-1] = gotos[states[-2]][origin]
            if states[-1] == tables.END and kind == "$END":
                return values[-1]
    raise AssertionError("not reached: $END either completes the parse or is rejected")


_PASSES: dict[frozenset, dict[tuple, int]] = {}  # by the rules that have callbacks


def _pass_through(key: tuple, actions, gotos, reducers) -> int:
    """The top state after every pass-through reduction the lookahead calls for in a row."""
    below, top, kind = key
    while True:
        action = actions[top].get(kind)
        if action is None or action >= 0:
            return top
        callback, origin, length = reducers[~action]
        if length != 1 or callback is not None:
            return top
        top = gotos[below][origin]


# Errors -------------------------------------------------------------------------------------


def explain(
    text: str, pos: int, kind: str | None = None, value: str = "", start: int = 0
) -> ExpressionSyntaxError:
    """A rejection as one sentence a person can act on: of the character at `pos`, which no
    terminal matches, or (with `kind`) of the token `value` of that type found at `start`
    (`$END` for the end of the text)."""
    if kind is None:
        char = text[pos]
        if char == "." and pos + 1 < len(text) and text[pos + 1].isdigit():
            return _malformed_number(text, pos)
        shown = repr(char) if char.isprintable() else f"U+{ord(char):04X}"
        return ExpressionSyntaxError(f"unexpected character {shown}", text, pos)
    if kind == "$END":
        end = len(text.rstrip())
        if text.count("(") > text.count(")"):
            return ExpressionSyntaxError("missing ')' at the end of the expression", text, end)
        if text.count("[") > text.count("]"):
            return ExpressionSyntaxError("missing ']' at the end of the expression", text, end)
        return ExpressionSyntaxError("the expression ends too early", text, end)
    col = start
    before = text[:col].rstrip()
    vector = _vector_problem(text, col, kind, before)
    if vector is not None:
        return vector
    # A number's last character is a digit or its point: `1..2` is one malformed number too.
    glued_to_digit = len(before) == col and before[-1:] != "" and before[-1] in "0123456789."
    if glued_to_digit and (
        kind == "NUMBER" and value.startswith(".") or kind == "NAME" and value[0] in "eE"
    ):
        return _malformed_number(text, col)  # 1.2.3, 1e
    if (
        kind in ("NAME", "NUMBER", "LPAR")
        and before[-1:]
        and (before[-1].isalnum() or before[-1] in "._)")
    ):
        called = re.search(r"(?<![A-Za-z0-9_.])[A-Za-z_][A-Za-z0-9_]*$", before)
        if called and kind != "LPAR":
            from ..engine.functions import FUNCTIONS  # only on this error path

            if called[0] in FUNCTIONS:  # `sin x`: a call without parentheses
                name = called[0]
                return ExpressionSyntaxError(
                    f"{name!r} is a function: call it as {name}(...)", text, called.start()
                )
        left = before.split()[-1] if before.split() else before
        left = left[-12:]
        return ExpressionSyntaxError(
            f"implicit multiplication is not supported: write {left}*{value}"
            if kind != "LPAR"
            else f"implicit multiplication is not supported: write {left}*(...)",
            text,
            col,
        )
    after_operand = before[-1:] != "" and (before[-1].isalnum() or before[-1] in "._)")
    if kind == "COMPARE" and after_operand:
        return ExpressionSyntaxError(
            f"comparisons cannot be chained: write a {value} b and b {value} c", text, col
        )
    if value == "not" and before[-1:] in ("+", "-", "*", "/", "^", "<", ">", "="):
        return ExpressionSyntaxError(
            "'not' binds more loosely than arithmetic and comparisons: write (not ...)", text, col
        )
    if value in ("and", "or", "not") and not after_operand:
        return ExpressionSyntaxError(
            f"'{value}' is a reserved word: it cannot name a variable or a function", text, col
        )
    if kind == "RPAR" and text[:col].count("(") <= text[:col].count(")"):
        return ExpressionSyntaxError("unmatched ')'", text, col)
    what = {"NUMBER": "number", "NAME": "name"}.get(kind)
    what = f"{what} {value!r}" if what else f"'{value}'"
    return ExpressionSyntaxError(f"unexpected {what}", text, col)


def _vector_problem(text: str, col: int, kind: str, before: str) -> ExpressionSyntaxError | None:
    """The sentence for a list written where the grammar has none: `[` or `]` out of place,
    or anything after a list, which can only be the whole result."""
    if before.endswith("]") and kind != "SEMICOLON":
        message = "a list [...] is the whole result: nothing can follow it but ';'"
    elif kind == "LSQB":
        message = (
            "a list [...] can only be the whole result (the last statement): "
            "it cannot be nested, an argument or part of an expression"
        )
    elif kind != "RSQB":
        return None
    elif before.endswith("["):
        message = "an empty list: a vector result needs at least one element, as in [x]"
    elif "[" not in before:
        message = "unmatched ']'"
    elif before.count("(") > before.count(")"):
        message = "missing ')' before ']'"
    else:
        return None
    return ExpressionSyntaxError(message, text, col)


def _malformed_number(text: str, col: int) -> ExpressionSyntaxError:
    start = col
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in ".+-"):
        if text[start - 1] in "+-" and (start < 2 or text[start - 2] not in "eE"):
            break
        start -= 1
    end = col
    while end < len(text) and (
        text[end].isalnum() or text[end] == "." or text[end] in "+-" and text[end - 1] in "eE"
    ):
        end += 1
    return ExpressionSyntaxError(f"malformed number {text[start:end]!r}", text, start)
