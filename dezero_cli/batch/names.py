"""The names batch gives its output, in one place; input names may not take them.

    output       names batch writes
    CSV, TSV     value, error, grad_NAME (any name starting grad_), d2f/dx2 and every other
                 name of the form df/d... or dKf/d... (the columns of --order K)
    JSON Lines   expr, inputs, value, grad, derivatives, warnings, error

Output names are never ambiguous and no input cell is lost: a header that names a column twice,
or names one as the output format names its own, stops the batch before it starts (exit 2),
whatever --wrt, --order or --no-grad say, so that a file accepted by one run is accepted by the
next. A JSON Lines record that carries one of the output keys among the fields it passes
through (those that are not its `expr` or a variable) is that record's error. The README's
batch section has the same table.
"""

from __future__ import annotations

import re

import numpy as np

from ..diagnostics import label
from .rows import Rows, derivative_column

COLUMNS = ("value", "error")  # and the derivative columns between them
GRAD_PREFIX = "grad_"
_DERIVATIVE = re.compile(r"d[0-9]*f/d")  # the start of df/dx, d2f/dx2, d3f/dx2dy
RECORD_KEYS = ("expr", "inputs", "value", "grad", "derivatives", "warnings", "error")
RESERVED_KEYS = frozenset(RECORD_KEYS)

_SHOWN_COLUMNS = "value, error, grad_*, d2f/dx2..."


def column_labels(wrt: tuple[str, ...], order: int) -> list[tuple[str, tuple[str, ...]]]:
    """(column label, variable path) of each derivative, order 1 first: grad_x, d2f/dxdy, ..."""
    labels = [(GRAD_PREFIX + name, (name,)) for name in wrt] if order >= 1 else []
    paths: list[tuple[str, ...]] = [(name,) for name in wrt]
    for _ in range(2, order + 1):
        paths = [(*p, name) for p in paths for name in wrt]
        labels.extend((label(p), p) for p in paths)
    return labels


def output_columns(labels: list[tuple[str, tuple[str, ...]]]) -> list[str]:
    """The columns batch appends to the input's in CSV and TSV output."""
    return [COLUMNS[0], *(name for name, _ in labels), COLUMNS[1]]


def result_columns(rows: Rows, labels: list[tuple[str, tuple[str, ...]]]) -> list[np.ndarray]:
    """The numbers of the columns output_columns names, error aside, in the same order."""
    return [rows.value, *(derivative_column(rows, path) for _, path in labels)]


def is_output_column(name: str) -> bool:
    return name in COLUMNS or name.startswith(GRAD_PREFIX) or bool(_DERIVATIVE.match(name))


def header_problem(
    header: list[str],
    variables: tuple[str, ...],
    output_format: str,
    what: str = "the header (line 1)",
):
    """Why the header's names (`what` holds them) cannot be used with this output format."""
    seen: set[str] = set()
    for name in header:
        if name in seen:
            return f"{what.split(' (')[0]} names column {name!r} twice"
        seen.add(name)
    for name in header:
        if output_format == "jsonl":
            if name in RESERVED_KEYS and name not in variables:  # a variable goes to inputs
                return (
                    f"column {name!r} of {what} has the name of an output field "
                    f"({', '.join(RECORD_KEYS)}): rename it"
                )
        elif is_output_column(name):
            return (
                f"column {name!r} of {what} has the name of an output column "
                f"({_SHOWN_COLUMNS}): rename it"
            )
    return None


def record_problem(passed: dict) -> str | None:
    """Why a record's own fields (those passed through) cannot be written back, or None."""
    if RESERVED_KEYS.isdisjoint(passed):
        return None
    name = next(key for key in passed if key in RESERVED_KEYS)
    return (
        f"the record has a field {name!r}, the name of an output field "
        f"({', '.join(RECORD_KEYS)}): rename it"
    )
