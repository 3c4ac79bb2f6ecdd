"""Every rendering of results as text and JSON: each command builds its data through the API,
then one function per format renders it. The JSON header (expr, inputs, value) has one builder.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from .api import CheckResult, Result, label
from .output import wrap

if TYPE_CHECKING:
    from .formula_text import Formulas

FORMATS = ("text", "json")
# The version of every JSON shape documented in docs/json.md (and docs/json-schema.json). The
# single-document commands print it as "schema"; batch's JSON Lines records, kept small, do not.
SCHEMA = 1
PLUS_MINUS = "±"


def format_number(x: float, digits: int | None = None) -> str:
    """Shortest text that reads back as the same float64; with `digits`, visibly rounded to
    that many significant digits: trailing zeros and the exponent kept (3.30, -3.73e-08)."""
    return repr(float(x)) if digits is None else f"{float(x):#.{digits}g}"


def format_array(a: np.ndarray, sep: str = ", ", digits: int | None = None) -> str:
    a = np.asarray(a)
    if a.ndim == 0:
        return format_number(a, digits)
    if a.ndim == 1:
        inner = sep.join(format_number(x, digits) for x in a)
    else:
        inner = sep.join(format_array(row, sep, digits) for row in a)
    return inner if sep == " " else f"[{inner}]"


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


# On a terminal, a table never cuts a number: it shows every digit, or all its numbers rounded
# alike to the most digits that fit, and says so; below 3 digits it is not drawn at all.
FEWEST_DIGITS = 3


def hessian_table(result: Result, width: int, digits: int | None = None):
    """The second derivatives as a rich Table no wider than `width`, when there are several
    variables and scalars; None otherwise, or when no table fits."""
    levels = result.derivatives or []
    names = list(result.grad or {})
    if (
        result.outputs
        or len(levels) < 2
        or len(names) < 2
        or any(np.ndim(a) for a in levels[1].values())
    ):
        return None
    cells = {(row, col): levels[1][row, col] for row in names for col in names}
    return _fitting_table("Hessian d2f/d(row)d(column)", names, names, cells, width, digits)


def jacobian_table(result: Result, width: int, digits: int | None = None):
    """The first derivatives of a vector result as a rich Table no wider than `width`, a row
    per output and a column per variable, when they are scalars; None otherwise, or when no
    table fits."""
    grads = result.grad or {}
    if not result.outputs or not grads or any(np.ndim(g) != 1 for g in grads.values()):
        return None
    outputs = [f"f[{i}]" for i in range(result.outputs)]
    cells = {(f"f[{i}]", name): g[i] for name, g in grads.items() for i in range(result.outputs)}
    return _fitting_table("Jacobian df[row]/d(column)", outputs, list(grads), cells, width, digits)


def _fitting_table(title: str, rows: list[str], columns: list[str], cells: dict, width, digits):
    """A table of the numbers `cells[row, column]` no wider than `width`: every digit, or all
    rounded alike to the most digits that fit (at least FEWEST_DIGITS), or None."""
    from rich.console import Console

    console = Console(width=1 << 16)  # measured unconstrained: its natural width
    tries = [digits] if digits is not None else [None, *range(16, FEWEST_DIGITS - 1, -1)]
    for n in tries:
        rounded = digits is None and n is not None
        table = _matrix(title, rows, columns, cells, n, rounded_to_fit=rounded)
        if console.measure(table).maximum <= width:
            return table
    return None


def _matrix(title, rows, columns, cells, digits: int | None, rounded_to_fit: bool):
    from rich.markup import escape
    from rich.table import Table

    caption = None
    if rounded_to_fit:
        caption = (
            f"rounded to {digits} significant digits to fit; every digit with -q, "
            "--format json, or piped"
        )
    table = Table(
        title=escape(title),  # names and labels are no markup: `[row]` would vanish
        title_justify="left",
        caption=caption,
        caption_justify="left",
    )
    table.add_column("", style="cyan", no_wrap=True)
    for name in columns:
        table.add_column(escape(name), justify="right", no_wrap=True)
    for row in rows:
        table.add_row(escape(row), *(format_number(cells[row, col], digits) for col in columns))
    return table


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


# dezero check


ERROR_DIGITS = 3  # check's errors on a terminal: their size is all they say


def check_lines(
    check: CheckResult, digits: int | None = None, error_digits: int | None = None
) -> list[tuple[str, str, str, str, str, str]]:
    """(label, backprop, numeric, abs error, rel error, status) per element of each variable;
    status is `ok`, `FAILED`, or `not checked` where the step left the domain."""
    out = []
    for name, c in check.checks.items():
        for i in np.ndindex(np.shape(c.backprop)):
            index = "".join(f"[{j}]" for j in i)
            status = "ok" if c.ok[i] else "not checked" if c.left_domain[i] else "FAILED"
            out.append(
                (
                    f"df/d{name}{index}",
                    format_number(c.backprop[i], digits),
                    format_number(c.numeric[i], digits),
                    format_number(c.abs_error[i], error_digits),
                    format_number(c.rel_error[i], error_digits),
                    status,
                )
            )
    return out


def verdict(check: CheckResult) -> str:
    statuses = [line[-1] for line in check_lines(check)]
    n, bad, unchecked = len(statuses), statuses.count("FAILED"), statuses.count("not checked")
    settings = f"eps {check.eps!r}, rtol {check.rtol!r}, atol {check.atol!r}"
    if not bad and not unchecked:
        return f"check passed: {n} of {n} within tolerance ({settings})"
    parts = [f"{bad} of {n} outside tolerance"] if bad or not unchecked else []
    if unchecked:
        parts.append(f"{unchecked} of {n} not checked: the step left the domain")
    return f"check FAILED: {'; '.join(parts)} ({settings})"


def render_check_text(
    check: CheckResult, width: int | None = None, digits: int | None = None
) -> str:
    """One line per element. For a terminal `width` columns wide: errors to 3 significant
    digits, values rounded to `digits` if given, lines wrapped at words."""
    terminal = width is not None
    error_digits = ERROR_DIGITS if terminal else None
    lines = [f"f = {format_array(check.result.value, digits=digits)}"]
    for name, backprop, numeric, abs_error, rel_error, status in check_lines(
        check, digits, error_digits
    ):
        lines.append(
            f"{name}: backprop {backprop}, numeric {numeric}, abs error {abs_error}, "
            f"rel error {rel_error}, {status}"
        )
    lines.append(verdict(check))
    if terminal:
        lines = [wrapped for line in lines for wrapped in wrap(line, width, indent=4)]
    return "\n".join(lines) + "\n"


def render_check_json(check: CheckResult) -> str:
    import json

    record = document(header(check.result))
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


# dezero diff


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


# --format table, csv, tsv (grad, eval): one row per point, with batch's column names


def table_columns(result: Result, order: int | None) -> list[tuple[str, np.ndarray]]:
    """(name, 1-d array) per column: each input, `value`, then the derivatives named as batch
    names them (`grad_x`, `d2f/dx2`, `d2f/dxdy`, `d2f/dydx`, ...), all of one length.

    `order` is None for grad's gradient alone, and 0 for a value alone (eval). A value that is
    not one number per point (a reduction such as sum() over a vector) has no row per point:
    ValueProblem."""
    from .diagnostics import column_labels
    from .errors import ValueProblem

    wrt = tuple(result.grad or {})
    depth = 0 if result.grad is None else (order or 1)
    columns = [(name, x) for name, x in result.inputs.items()]
    columns.append(("value", result.value))
    levels = result.derivatives or []
    for name, path in column_labels(wrt, depth):
        k = len(path)
        columns.append((name, result.grad[path[0]] if k == 1 else levels[k - 1][path]))
    sizes = {np.size(a) for _, a in columns if np.ndim(a) > 0}
    if (
        any(np.ndim(a) > 1 for _, a in columns)
        or len(sizes) > 1
        or (sizes and np.ndim(result.value) == 0)
    ):
        raise ValueProblem(
            "a table has one row per point, but this value is not one number per point (a "
            "reduction such as sum() mixes a vector's elements): use --format text or json"
        )
    n = sizes.pop() if sizes else 1
    return [(name, np.broadcast_to(np.asarray(a, dtype=np.float64), (n,))) for name, a in columns]


def _cell(x: float) -> str:
    return repr(x) if math.isfinite(x) else ""


def render_delimited(columns: list[tuple[str, np.ndarray]], sep: str, header: bool = True) -> str:
    """CSV or TSV as batch writes it: shortest round-trip numbers, an empty cell for a number
    that is not finite."""
    lines = [sep.join(name for name, _ in columns)] if header else []
    cells = [[_cell(x) for x in a.tolist()] for _, a in columns]
    lines.extend(sep.join(row) for row in zip(*cells))
    return "\n".join(lines) + "\n" if lines else ""


def render_aligned(columns: list[tuple[str, np.ndarray]], header: bool = True) -> str:
    """The table as plain text in aligned columns, every digit, nan and inf as themselves."""
    cells = [[format_number(x) for x in a.tolist()] for _, a in columns]
    widths = [max([len(name) * header, *map(len, col)]) for (name, _), col in zip(columns, cells)]
    lines = ["  ".join(name.rjust(w) for (name, _), w in zip(columns, widths))] if header else []
    lines.extend("  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in zip(*cells))
    return "".join(line.rstrip() + "\n" for line in lines)


def table_rich(
    columns: list[tuple[str, np.ndarray]],
    width: int,
    digits: int | None = None,
    inputs: int = 0,
    header: bool = True,
):
    """The table as a rich Table no wider than `width`: every digit, or (as the Hessian) all
    results rounded alike to the most significant digits that fit, at least 3, exponent kept,
    with a caption that says so; None when even that does not fit. The first `inputs` columns
    are the points, shown with every digit."""
    from rich.table import Table

    tries = [digits] if digits is not None else [None, *range(16, FEWEST_DIGITS - 1, -1)]
    for n in tries:
        # The points keep every digit: rounded, one could read as another point.
        cells = [
            [format_number(x, None if i < inputs else n) for x in a.tolist()]
            for i, (_, a) in enumerate(columns)
        ]
        # A rich Table's width: each column's widest cell, padded by one on each side, and a
        # border before every column and after the last.
        need = sum(
            max([len(name) * header, *map(len, col)]) + 3 for (name, _), col in zip(columns, cells)
        )
        if need + 1 > width:
            continue
        caption = None
        if digits is None and n is not None:
            caption = (
                f"results rounded to {n} significant digits to fit; every digit with --format "
                "csv, or piped"
            )
        table = Table(caption=caption, caption_justify="left", show_header=header)
        for i, (name, _) in enumerate(columns):
            style = "cyan" if i < inputs else ""
            table.add_column(name, justify="right", no_wrap=True, style=style)
        for row in zip(*cells):
            table.add_row(*row)
        return table
    return None


# --trace


TRACE_ENDS = 15  # on a terminal, a longer section shows its first and last TRACE_ENDS steps


def trace_record(trace) -> dict:
    """A trace as JSON: every step, never elided."""

    def step(s) -> dict:
        out = {
            "function": s.function,
            "generation": s.generation,
            "inputs": [to_json(x) for x in s.inputs],
            "output": to_json(s.output),
        }
        if s.gx is not None:
            out["gy"] = to_json(s.gy)
            out["gx"] = [None if g is None else to_json(g) for g in s.gx]
        if s.output_index is not None:
            out["pass"] = s.output_index
        return out

    return {
        "forward": [step(s) for s in trace.forward],
        "backward": [step(s) for s in trace.backward],
        "first_pass_only": trace.first_pass_only,
    }


def trace_sections(trace, digits: int | None = None) -> list[tuple[str, list[str], list[list]]]:
    """(title, column names, a row of cell texts per step) of the forward and the backward
    section; a gx of None (a constant's: it receives none) is `-`."""

    def numbers(arrays) -> str:
        return ", ".join("-" if a is None else format_array(a, digits=digits) for a in arrays)

    def steps(n: int) -> str:
        return f"{n} step{'s' if n != 1 else ''}"

    forward = [
        [str(k), s.function, str(s.generation), numbers(s.inputs), numbers([s.output])]
        for k, s in enumerate(trace.forward, start=1)
    ]
    passes = any(s.output_index is not None for s in trace.backward)
    backward = [
        [str(k)]
        + ([f"f[{s.output_index}]"] if passes else [])
        + [s.function, str(s.generation), numbers(s.inputs), numbers([s.output])]
        + [numbers([s.gy]), numbers(s.gx)]
        for k, s in enumerate(trace.backward, start=1)
    ]
    order = "in the order backward() pops them, latest generation first"
    if passes:
        order += "; one pass per output, each from its own output"
    if trace.first_pass_only:
        order += (
            "; the first backward pass only (--order N differentiates the graph it records "
            "again, untraced)"
        )
    columns = ["#", "function", "generation", "inputs", "output"]
    back_columns = ["#", *(["pass"] if passes else []), *columns[1:], "gy", "gx"]
    return [
        (f"forward: {steps(len(forward))}, in the order they ran", columns, forward),
        (f"backward: {steps(len(backward))}, {order}", back_columns, backward),
    ]


def render_trace_text(trace) -> str:
    """Every step as aligned columns, a blank line and a title before each section."""
    return "".join(
        "\n" + _columns_text(title, columns, cells)
        for title, columns, cells in trace_sections(trace)
    )


def _columns_text(title: str, columns: list[str], cells: list[list[str]]) -> str:
    table = [columns, *cells]
    widths = [max(len(row[j]) for row in table) for j in range(len(columns))]
    lines = [title, *("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in table)]
    return "\n".join(lines) + "\n"


def render_trace_rich(trace, width: int = 80, digits: int | None = None):
    """The trace as tables for a terminal `width` columns wide. A long section shows its first
    and last steps and says how many it leaves out. A number is never cut: several in a cell
    wrap between them, and where that does not fit, all are rounded alike to the most digits
    that fit (and it says so), or else the section is listed as lines."""
    from rich.console import Group
    from rich.text import Text

    tries = [digits] if digits is not None else [None, *range(16, FEWEST_DIGITS - 1, -1)]
    parts = []
    for k, _ in enumerate(trace_sections(trace)):
        for n in tries:
            title, columns, cells = trace_sections(trace, n)[k]
            if _least_width(columns, _elided(cells, len(columns))[0]) <= width:
                note = None
                if digits is None and n is not None:
                    note = f"rounded to {n} significant digits to fit"
                parts.append(_trace_table(title, columns, cells, note, width))
                break
        else:
            title, columns, cells = trace_sections(trace, digits)[k]
            parts.append(Text(_columns_text(title, columns, _elided(cells, len(columns))[0])))
    return Group(*parts)


def _least_width(columns: list[str], cells: list[list[str]]) -> int:
    """The narrowest a trace table can be without cutting a word (a number), padding and
    borders included."""
    return sum(_least_columns(columns, cells)) + 3 * len(columns) + 1


def _least_columns(columns: list[str], cells: list[list[str]]) -> list[int]:
    """Each column as wide as its header and its longest word."""
    return [
        max(len(name), *(max(map(len, row[j].split()), default=0) for row in cells))
        for j, name in enumerate(columns)
    ]


def _column_widths(columns: list[str], cells: list[list[str]], width: int) -> list[int]:
    """Widths that fit a table in `width` columns (it must fit at its least): each column its
    longest word, then the room left given to the columns, in order, up to their longest cell.
    Set explicitly, so that rich never shrinks a column below a word."""
    least = _least_columns(columns, cells)
    natural = [max(len(name), *(len(row[j]) for row in cells)) for j, name in enumerate(columns)]
    room = width - (3 * len(columns) + 1) - sum(least)
    widths = []
    for a, b in zip(least, natural):
        grow = min(b - a, max(room, 0))
        room -= grow
        widths.append(a + grow)
    return widths


def _elided(cells: list[list[str]], width: int) -> tuple[list[list[str]], int]:
    """The first and last TRACE_ENDS rows of a long section with a row of `...` between them,
    and how many rows that leaves out."""
    if len(cells) <= 2 * TRACE_ENDS + 1:
        return cells, 0
    return [*cells[:TRACE_ENDS], ["..."] * width, *cells[-TRACE_ENDS:]], len(cells) - 2 * TRACE_ENDS


def _trace_table(title: str, columns: list[str], cells: list[list[str]], note, width: int):
    from rich.markup import escape
    from rich.table import Table

    cells, left_out = _elided(cells, len(columns))
    widths = _column_widths(columns, cells, width)
    notes = [note] if note else []
    if left_out:
        notes.append(f"{left_out} steps in the middle not shown")
    caption = None
    if notes:
        caption = "; ".join(notes) + ": every step and digit with --format json, or piped"
    table = Table(title=escape(title), title_justify="left", caption=caption,
                  caption_justify="left")  # fmt: skip
    for name, column_width in zip(columns, widths):
        # Several numbers in a cell wrap between them; one number is never cut.
        table.add_column(
            name,
            style="bold" if name in ("output", "gx") else None,
            overflow="fold",
            width=column_width,
            justify="right" if name in ("#", "generation") else "left",
        )
    for row in cells:
        table.add_row(*(escape(cell) for cell in row))  # `[nan, 1.0]` is no markup
    return table
