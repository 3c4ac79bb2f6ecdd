"""Rendering for `dezero check` and `dezero functions`: the data is built elsewhere."""

from __future__ import annotations

import json

import numpy as np

from .gradcheck import CheckResult
from .render import format_array, format_number, to_json


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
    for label, backprop, numeric, abs_error, rel_error, ok in check_lines(check):
        lines.append(
            f"{label}: backprop {backprop}, numeric {numeric}, abs error {abs_error}, "
            f"rel error {rel_error}, {'ok' if ok else 'FAILED'}"
        )
    lines.append(verdict(check))
    return "\n".join(lines) + "\n"


def render_check_json(check: CheckResult) -> str:
    result = check.result
    record = {
        "expr": result.expr,
        "inputs": {name: to_json(x) for name, x in result.inputs.items()},
        "value": to_json(result.value),
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
    return json.dumps(record, allow_nan=False) + "\n"


def function_rows() -> list[dict]:
    """One row per registered function class: name, aliases, arity, derivative rule, convention."""
    from .functions import FUNCTIONS

    rows: dict[type, dict] = {}
    for name, cls in FUNCTIONS.items():
        row = rows.setdefault(
            cls,
            {
                "name": cls.name,
                "aliases": [],
                "arity": cls.arity,
                "derivative": getattr(cls, "derivative", ""),
                "convention": getattr(cls, "convention", None),
            },
        )
        if name != cls.name:
            row["aliases"].append(name)
    return sorted(rows.values(), key=lambda row: row["name"])


def render_functions_text(rows: list[dict], width: int = 100) -> str:
    """A row per function; its convention, if any, wrapped to `width` under the derivative."""
    import textwrap

    def call(row: dict) -> str:
        args = "x" if row["arity"] == 1 else ", ".join("ab"[: row["arity"]])
        names = [row["name"], *row["aliases"]]
        return ", ".join(f"{name}({args})" for name in names)

    calls = [call(row) for row in rows]
    call_width = max(len(c) for c in calls)
    lines = [f"{'function':<{call_width}}  arity  derivative"]
    label = " " * (call_width + 9) + "convention: "
    for c, row in zip(calls, rows):
        lines.append(f"{c:<{call_width}}  {row['arity']:>5}  {row['derivative']}")
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
    return json.dumps(rows) + "\n"
