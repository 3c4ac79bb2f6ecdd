"""`dezero functions`: the registry as rows, and those rows as text and JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..output import wrap

if TYPE_CHECKING:
    pass

from .results import document


def function_rows() -> list[dict]:
    """One row per registered function class: name, aliases, parameters, arity (the least
    number of arguments, `variadic` if it may take more), how many leading arguments must be
    written as numbers (`static_args`), derivative rule, convention."""
    from ..engine.functions import FUNCTIONS

    rows: dict[type, dict] = {}
    for name, cls in FUNCTIONS.items():
        least, most = cls.arity if isinstance(cls.arity, tuple) else (cls.arity, cls.arity)
        row = rows.setdefault(
            cls,
            {
                "name": cls.name,
                "aliases": [],
                "parameters": _parameters(cls, least, most),
                "arity": least,
                "variadic": most is None,
                "static_args": getattr(cls, "static_args", 0),
                "derivative": getattr(cls, "derivative", ""),
                "convention": getattr(cls, "convention", None),
            },
        )
        if name != cls.name:
            row["aliases"].append(name)
    return sorted(rows.values(), key=lambda row: row["name"])


def _parameters(cls, least: int, most: int | None) -> list[str]:
    """The names of a function's parameters: its own, or x for one, a, b, ... for more; `...`
    last where it takes any number."""
    names = getattr(cls, "parameters", None)
    if names is None:
        names = ["x"] if least == 1 else [chr(ord("a") + i) for i in range(least)]
    return [*names, "..."] if most is None else list(names)


def render_functions_text(rows: list[dict], width: int = 100) -> str:
    """A row per function; its derivative and its convention, if any, wrapped at words to
    `width` (a terminal's width, or 100 piped). A derivative by several arguments too long for
    the line takes a line for each (its parts are separated by `;  `). A function taking any
    number of arguments from 2 on has arity `2+`."""

    def call(row: dict) -> str:
        args = ", ".join(row["parameters"])
        return ", ".join(f"{name}({args})" for name in [row["name"], *row["aliases"]])

    calls = [call(row) for row in rows]
    call_width = max(len(c) for c in calls)
    column = call_width + 9  # where the derivative starts
    # Under the derivative while that leaves room for words; at the margin on a narrow screen.
    label = (" " * column if width - column >= 40 else "  ") + "convention: "
    lines = [f"{'function':<{call_width}}  arity  derivative"]
    for c, row in zip(calls, rows):
        arity = f"{row['arity']}+" if row["variadic"] else str(row["arity"])
        head = f"{c:<{call_width}}  {arity:>5}  "
        parts = [row["derivative"]]
        if len(head) + len(parts[0]) > width:
            parts = parts[0].split(";  ")
            parts = [part + ";" for part in parts[:-1]] + parts[-1:]
        lines += wrap(head + parts[0], width, column)
        for part in parts[1:]:
            lines += wrap(part, width, column, first=" " * column)
        if row["convention"]:
            lines += wrap(row["convention"], width, len(label), first=label)
    return "\n".join(lines) + "\n"


def render_functions_json(rows: list[dict]) -> str:
    import json

    return json.dumps(document({"functions": rows})) + "\n"
