"""A Hessian or a Jacobian of scalars as a rich table that fits the terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..api import Result

if TYPE_CHECKING:
    pass

from .numbers import format_number

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
    rounded alike to the most digits that fit (at least FEWEST_DIGITS), or None. The title
    and the note on rounding are lines of their own, wrapped at `width`, not at the table's
    width (a narrow table would break them mid-word)."""
    from rich.console import Console, Group
    from rich.text import Text

    console = Console(width=1 << 16)  # measured unconstrained: its natural width
    tries = [digits] if digits is not None else [None, *range(16, FEWEST_DIGITS - 1, -1)]
    for n in tries:
        table = _matrix(rows, columns, cells, n)
        if console.measure(table).maximum <= width:
            parts = [Text(title, style="italic"), table]
            if digits is None and n is not None:
                parts.append(
                    Text(
                        f"rounded to {n} significant digits to fit; every digit with -q, "
                        "--format json, or piped",
                        style="dim",
                    )
                )
            return Group(*parts)
    return None


def _matrix(rows, columns, cells, digits: int | None):
    from rich.markup import escape
    from rich.table import Table

    table = Table()
    table.add_column("", style="cyan", no_wrap=True)
    for name in columns:  # names and labels are no markup: `[row]` would vanish
        table.add_column(escape(name), justify="right", no_wrap=True)
    for row in rows:
        table.add_row(escape(row), *(format_number(cells[row, col], digits) for col in columns))
    return table
