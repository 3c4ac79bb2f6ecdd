"""Result -> text. Each command builds a Result; one function per format renders it."""

from __future__ import annotations

import math

import numpy as np

from .api import Result

FORMATS = ("text", "json")


def format_number(x: float) -> str:
    """Shortest text that reads back as the same float64."""
    return repr(float(x))


def format_array(a: np.ndarray, sep: str = ", ") -> str:
    a = np.asarray(a)
    if a.ndim == 0:
        return format_number(a)
    if a.ndim == 1:
        inner = sep.join(format_number(x) for x in a)
    else:
        inner = sep.join(format_array(row, sep) for row in a)
    return inner if sep == " " else f"[{inner}]"


def rows(result: Result) -> list[tuple[str, np.ndarray]]:
    """(label, array) for each quantity, in the order they are shown."""
    out = [("f", result.value)]
    for name, g in (result.grad or {}).items():
        out.append((f"df/d{name}", g))
    out.extend(higher_rows(result))
    return out


def higher_rows(result: Result, skip_order: int = 0) -> list[tuple[str, np.ndarray]]:
    """(label, array) for each distinct partial of order 2 and up (d2f/dxdy, not d2f/dydx)."""
    if not result.derivatives:
        return []
    from .orders import label

    rank = {name: i for i, name in enumerate(result.grad or {})}
    out = []
    for k, level in enumerate((result.derivatives or [])[1:], start=2):
        if k == skip_order:
            continue
        for key, a in level.items():
            if all(rank[a_] <= rank[b_] for a_, b_ in zip(key, key[1:])):
                out.append((label(key), a))
    return out


def hessian_table(result: Result):
    """The second derivatives as a rich Table, when there are several variables and scalars."""
    levels = result.derivatives or []
    names = list(result.grad or {})
    if len(levels) < 2 or len(names) < 2 or any(np.ndim(a) for a in levels[1].values()):
        return None
    from rich.table import Table

    table = Table(title="Hessian d2f/d(row)d(column)", title_justify="left")
    table.add_column("", style="cyan")
    for name in names:
        table.add_column(name, justify="right")
    for row in names:
        table.add_row(row, *(format_number(levels[1][row, col]) for col in names))
    return table


def render_text(result: Result) -> str:
    return "".join(f"{label} = {format_array(a)}\n" for label, a in rows(result))


def render_quiet(result: Result) -> str:
    return "".join(format_array(a, " ") + "\n" for _, a in rows(result))


def render_rich(result: Result):
    """The text format with styles, for a terminal."""
    from rich.text import Text

    table = hessian_table(result)
    shown = rows(result)
    if table is not None:
        shown = shown[: 1 + len(result.grad or {})] + higher_rows(result, skip_order=2)
    text = Text()
    for label, a in shown:
        text.append(label, style="cyan")
        text.append(" = ")
        text.append(format_array(a), style="bold")
        text.append("\n")
    text.rstrip()
    if table is None:
        return text
    from rich.console import Group

    return Group(text, table)


def to_json(a):
    """A float64 array as JSON data: nested lists, with None where the number is not finite."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 0:
        x = float(a)
        return x if math.isfinite(x) else None
    return (
        [to_json(row) for row in a]
        if a.ndim > 1
        else [float(x) if math.isfinite(x) else None for x in a.tolist()]
    )


def result_record(result: Result) -> dict:
    record = {
        "expr": result.expr,
        "inputs": {name: to_json(x) for name, x in result.inputs.items()},
        "value": to_json(result.value),
    }
    if result.grad is not None:
        record["grad"] = {name: to_json(g) for name, g in result.grad.items()}
    if result.derivatives is not None:
        record["derivatives"] = [nested_record(level) for level in result.derivatives]
    record["warnings"] = list(result.warnings)
    return record


def render_json(result: Result) -> str:
    import json  # here, not at the top: only this format needs it, and every start pays imports

    return json.dumps(result_record(result), allow_nan=False) + "\n"


def nested_record(level: dict[tuple[str, ...], np.ndarray]) -> dict:
    """{"x": {"y": fxy}} from {("x", "y"): fxy}: one level of nesting per differentiation."""
    record: dict = {}
    for key, a in level.items():
        inner = record
        for name in key[:-1]:
            inner = inner.setdefault(name, {})
        inner[key[-1]] = to_json(a)
    return record
