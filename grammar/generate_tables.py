"""Generate dezero_cli/language/tables.py from grammar/expression.lark.

    python grammar/generate_tables.py          # write the tables
    python grammar/generate_tables.py --check  # exit 1 if the committed tables are stale

Lark builds the LALR(1) tables; this script only writes them out as plain data, through Lark's
public serialization (`Lark.memo_serialize`, the format of `lark.tools.standalone`). The parse
loop in dezero_cli/language/parse.py reads that module directly, so running `dezero` never
needs Lark, a cache or a file outside the package.
"""

from __future__ import annotations

import argparse
import pprint
import re
import sys
from pathlib import Path

import lark
from lark.grammar import Rule
from lark.lexer import TerminalDef

HERE = Path(__file__).resolve().parent
GRAMMAR = HERE / "expression.lark"
TABLES = HERE.parent / "dezero_cli" / "language" / "tables.py"
# The same options the parse loop assumes: LALR(1), Lark's contextual lexer, and `[args]`
# giving a placeholder so that every rule has a fixed length.
OPTIONS = {"parser": "lalr", "lexer": "contextual", "maybe_placeholders": True}


def build(grammar: str) -> dict:
    """The tables for `grammar`, as plain data (dicts, lists, tuples, strings and ints)."""
    parser = lark.Lark(grammar, **OPTIONS)
    data, memo = parser.memo_serialize([TerminalDef, Rule])
    table = data["parser"]["parser"]
    symbols = table["tokens"]  # index -> name of each terminal and nonterminal
    rules = [memo[ref["@"]] for ref in data["parser"]["parser_conf"]["rules"]]
    rule_index = {id(rule): i for i, rule in enumerate(rules)}
    nonterminals = {rule["origin"]["name"] for rule in rules}
    actions: dict[int, dict[str, int]] = {}
    gotos: dict[int, dict[str, int]] = {}
    for state, row in sorted(table["states"].items()):
        actions[state], gotos[state] = {}, {}
        for symbol, (kind, arg) in sorted(row.items()):
            name = symbols[symbol]
            if kind == 0:  # shift (or, for a nonterminal, goto)
                (gotos if name in nonterminals else actions)[state][name] = arg
            else:  # reduce by a rule: stored as its complement, so shifts stay >= 0
                actions[state][name] = ~rule_index[id(memo[arg["@"]])]
    terminals = [memo[ref["@"]] for ref in data["parser"]["lexer_conf"]["terminals"]]
    keywords, terminals = _keywords(terminals)
    # The order in which Lark's basic lexer tries terminals: priority, then the longest
    # possible match, then the longest pattern, then the name.
    terminals.sort(
        key=lambda t: (
            -t["priority"],
            -_max_width(t["pattern"]),
            -len(t["pattern"]["value"]),
            t["name"],
        )
    )
    start, end = table["start_states"]["start"], table["end_states"]["start"]
    actions, gotos, start, end = _canonical(actions, gotos, start, end)
    return {
        "TERMINALS": [(t["name"], _regexp(t["pattern"])) for t in terminals],
        "LITERALS": {
            t["name"]: t["pattern"]["value"]
            for t in terminals
            if t["pattern"]["__type__"] == "PatternStr"
        },
        "KEYWORDS": keywords,
        "IGNORE": list(data["parser"]["lexer_conf"]["ignore"]),
        "RULES": [
            (rule["alias"] or name, name, len(rule["expansion"]))
            for rule in rules
            for name in [rule["origin"]["name"]]
        ],
        "ACTIONS": actions,
        "GOTOS": gotos,
        "START": start,
        "END": end,
    }


def _canonical(actions: dict, gotos: dict, start: int, end: int) -> tuple:
    """The same automaton with states numbered in breadth-first order from the start state,
    symbols in name order: Lark's own numbering changes with Python's hash seed."""
    order = [start]
    number = {start: 0}
    for state in order:  # grows as it goes: a breadth-first walk
        moves = {**actions[state], **gotos[state]}
        for symbol in sorted(moves):
            target = moves[symbol]
            if target >= 0 and target not in number:
                number[target] = len(order)
                order.append(target)
    if end not in number:
        number[end] = len(order)
        order.append(end)

    def renumber(row: dict, shifts: bool) -> dict:
        return {s: (number[t] if shifts and t >= 0 else t) for s, t in sorted(row.items())}

    return (
        {number[s]: renumber(actions[s], True) for s in order},
        {number[s]: renumber(gotos[s], True) for s in order},
        number[start],
        number[end],
    )


def _max_width(pattern: dict) -> int:
    if pattern["__type__"] == "PatternStr":
        return len(pattern["value"])
    return pattern["_width"][1]


def _regexp(pattern: dict) -> str:
    value = pattern["value"]
    text = re.escape(value) if pattern["__type__"] == "PatternStr" else value
    for flag in pattern["flags"]:
        text = f"(?{flag}:{text})"
    return text


def _keywords(terminals: list[dict]) -> tuple[dict[str, dict[str, str]], list[dict]]:
    """Literal terminals that a pattern terminal also matches (`and` is a NAME too), as Lark's
    lexer handles them: the pattern matches, then the text decides the type."""
    keywords: dict[str, dict[str, str]] = {}
    embedded = set()
    for rx in terminals:
        if rx["pattern"]["__type__"] != "PatternRE":
            continue
        for st in terminals:
            if st["pattern"]["__type__"] != "PatternStr" or st["priority"] != rx["priority"]:
                continue
            text = st["pattern"]["value"]
            if re.fullmatch(_regexp(rx["pattern"]), text):
                keywords.setdefault(rx["name"], {})[text] = st["name"]
                if set(st["pattern"]["flags"]) <= set(rx["pattern"]["flags"]):
                    embedded.add(st["name"])
    return keywords, [t for t in terminals if t["name"] not in embedded]


def module_text(grammar: str) -> str:
    tables = build(grammar)
    lines = [
        "# Generated from grammar/expression.lark by `python grammar/generate_tables.py`",
        f"# (lark {lark.__version__}): do not edit.",
        '"""The LALR(1) tables of the expression language, as plain data for parse.py."""',
        "",
        "# fmt: off",
    ]
    for name, value in tables.items():
        text = pprint.pformat(value, width=100, sort_dicts=False, compact=True)
        lines.append(f"{name} = {text}")
    return "\n".join(lines) + "\n"


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--check", action="store_true", help="compare instead of writing")
    args = options.parse_args()
    text = module_text(GRAMMAR.read_text(encoding="utf-8"))
    if args.check:
        if TABLES.read_text(encoding="utf-8") != text:
            print(f"{TABLES} is stale: run python {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    TABLES.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
