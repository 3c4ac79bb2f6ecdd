"""A table's cells as every path reads and writes them: text to a number, a number to text.

Both paths of points mode (points.py in Python, native.py in polars) read a variable's cells
with a fast bulk conversion first, then give a second look, through values.parse_value, to
every cell the bulk conversion may have judged differently: one it refused, one that became
inf or nan (`1e400` and `infinity` do), and a zero not written as a plain zero (`1e-400`
underflows). Numbers are written as the shortest text that reads back the same, Python's
repr, which `dezero grad` prints; a number that is not finite is an empty cell.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable

import numpy as np

from .. import api
from ..errors import DezeroError

PLAIN_ZEROS = frozenset(["0", "0.0", "-0", "-0.0", "+0", "0.", ".0", "0.00", "0e0"])


def second_look(
    col: np.ndarray,
    suspects: Iterable[int],
    texts: Iterable[str],
    name: str,
    where: str,
    first: int,
    errors: dict[int, str],
) -> None:
    """Read the cells `texts` (of rows `suspects`) as parse_value does, into `col`; a cell it
    refuses becomes its row's error, named `{where} {first + i}` (`line 7`, `row 5`)."""
    for i, text in zip(suspects, texts):
        if i in errors:
            continue
        try:
            value = api.parse_value(text, name)
        except DezeroError as exc:
            errors[i] = f"{where} {first + i}: {exc.message}"
            continue
        if value.ndim:
            errors[i] = f"{where} {first + i}: value of {name} must be one number, got {text!r}"
        else:
            col[i] = value


def column(
    texts: list[str], name: str, first: int, errors: dict[int, str], where: str = "line"
) -> np.ndarray:
    """One variable's cells as float64, in Python: numpy's conversion, then a second look."""
    col = None
    if _is_number_text(texts):
        try:
            col = np.array(texts, dtype=np.float64)
        except ValueError:
            col = None
    if col is not None:
        # Read again as parse_value reads it: inf, or out of range like 1e400; and a zero not
        # written as a plain zero, which may be an underflow like 1e-400.
        suspects = np.flatnonzero(np.isinf(col)).tolist()
        zeros = np.flatnonzero(col == 0.0).tolist()
        if zeros:
            suspects += [i for i in zeros if texts[i] not in PLAIN_ZEROS]
    else:
        col, suspects = np.zeros(len(texts)), range(len(texts))
    second_look(col, suspects, (texts[i] for i in suspects), name, where, first, errors)
    return col


def _is_number_text(texts: list[str]) -> bool:
    """True when numpy's float conversion of `texts` accepts exactly what parse_value accepts.

    Python's float() also takes `1_000`, `infinity` and non-ASCII digits; parse_value does not.
    """
    joined = "".join(texts)
    return joined.isascii() and not any(c in joined for c in "_yY")


def number_texts(a: np.ndarray, encode=None) -> list[str]:
    """repr of each number of `a`, in row-major order: in bulk with `encode`, msgspec's JSON
    encoder (its spelling is repr's for magnitudes in [1e-4, 1e16); repr spells the others),
    else one repr each."""
    values = a.ravel().tolist()
    if encode is None or not values:
        return list(map(repr, values))
    texts = encode(values).decode("ascii")[1:-1].split(",")
    magnitude = np.abs(a.ravel())
    for i in np.flatnonzero(~((magnitude >= 1e-4) & (magnitude < 1e16))).tolist():
        texts[i] = repr(values[i])  # 1e-05 (msgspec: 0.00001), 1e+16 (1e16), nan, inf
    return texts


def msgspec_encoder():
    """msgspec's JSON encoder, for number_texts; None where msgspec is not installed."""
    try:
        import msgspec
    except ImportError:
        return None
    return msgspec.json.Encoder().encode


def cell(x: float) -> str:
    """A number as an output cell: repr's shortest round-trip text, empty when not finite."""
    return repr(x) if math.isfinite(x) else ""


def csv_line(cells: list[str], delimiter: str) -> str:
    """One row as the csv module writes it (quoted where it must be), with its newline."""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerow(cells)
    return out.getvalue()
