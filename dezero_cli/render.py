"""Every rendering of results as text and JSON: each command builds its data through the API,
then one function per format renders it. The JSON header (expr, inputs, value) has one builder.
"""

from __future__ import annotations

import math

import numpy as np

from .api import CheckResult, Result, label

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
    for name, a in shown:
        text.append(name, style="cyan")
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


def header(result: Result) -> dict:
    """The fields every JSON record of an evaluation starts with: expr, inputs, value."""
    return {
        "expr": result.expr,
        "inputs": {name: to_json(x) for name, x in result.inputs.items()},
        "value": to_json(result.value),
    }


def result_record(result: Result) -> dict:
    """The `dezero grad --format json` record of a Result."""
    record = header(result)
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


# dezero check


def check_lines(check: CheckResult) -> list[tuple[str, str, str, str, str, bool]]:
    """(label, backprop, numeric, abs error, rel error, ok) per element of each variable."""
    out = []
    for name, c in check.checks.items():
        for i in np.ndindex(np.shape(c.backprop)):
            index = "".join(f"[{j}]" for j in i)
            out.append(
                (
                    f"df/d{name}{index}",
                    format_number(c.backprop[i]),
                    format_number(c.numeric[i]),
                    format_number(c.abs_error[i]),
                    format_number(c.rel_error[i]),
                    bool(c.ok[i]),
                )
            )
    return out


def verdict(check: CheckResult) -> str:
    lines = check_lines(check)
    bad = sum(1 for line in lines if not line[-1])
    settings = f"eps {check.eps!r}, rtol {check.rtol!r}, atol {check.atol!r}"
    if not bad:
        return f"check passed: {len(lines)} of {len(lines)} within tolerance ({settings})"
    return f"check FAILED: {bad} of {len(lines)} outside tolerance ({settings})"


def render_check_text(check: CheckResult) -> str:
    lines = [f"f = {format_array(check.result.value)}"]
    for name, backprop, numeric, abs_error, rel_error, ok in check_lines(check):
        lines.append(
            f"{name}: backprop {backprop}, numeric {numeric}, abs error {abs_error}, "
            f"rel error {rel_error}, {'ok' if ok else 'FAILED'}"
        )
    lines.append(verdict(check))
    return "\n".join(lines) + "\n"


def render_check_json(check: CheckResult) -> str:
    import json

    record = header(check.result)
    record.update(
        {
            "checks": {
                name: {
                    "backprop": to_json(c.backprop),
                    "numeric": to_json(c.numeric),
                    "abs_error": to_json(c.abs_error),
                    "rel_error": to_json(c.rel_error),
                    "ok": c.ok.tolist(),
                }
                for name, c in check.checks.items()
            },
            "eps": check.eps,
            "rtol": check.rtol,
            "atol": check.atol,
            "ok": check.ok,
            "warnings": list(check.warnings),
        }
    )
    return json.dumps(record, allow_nan=False) + "\n"


def function_rows() -> list[dict]:
    """One row per registered function class: name, aliases, parameters, arity (the least
    number of arguments, `variadic` if it may take more), how many leading arguments must be
    written as numbers (`static_args`), derivative rule, convention."""
    from .engine.functions import FUNCTIONS

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
    """A row per function; its convention, if any, wrapped to `width` under the derivative.
    A derivative by several arguments too long for the line takes a line for each (its parts
    are separated by `;  `). A function taking any number of arguments from 2 on has arity
    `2+`."""
    import textwrap

    def call(row: dict) -> str:
        args = ", ".join(row["parameters"])
        return ", ".join(f"{name}({args})" for name in [row["name"], *row["aliases"]])

    calls = [call(row) for row in rows]
    call_width = max(len(c) for c in calls)
    lines = [f"{'function':<{call_width}}  arity  derivative"]
    label = " " * (call_width + 9) + "convention: "
    for c, row in zip(calls, rows):
        arity = f"{row['arity']}+" if row["variadic"] else str(row["arity"])
        first = f"{c:<{call_width}}  {arity:>5}  "
        parts = [row["derivative"]]
        if len(first) + len(parts[0]) > width:
            parts = parts[0].split(";  ")
            parts = [part + ";" for part in parts[:-1]] + parts[-1:]
        lines.append(first + parts[0])
        lines += [" " * len(first) + part for part in parts[1:]]
        if row["convention"]:
            lines += textwrap.wrap(
                row["convention"],
                width,
                initial_indent=label,
                subsequent_indent=" " * len(label),
                break_long_words=False,
                break_on_hyphens=False,
            )
    return "\n".join(lines) + "\n"


def render_functions_json(rows: list[dict]) -> str:
    import json

    return json.dumps(rows) + "\n"
