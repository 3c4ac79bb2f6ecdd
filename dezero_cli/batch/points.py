"""Points mode: every row of a CSV, TSV or JSON Lines table is a point for one expression.

A block of rows becomes one array per variable, one graph and one backward pass; the rows are
written back in order, each bad row with an error naming its line.

Two paths read and write a block, with the same result byte for byte: the native one
(native.py, polars), for a block it can read exactly as this module does, and this module's
own, line by line in Python, for any other block and wherever polars is not installed. The
native path starts once the input is larger than one block (job.PATH_VARIABLE), so a small
input never pays for importing polars.
"""

from __future__ import annotations

import csv
from itertools import repeat

import numpy as np

from .. import api
from .cells import column
from .job import DELIMITERS, FAST_EXTRA, BatchError, native_from_start
from .names import header_problem, result_columns, uncertainty_columns
from .rows import Guard
from .streams import blocks, line_cap, split_lines
from .writers import Behind, ParquetOutput, TextWriter


def points(source, sink, delim, output_format, options, stats, progress) -> None:
    """Evaluate the table `source` at options.expr; write each row's results to `sink`."""
    program = options.expr
    cap = line_cap(options.limits)
    header, header_text = read_header(source, cap, delim)
    index = variable_columns(header, program, output_format)
    uncertain = uncertainty_positions(header, program)
    labels = result_columns(
        api.select_wrt(program, options.wrt), options.order, program.outputs, bool(uncertain)
    )
    if output_format == "parquet":
        from . import parquet

        writer = ParquetOutput(parquet.Writer(sink, parquet.text_schema(header, labels)), labels)
    else:
        same = DELIMITERS.get(output_format) == delim
        writer = TextWriter(sink, output_format, header, program, labels, same)
        if output_format != "jsonl":
            writer.write_header(header_text if same else None)
    tables = text_tables(source, cap, delim, len(header), writer.delim, options)
    with writer:
        evaluate_tables(tables, writer, index, uncertain, options, stats, progress, "line")


def text_tables(source, cap, delim: str, ncols: int, out_delim, options):
    """Each block of rows as a table, with the line number of its first row: the native
    path's where it can take the block exactly, else read line by line (Lines)."""
    native = native_choice(options.path, source, options.block_bytes)
    return _text_tables(source, cap, delim, ncols, out_delim, options, native)


def _text_tables(source, cap, delim, ncols, out_delim, options, native):
    line0 = 2
    read = 0
    for block, long, _ in blocks(source, cap, options.block_bytes):
        table = native.parse(block, long, ncols, delim, out_delim) if native else None
        if table is None:
            table = Lines(block, long, cap, delim, ncols, line0)
        yield table, line0
        line0 += table.n
        read += len(block)
        if native is None and read >= options.block_bytes:
            # A block's worth has come from a pipe: from here on, worth importing polars.
            native = native_module() or False


def parquet_points(source, sink, output_format, options, stats, progress) -> None:
    """Points mode over a Parquet file, written as Parquet: errors name rows, not lines."""
    from . import parquet

    stats.unit = "row"
    program = options.expr
    file = parquet.Input(source)
    index = variable_columns(file.names, program, output_format, "the Parquet schema")
    uncertain = uncertainty_positions(file.names, program)
    file.check_variables({**index, **{column: j for column, j in uncertain.values()}})
    labels = result_columns(
        api.select_wrt(program, options.wrt), options.order, program.outputs, bool(uncertain)
    )
    writer = ParquetOutput(parquet.Writer(sink, file.output_schema(labels)), labels)

    def tables():
        row0 = 1
        for table in file.slices():
            yield table, row0
            row0 += table.n

    with writer:
        evaluate_tables(tables(), writer, index, uncertain, options, stats, progress, "row")


def uncertainty_positions(header: list[str], program) -> dict[str, tuple[str, int]]:
    """The columns of standard uncertainties (names.uncertainty_columns): variable name ->
    (column name, position)."""
    where = {name: j for j, name in enumerate(header)}
    return {
        name: (column, where[column])
        for name, column in uncertainty_columns(program.variables, where).items()
    }


def evaluate_tables(tables, writer, index, uncertain, options, stats, progress, where) -> None:
    """Evaluate each table (a block or slice of rows, numbered from `first`), write it.
    `where` names a row in errors: "line" (of text) or "row" (of Parquet)."""
    program = options.expr
    wrt = api.select_wrt(program, options.wrt)
    guard = Guard(options.limits)
    with Behind(writer.write_points) as behind:
        for table, first in tables:
            columns = {name: table.numbers(index[name], name, where, first) for name in index}
            sd = {
                name: sd_column(table, j, name, column, where, first)
                for name, (column, j) in uncertain.items()
            }
            errors = table.errors
            n, order = table.n, options.order
            rows, good = evaluate(
                guard, program, columns, n, errors, wrt, order, first, where, sd or None
            )
            count = n
            if options.fail_fast and errors:
                count = min(errors) + 1
            behind.put((table, rows, good, first, count, stats))
            if _tally(stats, errors, first, count, progress, options.fail_fast):
                return


def sd_column(table, j: int, name: str, column: str, where: str, first: int) -> np.ndarray:
    """Column `j` of the table, the standard uncertainties of `name`; a cell that is no finite
    number at least 0 becomes an error for its row."""
    col = table.numbers(j, column, where, first, f"the uncertainty of {name} ({column})")
    errors = table.errors
    for i in np.flatnonzero(~(np.isfinite(col) & (col >= 0))).tolist():
        if i not in errors:
            errors[i] = (
                f"{where} {first + i}: the uncertainty of {name} ({column}) must be a finite "
                f"number at least 0, not {table.cell(j, i).strip()}"
            )
    return col


def _tally(stats, errors, first, count, progress, fail_fast) -> bool:
    """Count a table's rows and failures; whether the run stops here (--fail-fast)."""
    stats.records += count
    stats.failed += sum(1 for i in errors if i < count)
    if errors and not stats.first_error:
        stats.first_error = first + min(errors)
    if progress is not None:
        progress(stats.records)
    if fail_fast and errors:
        stats.stopped = True
        return True
    return False


def read_header(source, cap: int | None, delim: str) -> tuple[list[str], str]:
    """The header line's names (stripped) and its text; BatchError when it cannot be used."""
    header_raw = source.readline(-1 if cap is None else cap + 1)
    if cap is not None and len(header_raw) > cap and not header_raw.endswith(b"\n"):
        raise BatchError(f"the header line (line 1) is longer than {cap} bytes")
    try:
        header_text = header_raw.decode("utf-8-sig").rstrip("\r\n")  # -sig: Excel's BOM
    except UnicodeDecodeError:
        raise BatchError("the header line (line 1) is not UTF-8") from None
    if not header_text.strip():
        raise BatchError("the input has no header line naming the variables (line 1 is empty)")
    try:
        header = [cell.strip() for cell in next(csv.reader([header_text], delimiter=delim))]
    except csv.Error as exc:  # a stray carriage return or NUL, say
        why = str(exc).split(" - ")[0]  # without csv's advice about universal-newline mode
        raise BatchError(f"the header line (line 1) is not valid CSV: {why}") from None
    return header, header_text


def variable_columns(
    header: list[str], program, output_format: str, what: str = "the header (line 1)"
) -> dict[str, int]:
    """Where each variable's column is; BatchError for a header that cannot be used."""
    problem = header_problem(header, program.variables, output_format, what)
    if problem:
        raise BatchError(problem)
    index = {name: j for j, name in enumerate(header)}
    missing = [name for name in program.variables if name not in index]
    if missing:
        raise BatchError(
            f"no column for variable {missing[0]!r}: {what} has "
            + ", ".join(repr(h) for h in header)
        )
    return {name: index[name] for name in program.variables}


def native_choice(path: str, source, block_bytes: int):
    """native.py for a table read the native way from the start; False never; None: not yet
    (job.native_from_start)."""
    start = native_from_start(path, source, block_bytes)
    if not start:
        return start
    module = native_module()
    if module is None and path == "native":
        raise BatchError(f"the native path needs polars: {FAST_EXTRA}")
    return module or False


def native_module():
    """native.py, or None where polars is not installed."""
    try:
        from . import native
    except ImportError:
        return None
    return native


# The Python path ------------------------------------------------------------------------------


class Lines:
    """A block of rows read line by line: its lines, its cells column by column, the errors
    of its rows (a line that is not UTF-8, too long, blank, with too few or many fields)."""

    def __init__(self, block: bytes, long: list[int], cap, delim: str, ncols: int, line0: int):
        self.lines, bad = split_lines(block, long, cap)
        self.n = len(self.lines)
        self.errors: dict[int, str] = {i: f"line {line0 + i}: {why}" for i, why in bad.items()}
        self.columns = _split(self.lines, delim, ncols, block, self.errors, line0)

    def numbers(self, j: int, name: str, where: str, first: int, label=None) -> np.ndarray:
        return column(self.columns[j], name, first, self.errors)

    def cells(self) -> list[list[str]]:
        return self.columns

    def cell(self, j: int, i: int) -> str:
        return self.columns[j][i]

    def inputs(self, count: int) -> list[list[str]]:
        """The first `count` rows' cells, column by column (for Parquet)."""
        return [c[:count] for c in self.columns]


def _split(lines, delim, ncols, block, errors, line0) -> list[list[str]]:
    """The cells of every row, column by column; malformed rows become errors."""
    counts = list(map(str.count, lines, repeat(delim)))
    if b'"' not in block and counts.count(ncols - 1) == len(lines) and "" not in lines:
        flat = delim.join(lines).split(delim)
        return [flat[j::ncols] for j in range(ncols)]
    columns: list[list[str]] = [[] for _ in range(ncols)]
    for i, line in enumerate(lines):
        try:
            row = next(csv.reader([line], delimiter=delim), [])
        except csv.Error as exc:  # a stray carriage return inside the line, say
            row = []
            why = str(exc).split(" - ")[0]
            errors.setdefault(i, f"line {line0 + i}: not valid CSV: {why}")
        if i in errors:
            pass
        elif not line.strip():
            errors[i] = f"line {line0 + i}: blank line"
        elif len(row) != ncols:
            errors[i] = f"line {line0 + i}: expected {ncols} fields, found {len(row)}"
        row = (row + [""] * ncols)[:ncols]
        for j in range(ncols):
            columns[j].append(row[j])
    return columns


def evaluate(guard, program, columns, n, errors, wrt, order, line0, where="line", sd=None):
    """Evaluate the rows without errors, and say which rows those are (None: all).

    Rows that meet a limit become errors too.
    """
    good = None
    if errors:
        keep = np.ones(n, dtype=bool)  # not np.setdiff1d: numpy 2 hashes, 10 ms a block
        keep[np.fromiter(errors, dtype=np.intp, count=len(errors))] = False
        good = np.flatnonzero(keep)
        if not good.size:
            return None, good
        columns = {name: col[good] for name, col in columns.items()}
        sd = {name: col[good] for name, col in (sd or {}).items()} or None
    m = n if good is None else good.size
    rows, done = guard.rows(program, columns, m, wrt, order, sd)
    if done < m:  # the rest met a limit
        where_rows = np.arange(n) if good is None else good
        for i in where_rows[done:].tolist():
            errors[i] = f"{where} {line0 + i}: {guard.hopeless[program.text]}"
        good = where_rows[:done]
    return rows, good
