"""A table of one row per point (--format table, csv, tsv)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..api import Result

if TYPE_CHECKING:
    pass

from .matrices import FEWEST_DIGITS
from .numbers import format_number


def table_columns(result: Result, order: int | None) -> list[tuple[str, np.ndarray]]:
    """(name, 1-d array) per column: each input, `value`, then the derivatives named as batch
    names them (`grad_x`, `d2f/dx2`, `d2f/dxdy`, `d2f/dydx`, ...), all of one length.

    `order` is None for grad's gradient alone, and 0 for a value alone (eval). A value that is
    not one number per point (a reduction such as sum() over a vector) has no row per point:
    ValueProblem."""
    from ..diagnostics import column_labels
    from ..errors import ValueProblem

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
