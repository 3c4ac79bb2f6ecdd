"""The names batch gives its output, in one place; input names may not take them.

    output       names batch writes
    CSV, TSV     value, error, grad_NAME (any name starting grad_), d2f/dx2 and every other
                 name of the form df/d... or dKf/d... (the columns of --order K); for a
                 vector result value_0, value_1, ... and d2f[0]/dx2, ...; with
                 uncertainties value_sd, value_0_sd, ...
    JSON Lines   expr, inputs, value, uncertainty, input_sd, grad, derivatives, warnings, error

One input name has a meaning of its own: a column (or field) NAME_sd beside a variable NAME
gives NAME's standard uncertainty, unless NAME_sd is itself a variable of the expression.

Output names are never ambiguous and no input cell is lost: a header that names a column twice,
or names one as the output format names its own, stops the batch before it starts (exit 2),
whatever --wrt, --order or --no-grad say, so that a file accepted by one run is accepted by the
next. A JSON Lines record that carries one of the output keys among the fields it passes
through (those that are not its `expr` or a variable) is that record's error. The README's
batch section has the same table.
"""

from __future__ import annotations

import re

from ..diagnostics import label

COLUMNS = ("value", "error")  # and the derivative columns between them
GRAD_PREFIX = "grad_"
SD_SUFFIX = "_sd"
_DERIVATIVE = re.compile(r"d[0-9]*f(\[[0-9]+\])?/d")  # df/dx, d2f/dx2, d3f[1]/dx2dy
_VALUE = re.compile(r"value(_[0-9]+)?(_sd)?")  # value, value_sd, value_0, value_0_sd
RECORD_KEYS = (
    "expr", "inputs", "value", "uncertainty", "input_sd", "grad", "derivatives", "warnings",
    "error",
)  # fmt: skip
RESERVED_KEYS = frozenset(RECORD_KEYS)

_SHOWN_COLUMNS = "value, error, grad_*, d2f/dx2..."


def result_columns(
    wrt: tuple[str, ...], order: int, outputs: int = 0, uncertain: bool = False
) -> list[tuple[str, tuple]]:
    """The name of every result column of points mode, in order, and what it holds.

    A scalar result: `value`, `value_sd` (with uncertainties), `grad_x` for each variable,
    then `d2f/dxdy`, ... up to `order` (every ordering). A vector result of n outputs:
    `value_0`, `value_0_sd`, `value_1`, ..., then `grad_0_x`, `grad_0_y`, `grad_1_x`, ...,
    then `d2f[0]/dx2`, ... order by order and output by output. What a column holds:
    ("value", output), ("sd", output) or ("d", variable path, output), output None for a
    scalar result.
    """
    outs = list(range(outputs)) if outputs else [None]
    columns: list[tuple[str, tuple]] = []
    for i in outs:
        value = COLUMNS[0] if i is None else f"{COLUMNS[0]}_{i}"
        columns.append((value, ("value", i)))
        if uncertain:
            columns.append((value + SD_SUFFIX, ("sd", i)))
    if order >= 1:
        for i in outs:
            grad = GRAD_PREFIX if i is None else f"{GRAD_PREFIX}{i}_"
            columns += [(grad + name, ("d", (name,), i)) for name in wrt]
    paths: list[tuple[str, ...]] = [(name,) for name in wrt]
    for _ in range(2, order + 1):
        paths = [(*p, name) for p in paths for name in wrt]
        columns += [(label(p, i), ("d", p, i)) for i in outs for p in paths]
    return columns


def output_columns(columns: list[tuple[str, tuple]]) -> list[str]:
    """The columns batch appends to the input's in CSV and TSV output."""
    return [*(name for name, _ in columns), COLUMNS[1]]


def is_output_column(name: str) -> bool:
    return (
        name in COLUMNS
        or name.startswith(GRAD_PREFIX)
        or bool(_VALUE.fullmatch(name))
        or bool(_DERIVATIVE.match(name))
    )


def uncertainty_columns(variables: tuple[str, ...], header) -> dict[str, str]:
    """The header's columns (or a record's fields) of standard uncertainties: NAME_sd for a
    variable NAME, unless NAME_sd is itself a variable. Variable name -> column name."""
    return {
        name: name + SD_SUFFIX
        for name in variables
        if name + SD_SUFFIX in header and name + SD_SUFFIX not in variables
    }


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
