"""`dezero diff`'s formulas as text, LaTeX, rich and JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..formula import Formulas

from .numbers import format_number, to_json
from .results import document


def diff_comment(formulas: Formulas) -> str:
    """Where the formulas hold, for the comment line above them."""
    point = ", ".join(f"{name} = {format_number(x)}" for name, x in formulas.point.items())
    if not formulas.wrt:
        return "no variable to differentiate by"
    if formulas.generic:
        return f"holds wherever the expression is smooth (generic point {point})"
    return f"holds at {point}"


def render_diff_text(formulas: Formulas) -> str:
    lines = [f"# {diff_comment(formulas)}"]
    lines += [f"{left} = {right}" for left, right in formulas.listing()]
    return "\n".join(lines) + "\n"


def render_diff_latex(formulas: Formulas) -> str:
    """One equation a line, LaTeX math without delimiters; the comment is a LaTeX comment."""
    lines = [f"% {diff_comment(formulas)}"]
    lines += [f"{left} = {right}" for left, right in formulas.listing(latex=True)]
    return "\n".join(lines) + "\n"


def render_diff_rich(formulas: Formulas):
    """The text format with styles, for a terminal."""
    from rich.text import Text

    text = Text()
    text.append(f"# {diff_comment(formulas)}\n", style="dim")
    for left, right in formulas.listing():
        text.append(left, style="magenta" if "/" not in left else "cyan")
        text.append(" = ")
        text.append(right, style="bold")
        text.append("\n")
    text.rstrip()
    return text


def diff_record(formulas: Formulas, orders: bool) -> dict:
    """The `dezero diff --format json` record: `grad`'s, with each number a formula's text."""
    record = {
        "expr": formulas.expr,
        "point": {name: to_json(x) for name, x in formulas.point.items()},
        "generic": formulas.generic,
        "grad": formulas.grad,
    }
    if orders:
        record["derivatives"] = [nested_texts(level) for level in formulas.derivatives]
    record["warnings"] = list(formulas.warnings)
    return record


def render_diff_json(formulas: Formulas, orders: bool = False) -> str:
    import json

    return json.dumps(document(diff_record(formulas, orders)), allow_nan=False) + "\n"


def nested_texts(level: dict[tuple[str, ...], str]) -> dict:
    """{"x": {"y": text}} from {("x", "y"): text}, as `nested_record` nests numbers."""
    record: dict = {}
    for key, text in level.items():
        inner = record
        for name in key[:-1]:
            inner = inner.setdefault(name, {})
        inner[key[-1]] = text
    return record
