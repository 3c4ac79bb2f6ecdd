"""A lean LALR(1) loop over the tables Lark builds from `grammar/expression.lark`.

Lark stays the grammar's authority: it builds the tables (once per user, then cached as plain
data) and parses again whenever this loop rejects the text, so that syntax errors keep Lark's
positions and our explanations. This loop only runs text that parses. It exists because the
command must start fast and expressions can be 100,000 levels deep: it needs neither Lark's
import (a fifth of a one-shot run) nor a parse tree, and the compiler builds its postfix
steps in the reduce callbacks, which an LR parser calls in exactly postfix order.
"""

from __future__ import annotations

import binascii
import itertools
import os
import pickle
import re
from collections.abc import Callable

TABLE_FORMAT = 1
_tables: Tables | None = None


class Tables:
    """Shift/reduce actions, gotos, rules and terminals: plain data, safe to cache."""

    FIELDS = (
        "grammar",
        "terminals",
        "literals",
        "ignore",
        "actions",
        "gotos",
        "rules",
        "start",
        "end",
    )
    __slots__ = (*FIELDS, "lexer")

    def __init__(self, grammar, terminals, literals, ignore, actions, gotos, rules, start, end):
        self.grammar = grammar  # the grammar text the tables were built from
        self.terminals = terminals  # [(name, regexp)] in the order the lexer tries them
        self.literals = literals  # terminals that match one fixed string: their text is known
        self.ignore = ignore  # names of terminals the lexer skips
        self.actions = actions  # per state {terminal: next state, or ~rule to reduce}
        self.gotos = gotos  # per state {nonterminal: next state}
        self.rules = rules  # [(name, nonterminal, length)]; name is the alias if it has one
        self.start = start
        self.end = end
        self.lexer: tuple | None = None  # built on first use, never cached

    def data(self) -> tuple:
        return tuple(getattr(self, name) for name in self.FIELDS)


def tables_from_lark(parser, grammar: str) -> Tables:
    """Read the tables out of a Lark LALR parser (built or loaded) for `grammar`."""
    table = parser.parser.parser._parse_table
    rules = list(
        {
            id(rule): rule
            for state in table.states.values()
            for _, rule in state.values()
            if not isinstance(rule, int)
        }.values()
    )
    index = {id(rule): i for i, rule in enumerate(rules)}
    # Lark names symbols with Token objects (a str subclass): keep plain str, which the cache
    # loader accepts, and nothing else.
    nonterminals = {str(rule.origin.name) for rule in parser.rules}
    actions: dict[int, dict[str, int]] = {}
    gotos: dict[int, dict[str, int]] = {}
    for state, row in table.states.items():
        actions[state], gotos[state] = {}, {}
        for symbol, (action, arg) in row.items():
            symbol = str(symbol)
            if action.name == "Shift":
                (gotos if symbol in nonterminals else actions)[state][symbol] = arg
            else:
                actions[state][symbol] = ~index[id(arg)]
    rule_data = [
        (str(rule.alias or rule.origin.name), str(rule.origin.name), len(rule.expansion))
        for rule in rules
    ]
    # Lark's basic lexer tries terminals by priority, then the longest possible match first.
    terminals = sorted(
        parser.lexer_conf.terminals,
        key=lambda t: (-t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name),
    )
    (start,) = (int(s) for s in table.start_states.values())
    (end,) = (int(s) for s in table.end_states.values())
    return Tables(
        grammar,
        [(str(t.name), str(t.pattern.to_regexp())) for t in terminals],
        [str(t.name) for t in terminals if t.pattern.type == "str"],
        [str(name) for name in parser.lexer_conf.ignore],
        actions,
        gotos,
        rule_data,
        start,
        end,
    )


class _PlainData(pickle.Unpickler):
    """Unpickles dicts, lists, tuples, strings and numbers, and refuses any class."""

    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"{module}.{name} is not plain data")


def _cache_path(grammar: str) -> str:
    from .parser import cache_dir

    key = binascii.crc32(grammar.encode())
    return os.path.join(cache_dir(), f"tables-{TABLE_FORMAT}-{key:08x}.pickle")


def _load(path: str, grammar: str) -> Tables | None:
    from .parser import open_private

    try:
        f = open_private(path)
        if f is None:
            return None
        with f:
            tables = Tables(*_PlainData(f).load())
    except Exception:
        return None
    # The whole grammar is stored and compared, so a stale or colliding file is never used.
    return tables if tables.grammar == grammar else None


def _save(tables: Tables, path: str) -> None:
    from .parser import save_private

    save_private(path, lambda f: pickle.dump(tables.data(), f, protocol=4))


def get_tables() -> Tables:
    """The tables for the installed grammar: from the per-user cache, or built with Lark."""
    global _tables
    if _tables is None:
        from .parser import get_parser, grammar_text

        grammar = grammar_text()
        path = _cache_path(grammar)
        tables = _load(path, grammar)
        if tables is None:
            tables = tables_from_lark(get_parser(), grammar)
            _save(tables, path)
        _tables = tables
    return _tables


def _lexer(tables: Tables) -> tuple:
    if tables.lexer is None:
        pattern = re.compile("|".join(f"(?P<{name}>{rx})" for name, rx in tables.terminals))
        # Only the tokens whose text matters are kept: names and numbers, not punctuation.
        keep = frozenset(name for name, _ in tables.terminals) - frozenset(tables.literals)
        tables.lexer = (pattern.finditer, frozenset(tables.ignore), keep)
    return tables.lexer


class Rejected(Exception):
    """The loop cannot parse the text; Lark parses it again to say why."""


def parse(text: str, callbacks: dict[str, Callable], tables: Tables | None = None):
    """Parse `text`, calling `callbacks[rule name](children)` at each reduce; return the result.

    Tokens reach callbacks as (type, text, position). A rule without a callback passes on the
    sum of its children that are ints (the compiler's operand counts). Raises Rejected where
    the text does not parse.
    """
    tables = tables or get_tables()
    finditer, ignore, keep = _lexer(tables)
    actions, gotos, end = tables.actions, tables.gotos, tables.end
    reducers = [(callbacks.get(name), origin, length) for name, origin, length in tables.rules]
    # Pass-throughs such as `?sum: product` leave the values alone and only change the top
    # state, in a way fixed by the state below it, the top state and the lookahead: remember
    # where each such chain of them ends.
    passes: dict[tuple, int] = {}
    states = [tables.start]
    values: list = []
    pos = 0
    for m in itertools.chain(finditer(text), (None,)):
        if m is not None:
            if m.start() != pos:
                raise Rejected(pos)  # a character no terminal matches
            kind = m.lastgroup
            pos = m.end()
            if kind in ignore:
                continue
            token = (kind, m.group(), m.start()) if kind in keep else None
        elif pos != len(text):
            raise Rejected(pos)
        else:
            kind, token = "$END", None
        while True:
            action = actions[states[-1]].get(kind)
            if action is None:
                raise Rejected(pos)
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
            if states[-1] == end and kind == "$END":
                return values[-1]
    raise Rejected(pos)  # not reached: $END either completes the parse or is rejected


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
