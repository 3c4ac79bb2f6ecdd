"""Points mode: every row of a CSV, TSV or JSON Lines table is a point for one expression.

A block of rows becomes one array per variable, one graph and one backward pass; the rows are
written back in order, each bad row with an error naming its line.
"""

from __future__ import annotations

import csv
import json
import math
import operator
from itertools import repeat

import numpy as np

from .. import api
from ..errors import DezeroError
from .job import DELIMITERS, BatchError
from .names import header_problem, output_columns, result_columns, uncertainty_columns
from .rows import Guard, Rows, encode, result_column, row_record
from .streams import blocks, line_cap, split_lines


def _is_number_text(texts: list[str]) -> bool:
    """True when numpy's float conversion of `texts` accepts exactly what parse_value accepts.

    Python's float() also takes `1_000`, `infinity` and non-ASCII digits; parse_value does not.
    """
    joined = "".join(texts)
    return joined.isascii() and not any(c in joined for c in "_yY")


_PLAIN_ZEROS = frozenset(["0", "0.0", "-0", "-0.0", "+0", "0.", ".0", "0.00", "0e0"])


def _column(texts: list[str], name: str, line0: int, errors: dict[int, str]) -> np.ndarray:
    """Parse one variable's cells to float64; a bad cell becomes an error for its row."""
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
            suspects += [i for i in zeros if texts[i] not in _PLAIN_ZEROS]
    else:
        col, suspects = np.zeros(len(texts)), range(len(texts))
    for i in suspects:
        if i in errors:
            continue
        try:
            value = api.parse_value(texts[i], name)
        except DezeroError as exc:
            errors[i] = f"line {line0 + i}: {exc.message}"
            continue
        if value.ndim:
            errors[i] = f"line {line0 + i}: value of {name} must be one number, got {texts[i]!r}"
        else:
            col[i] = value
    return col


# Points mode --------------------------------------------------------------------------------


def points(source, sink, delim, output_format, options, stats, progress) -> None:
    """Evaluate the table `source` at options.expr; write each row's results to `sink`."""
    program = options.expr
    cap = line_cap(options.limits)
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
    problem = header_problem(header, program.variables, output_format)
    if problem:
        raise BatchError(problem)
    index = {name: j for j, name in enumerate(header)}
    missing = [name for name in program.variables if name not in index]
    if missing:
        raise BatchError(
            f"no column for variable {missing[0]!r}: the header (line 1) has "
            + ", ".join(repr(h) for h in header)
        )
    wrt = api.select_wrt(program, options.wrt)
    out_delim = DELIMITERS.get(output_format)
    uncertain = uncertainty_columns(program.variables, index)
    labels = result_columns(wrt, options.order, program.outputs, bool(uncertain))
    writer = _Writer(sink, output_format, header, program, labels, options.fail_fast)
    if output_format != "jsonl":
        writer.write_header(header_text if out_delim == delim else None)
    same = out_delim == delim
    guard = Guard(options.limits)
    line0 = 2
    for block, long, _ in blocks(source, cap, options.block_bytes):
        lines, bad = split_lines(block, long, cap)
        n = len(lines)
        errors: dict[int, str] = {i: f"line {line0 + i}: {why}" for i, why in bad.items()}
        cells = _split(lines, delim, len(header), block, errors, line0)
        columns = {
            name: _column(cells[index[name]], name, line0, errors) for name in program.variables
        }
        sd = {
            name: _sd_column(cells[index[column]], name, column, line0, errors)
            for name, column in uncertain.items()
        }
        rows, good = _evaluate(guard, program, columns, n, errors, wrt, options.order, line0, sd)
        text = lines if same else None
        count = writer.write_points(text, cells, rows, good, errors, line0, n, stats)
        stats.records += count
        stats.failed += sum(1 for i in errors if i < count)
        if errors and not stats.first_error:
            stats.first_error = line0 + min(errors)
        if progress is not None:
            progress(stats.records)
        if options.fail_fast and errors:
            stats.stopped = True
            return
        line0 += n


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


def _sd_column(texts, name: str, column: str, line0: int, errors: dict[int, str]) -> np.ndarray:
    """A column of standard uncertainties of `name`; a cell that is no finite number at
    least 0 becomes an error for its row."""
    col = _column(texts, column, line0, errors)
    for i in np.flatnonzero(~(np.isfinite(col) & (col >= 0))).tolist():
        errors.setdefault(
            i,
            f"line {line0 + i}: the uncertainty of {name} ({column}) must be a finite number "
            f"at least 0, not {texts[i].strip()}",
        )
    return col


def _evaluate(guard, program, columns, n, errors, wrt, order, line0, sd=None):
    """Evaluate the rows without errors, and say which rows those are (None: all).

    Rows that meet a limit become errors too.
    """
    good = None
    if errors:
        good = np.setdiff1d(np.arange(n), np.fromiter(errors, dtype=np.intp))
        if not good.size:
            return None, good
        columns = {name: col[good] for name, col in columns.items()}
        sd = {name: col[good] for name, col in (sd or {}).items()}
    m = n if good is None else good.size
    rows, done = guard.rows(program, columns, m, wrt, order, sd)
    if done < m:  # the rest met a limit
        where = np.arange(n) if good is None else good
        for i in where[done:].tolist():
            errors[i] = f"line {line0 + i}: {guard.hopeless[program.text]}"
        good = where[:done]
    return rows, good


class _Writer:
    """Writes one chunk of results at a time, in order, then flushes."""

    def __init__(self, sink, fmt, header, program, labels, fail_fast):
        self.sink = sink
        self.fail_fast = fail_fast
        self.fmt = fmt
        self.delim = DELIMITERS.get(fmt)
        self.header = header
        self.program = program
        self.labels = labels
        self.csv = None

    def write_header(self, same_text: str | None) -> None:
        names = output_columns(self.labels)
        if same_text is not None:
            self.sink.write(same_text + self.delim + self.delim.join(names) + "\n")
        else:
            self._csv_row([*self.header, *names])
        self.sink.flush()

    def _csv_row(self, cells) -> None:
        if self.csv is None:
            self.csv = csv.writer(self.sink, delimiter=self.delim, lineterminator="\n")
        self.csv.writerow(cells)

    def _matrix(self, rows: Rows) -> np.ndarray:
        return np.column_stack([result_column(rows, what) for _, what in self.labels])

    def write_points(self, lines, cells, rows, good, errors, line0, n, stats) -> int:
        """Write rows 0..n-1 of a chunk (stopping after the first error with fail-fast).

        `rows` holds the results of the rows listed in `good` (None: every row).
        """
        if self.fmt == "jsonl":
            count = self._points_jsonl(cells, rows, good, errors, n)
        elif lines is not None and not errors:
            count = self._points_fast(lines, rows, line0, stats)
        else:
            count = self._points_slow(lines, cells, rows, good, errors, line0, n, stats)
        self.sink.flush()
        return count

    def _points_fast(self, lines, rows, line0, stats) -> int:
        """Whole chunk good and in the input's format: the input line, then the numbers.

        The numbers go through one `repr` of a nested list (shortest round-trip text, done in C)
        and a few string replaces, rather than a Python-level repr per number.
        """
        d = self.delim
        matrix = self._matrix(rows)
        text = repr(matrix.tolist())[2:-2].replace(", ", d).replace("]" + d + "[", d + "\n" + d)
        cells = (d + text + d).split("\n")
        finite = np.isfinite(matrix)
        if not finite.all():
            for i in np.flatnonzero(~finite.all(axis=1)).tolist():
                cells[i] = d + d.join(_cell(x) for x in matrix[i].tolist()) + d
            self._collect_warnings(rows, None, line0, stats)
        self.sink.write("\n".join(map(operator.add, lines, cells)))
        self.sink.write("\n")
        return len(lines)

    def _points_slow(self, lines, cells, rows, good, errors, line0, n, stats) -> int:
        matrix = self._matrix(rows) if rows is not None else None
        where = _positions(good, n)
        width = len(self.labels)
        for i in range(n):
            if i in errors:
                numbers, error = [""] * width, errors[i]
            else:
                numbers, error = [_cell(x) for x in matrix[where[i]].tolist()], ""
            if lines is not None and i not in errors and '"' not in lines[i]:
                d = self.delim
                self.sink.write(lines[i] + d + d.join(numbers) + d + "\n")
            else:
                self._csv_row([*(c[i] for c in cells), *numbers, error])
            if error and self.fail_fast:
                n = i + 1
                break
        if rows is not None:
            self._collect_warnings(rows, good, line0, stats, line0 + n)
        return n

    def _collect_warnings(self, rows, index, line0, stats, end=None) -> None:
        for i, messages in sorted(rows.row_warnings.items()):
            line = line0 + (i if index is None else int(index[i]))
            if end is None or line < end:
                stats.warnings.extend((line, message) for message in messages)

    def _points_jsonl(self, cells, rows, good, errors, n) -> int:
        where = _positions(good, n)
        passed = [j for j, name in enumerate(self.header) if name not in self.program.variables]
        out = []
        count = n
        for i in range(n):
            if i in errors:  # every cell as text, so nothing is lost
                record = {name: cells[j][i] for j, name in enumerate(self.header)}
                record.update(expr=self.program.text, error=errors[i])
                out.append(json.dumps(record))
                if self.fail_fast:
                    count = i + 1
                    break
                continue
            record = {self.header[j]: cells[j][i] for j in passed}
            record.update(row_record(rows, where[i]))
            out.append(encode(record))
        self.sink.write("\n".join(out) + "\n")
        return count


def _positions(good: np.ndarray | None, n: int) -> np.ndarray:
    """For each row of the chunk, its position in the evaluated arrays (-1: not evaluated)."""
    if good is None:
        return np.arange(n)
    where = np.full(n, -1)
    where[good] = np.arange(good.size)
    return where


def _cell(x: float) -> str:
    return repr(x) if math.isfinite(x) else ""
