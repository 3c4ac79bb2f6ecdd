"""A Result (grad, eval, derivatives) as text, bare numbers, rich, or JSON; the JSON header
(expr, inputs, value) has this one builder, and `document` adds the schema version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..api import Result, label

if TYPE_CHECKING:
    pass

from .numbers import format_array, to_json

FORMATS = ("text", "json")


# The version of every JSON shape documented in docs/json.md (and docs/json-schema.json). The
# single-document commands print it as "schema"; batch's JSON Lines records, kept small, do not.
SCHEMA = 1


PLUS_MINUS = "±"


def per_output(result: Result, a: np.ndarray) -> list[tuple[int | None, np.ndarray]]:
    """(output, array) for each output: (None, a) for a scalar result, (i, a[i]) for a vector."""
    if not result.outputs:
        return [(None, a)]
    return [(i, a[i]) for i in range(result.outputs)]


def value_rows(result: Result) -> list[tuple[str, np.ndarray]]:
    """(label, array) for the value: `f`, or `f[0]`, `f[1]`, ... for a vector result."""
    return [("f" if i is None else f"f[{i}]", v) for i, v in per_output(result, result.value)]


def gradient_rows(result: Result) -> list[tuple[str, np.ndarray]]:
    """(label, array) for each first derivative: `df/dx`; for a vector result the Jacobian
    by rows, `df[0]/dx`, `df[0]/dy`, `df[1]/dx`, ..."""
    grads = result.grad or {}
    parts = {name: per_output(result, g) for name, g in grads.items()}
    return [
        (label((name,), parts[name][j][0]), parts[name][j][1])
        for j in range(max(result.outputs, 1))
        for name in grads
    ]


def rows(result: Result) -> list[tuple[str, np.ndarray]]:
    """(label, array) for each quantity, in the order they are shown."""
    return [*value_rows(result), *gradient_rows(result), *higher_rows(result)]


def higher_rows(result: Result, skip_order: int = 0) -> list[tuple[str, np.ndarray]]:
    """(label, array) for each distinct partial of order 2 and up (d2f/dxdy, not d2f/dydx),
    order by order, and for a vector result output by output (d2f[0]/dx2, ...)."""
    if not result.derivatives:
        return []
    rank = {name: i for i, name in enumerate(result.grad or {})}
    out = []
    for k, level in enumerate((result.derivatives or [])[1:], start=2):
        if k == skip_order:
            continue
        for j in range(max(result.outputs, 1)):
            for key, a in level.items():
                if all(rank[a_] <= rank[b_] for a_, b_ in zip(key, key[1:])):
                    i, part = per_output(result, a)[j]
                    out.append((label(key, i), part))
    return out


def uncertainties(result: Result) -> dict[str, np.ndarray]:
    """The value's standard uncertainty by the label of its row (`f`, `f[0]`, ...)."""
    if result.uncertainty is None:
        return {}
    labels = [name for name, _ in value_rows(result)]
    return {name: sd for name, (_, sd) in zip(labels, per_output(result, result.uncertainty))}


def render_text(result: Result, pm: str = PLUS_MINUS) -> str:
    """`label = number` lines; a value with an uncertainty is `f = 4.0 ± 0.4` (`pm` is the
    sign between them, `+/-` where the output's encoding has no ±)."""
    sds = uncertainties(result)
    return "".join(
        f"{name} = {format_array(a)}"
        + (f" {pm} {format_array(sds[name])}" if name in sds else "")
        + "\n"
        for name, a in rows(result)
    )


def render_quiet(result: Result) -> str:
    """Bare numbers, one quantity a line; a value's uncertainty on the line after it."""
    sds = uncertainties(result)
    out = []
    for name, a in rows(result):
        out.append(format_array(a, " ") + "\n")
        if name in sds:
            out.append(format_array(sds[name], " ") + "\n")
    return "".join(out)


def render_rich(result: Result, width: int = 80, digits: int | None = None, pm: str = PLUS_MINUS):
    """The text format with styles, for a terminal `width` columns wide: a Hessian of scalars
    (or a vector result's Jacobian) as a table in its place, numbers and uncertainties rounded
    to `digits` if given."""
    from rich.console import Group
    from rich.text import Text

    from .matrices import hessian_table, jacobian_table

    sds = uncertainties(result)

    def lines(shown: list[tuple[str, np.ndarray]]) -> Text:
        text = Text()
        for name, a in shown:
            text.append(name, style="cyan")
            text.append(" = ")
            text.append(format_array(a, digits=digits), style="bold")
            if name in sds:
                text.append(f" {pm} ")
                text.append(format_array(sds[name], digits=digits), style="bold")
            text.append("\n")
        text.rstrip()
        return text

    values, gradient = value_rows(result), gradient_rows(result)
    jacobian = jacobian_table(result, width, digits)
    if jacobian is not None:
        parts = [lines(values), jacobian]
        higher = higher_rows(result)
        if higher:
            parts.append(lines(higher))
        return Group(*parts)
    table = hessian_table(result, width, digits)
    if table is None:
        return lines(rows(result))
    parts = [lines(values + gradient), table]
    higher = higher_rows(result, skip_order=2)
    if higher:
        parts.append(lines(higher))
    return Group(*parts)


def header(result: Result) -> dict:
    """The fields every JSON record of an evaluation starts with: expr, inputs, value."""
    return {
        "expr": result.expr,
        "inputs": {name: to_json(x) for name, x in result.inputs.items()},
        "value": to_json(result.value),
    }


def result_record(result: Result) -> dict:
    """The `dezero grad --format json` record of a Result (without "schema": the documents
    add it, batch records do not)."""
    record = header(result)
    if result.uncertainty is not None:
        record["uncertainty"] = to_json(result.uncertainty)
        record["input_sd"] = {name: to_json(sd) for name, sd in result.input_sd.items()}
    if result.grad is not None:
        record["grad"] = {name: to_json(g) for name, g in result.grad.items()}
    if result.derivatives is not None:
        record["derivatives"] = [nested_record(level) for level in result.derivatives]
    if result.trace is not None:
        from .trace import trace_record

        record["trace"] = trace_record(result.trace)
    record["warnings"] = list(result.warnings)
    return record


def document(record: dict) -> dict:
    """A single-document command's JSON: the schema version first, then `record`."""
    return {"schema": SCHEMA, **record}


def render_json(result: Result) -> str:
    import json  # here, not at the top: only this format needs it, and every start pays imports

    return json.dumps(document(result_record(result)), allow_nan=False) + "\n"


def nested_record(level: dict[tuple[str, ...], np.ndarray]) -> dict:
    """{"x": {"y": fxy}} from {("x", "y"): fxy}: one level of nesting per differentiation."""
    record: dict = {}
    for key, a in level.items():
        inner = record
        for name in key[:-1]:
            inner = inner.setdefault(name, {})
        inner[key[-1]] = to_json(a)
    return record
