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
    return out


def render_text(result: Result) -> str:
    return "".join(f"{label} = {format_array(a)}\n" for label, a in rows(result))


def render_quiet(result: Result) -> str:
    return "".join(format_array(a, " ") + "\n" for _, a in rows(result))


def render_rich(result: Result):
    """The text format with styles, for a terminal."""
    from rich.text import Text

    text = Text()
    for label, a in rows(result):
        text.append(label, style="cyan")
        text.append(" = ")
        text.append(format_array(a), style="bold")
        text.append("\n")
    text.rstrip()
    return text


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
    record["warnings"] = list(result.warnings)
    return record


def render_json(result: Result) -> str:
    import json  # here, not at the top: only this format needs it, and every start pays imports

    return json.dumps(result_record(result), allow_nan=False) + "\n"
