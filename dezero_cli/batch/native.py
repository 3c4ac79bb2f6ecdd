"""The native path of points mode: polars reads a block of CSV or TSV lines into text columns,
casts the variables' cells to float64 and writes the output lines, with no Python code per row.

A block is taken only where polars reads it exactly as the Python path (points.py) does: no
quote, NUL, byte order mark or lone carriage return, valid UTF-8, no line read past, and every
row with exactly as many fields as the header (and no blank line). Any other block goes to the
Python path, which gives each row its own error in its own words. Within a block taken here,
cells are split at the delimiter alone, so a row is its cells joined again, byte for byte.

The cast accepts more than our value syntax (`1e400` becomes inf, `1e-400` 0.0, `infinity`
inf), so a cell it refuses, a result that is not finite and a zero not written as a plain zero
get a second look from values.parse_value (cells.second_look), exactly as on the Python path.
Numbers are written as repr writes them: polars spells numbers below 1e-4 differently
(`1.5e-7`, `0.00001`), and those cells are spelled again.
"""

from __future__ import annotations

import io

import numpy as np
import polars as pl

from .cells import PLAIN_ZEROS, csv_line, second_look

_BOM = "\ufeff".encode()
_LARGEST = np.finfo(np.float64).max

# polars spells 1.5e-07 as 1.5e-7 and 1e-05..1e-04 in full (0.000015): repr's spelling back.
_REPR_SMALL = [
    (r"e-(\d)$", "e-0${1}"),
    (r"^(-?)0\.0000([1-9])$", "${1}${2}e-05"),
    (r"^(-?)0\.0000([1-9])(\d+)$", "${1}${2}.${3}e-05"),
]


def parse(block: bytes, long: list[int], ncols: int, delim: str, out_delim: str | None):
    """The block as a Table of text columns, or None when the Python path must read it.

    `out_delim`: the delimiter the rows are written with, when it is not `delim` (a cell
    holding it would need quotes, which the Python path's csv writer gives).
    """
    if long or b'"' in block or b"\x00" in block or (b"\xef" in block and _BOM in block):
        return None
    if b"\r" in block and block.count(b"\r") != block.count(b"\r\n"):
        return None
    codes = np.frombuffer(block, np.uint8)  # numpy counts a byte faster than bytes.count
    rows = int(np.count_nonzero(codes == 10)) + (not block.endswith(b"\n"))
    if np.count_nonzero(codes == ord(delim)) != rows * (ncols - 1):
        return None  # a row too short (a longer one raises below, so none is)
    if out_delim is not None and out_delim != delim and out_delim.encode() in block:
        return None
    if ncols == 1 and (
        block.startswith((b"\n", b"\r\n")) or b"\n\n" in block or b"\n\r\n" in block
    ):
        return None  # a blank line, which the Python path names as such
    try:
        frame = pl.read_csv(
            block,
            has_header=False,
            new_columns=[f"c{j}" for j in range(ncols)],
            separator=delim,
            quote_char=None,
            infer_schema=False,
            empty_string_is_null=False,
            truncate_ragged_lines=False,
            raise_if_empty=False,
        )
    except (pl.exceptions.PolarsError, ValueError):  # a longer row, not UTF-8
        return None
    if frame.height != rows or frame.width != ncols:
        return None
    return Table(frame)


class Table:
    """A block of rows as polars text columns, and the errors of its rows."""

    def __init__(self, frame: pl.DataFrame):
        self.frame = frame
        self.n = frame.height
        self.errors: dict[int, str] = {}

    def numbers(self, j: int, name: str, where: str, first: int, label=None) -> np.ndarray:
        """Column `j` as float64; a cell that is not a number becomes its row's error (an empty
        cell as well: `label`, which names a column that has no value, is Parquet's)."""
        return cast(self.frame.to_series(j), name, where, first, self.errors)

    def cells(self) -> list[list[str]]:
        """The text of every cell, column by column, as Python strings."""
        return [series.to_list() for series in self.frame.iter_columns()]

    def cell(self, j: int, i: int) -> str:
        """The text of one cell: column `j`, row `i`."""
        return self.frame.to_series(j)[i]

    def inputs(self, count: int) -> list[pl.Series]:
        """The first `count` rows' cells, column by column (for Parquet)."""
        return self.frame.head(count).get_columns()

    def text(self, numbers: list[np.ndarray], delim: str, count: int) -> bytes:
        """Rows 0..count-1 written out, as UTF-8: the row's cells, its numbers, its error.

        `numbers` are full columns of the block (anything where a row failed). The cells
        hold no delimiter, quote or line break (parse made sure): none needs quotes. A
        number is spelled as repr spells it, empty when not finite; an error is quoted as
        the csv module quotes it.
        """
        frame = self.frame if count == self.n else self.frame.head(count)
        columns = [spell(a[:count]).alias(f"n{k}") for k, a in enumerate(numbers)]
        errors = pl.repeat("", count, eager=True).alias("error")
        bad = sorted(i for i in self.errors if i < count)
        if bad:
            errors = errors.scatter(bad, [csv_line([self.errors[i]], delim)[:-1] for i in bad])
        columns.append(errors)
        out = io.BytesIO()
        frame.hstack(columns).write_csv(
            out, include_header=False, separator=delim, quote_style="never", null_value=""
        )
        return out.getvalue()


def cast(series: pl.Series, name: str, where: str, first: int, errors: dict) -> np.ndarray:
    """Text cells to float64 as values.parse_value reads them; refusals become row errors."""
    col = series.cast(pl.Float64, strict=False).to_numpy()  # a refused cell is null: nan
    if not col.flags.writeable:
        col = col.copy()
    suspects = np.flatnonzero(~np.isfinite(col) | (col == 0.0))
    if suspects.size:
        texts = series.gather(suspects).to_list()
        keep = [(int(i), t) for i, t in zip(suspects.tolist(), texts) if t not in PLAIN_ZEROS]
        if keep:
            second_look(col, (i for i, _ in keep), (t for _, t in keep), name, where, first, errors)
    return col


def cast_arrow(array, name: str, where: str, first: int, errors: dict) -> np.ndarray:
    """`cast` of an Arrow array of text (a Parquet column's)."""
    return cast(pl.Series(array), name, where, first, errors)


def spell(a: np.ndarray) -> pl.Series:
    """The numbers as write_csv should spell them: repr's text, null where not finite.

    polars spells a number as repr does, but for those below 1e-4 (`1.5e-7`, `0.00001`):
    a column with any of those becomes text, them spelled again.
    """
    magnitude = np.abs(a)
    odd = np.flatnonzero(~((magnitude >= 1e-4) & (magnitude <= _LARGEST)))  # nan compares false
    if not odd.size:
        return pl.Series(a)
    small = odd[(magnitude[odd] > 0.0) & np.isfinite(magnitude[odd])]
    missing = odd[~np.isfinite(magnitude[odd])]
    numbers = pl.Series(a)
    if small.size:
        numbers = numbers.cast(pl.String)
        fixed = numbers.gather(small)
        for pattern, replacement in _REPR_SMALL:
            fixed = fixed.str.replace(pattern, replacement)
        numbers = numbers.scatter(small, fixed)
    if missing.size:
        numbers = numbers.scatter(missing, None)
    return numbers
