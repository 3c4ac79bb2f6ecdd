"""How points mode writes its results: text lines (CSV, TSV, JSON Lines) or Parquet row
groups, each table of results written whole, in order, on a thread of its own (Behind) while
the next table is read and evaluated."""

from __future__ import annotations

import contextlib
import csv
import json
import operator
import queue
import threading

import numpy as np

from .cells import cell
from .job import DELIMITERS
from .names import output_columns
from .rows import encode, result_column, row_record


class Behind:
    """Writes each evaluated table on a thread of its own, in order, while the next is read and
    evaluated: polars, numpy and the file system let go of the GIL, so the two go on at once
    on two cores. One table at most waits; a failure to write (a full disk, a reader gone)
    is raised in the run's own thread at the next table, or at the end."""

    def __init__(self, write):
        self.write = write
        self.waiting: queue.Queue = queue.Queue(maxsize=1)
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="dezero batch writer", daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def put(self, item) -> None:
        """Queue `item` (the arguments of one write); raise a failure of an earlier write."""
        while not self._offer(item):
            pass

    def _offer(self, item) -> bool:
        if self.failure is not None:
            raise self.failure
        if not self.thread.is_alive():
            return True  # stopped: nothing more is written
        try:
            self.waiting.put(item, timeout=0.05)
        except queue.Full:
            return False
        return True

    def _run(self) -> None:
        while True:
            item = self.waiting.get()
            if item is None:
                return
            try:
                self.write(*item)
            except BaseException as exc:  # noqa: BLE001 (raised again in the run's thread)
                self.failure = exc
                return

    def __exit__(self, kind, exc, tb) -> None:
        if kind is not None:  # cut short: the table taken is written whole, no other
            with contextlib.suppress(queue.Empty):
                self.waiting.get_nowait()
        while self.thread.is_alive() and not self._offer_end():
            pass
        self.thread.join()
        if kind is None and self.failure is not None:
            raise self.failure

    def _offer_end(self) -> bool:
        try:
            self.waiting.put(None, timeout=0.05)
        except queue.Full:
            return False
        return True


def full_columns(rows, labels, good, n: int) -> list[np.ndarray]:
    """Each result column over all `n` rows of a block, nan where a row has no result."""
    if rows is None:
        return [np.full(n, np.nan) for _ in labels]
    arrays = numbers(rows, labels)
    if good is None:
        return arrays
    out = []
    for a in arrays:
        whole = np.full(n, np.nan)
        whole[good] = a
        out.append(whole)
    return out


def numbers(rows, labels) -> list[np.ndarray]:
    """The result columns names.result_columns describes (`labels`), error aside."""
    return [result_column(rows, what) for _, what in labels]


def collect_warnings(rows, index, line0, stats, end=None) -> None:
    """The warnings of the rows before `end` (a line number), with their line numbers."""
    if rows is None:
        return
    for i, messages in sorted(rows.row_warnings.items()):
        line = line0 + (i if index is None else int(index[i]))
        if end is None or line < end:
            stats.warnings.extend((line, message) for message in messages)


class ParquetOutput:
    """parquet.Writer as points mode writes to it."""

    delim = None

    def __init__(self, writer, labels):
        self.writer = writer
        self.labels = labels

    def __enter__(self):
        self.writer.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.writer.__exit__(*exc)

    def write_points(self, table, rows, good, first, count, stats) -> None:
        numbers = full_columns(rows, self.labels, good, table.n)
        self.writer.write(table.inputs(count), numbers, table.errors, count)
        collect_warnings(rows, good, first, stats, first + count)


class TextWriter:
    """Writes one chunk of results at a time, in order, then flushes."""

    def __init__(self, sink, fmt, header, program, labels, same: bool):
        self.sink = sink
        self.same = same  # the input's format: a good row is its line, then its numbers
        self.fmt = fmt
        self.delim = DELIMITERS.get(fmt)
        self.header = header
        self.program = program
        self.labels = labels
        self.csv = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass

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

    def write_points(self, table, rows, good, line0, count, stats) -> None:
        """Write rows 0..count-1 of a block, then flush.

        `rows` holds the results of the rows listed in `good` (None: every row).
        """
        if self.fmt == "jsonl":
            self._points_jsonl(table.cells(), rows, good, table.errors, table.n, count)
        elif not hasattr(table, "lines"):  # the native path's table (native.Table)
            numbers = full_columns(rows, self.labels, good, table.n)
            write_utf8(self.sink, table.text(numbers, self.delim, count))
            collect_warnings(rows, good, line0, stats, line0 + count)
        else:
            lines = table.lines if self.same else None
            if lines is not None and not table.errors:
                self._points_fast(lines, rows, line0, stats)
            else:
                self._points_slow(lines, table, rows, good, count)
                collect_warnings(rows, good, line0, stats, line0 + count)
        self.sink.flush()

    def _points_fast(self, lines, rows, line0, stats) -> None:
        """Whole chunk good and in the input's format: the input line, then the numbers.

        The numbers go through one `repr` of a nested list (shortest round-trip text, done in C)
        and a few string replaces, rather than a Python-level repr per number.
        """
        d = self.delim
        matrix = np.column_stack(numbers(rows, self.labels))
        text = repr(matrix.tolist())[2:-2].replace(", ", d).replace("]" + d + "[", d + "\n" + d)
        cells = (d + text + d).split("\n")
        finite = np.isfinite(matrix)
        if not finite.all():
            for i in np.flatnonzero(~finite.all(axis=1)).tolist():
                cells[i] = d + d.join(cell(x) for x in matrix[i].tolist()) + d
            collect_warnings(rows, None, line0, stats)
        self.sink.write("\n".join(map(operator.add, lines, cells)))
        self.sink.write("\n")

    def _points_slow(self, lines, table, rows, good, count) -> None:
        cells, errors = table.columns, table.errors
        matrix = np.column_stack(numbers(rows, self.labels)) if rows is not None else None
        where = _positions(good, table.n)
        width = len(self.labels)
        for i in range(count):
            if i in errors:
                texts, error = [""] * width, errors[i]
            else:
                texts, error = [cell(x) for x in matrix[where[i]].tolist()], ""
            if lines is not None and i not in errors and '"' not in lines[i]:
                d = self.delim
                self.sink.write(lines[i] + d + d.join(texts) + d + "\n")
            else:
                self._csv_row([*(c[i] for c in cells), *texts, error])

    def _points_jsonl(self, cells, rows, good, errors, n, count) -> None:
        where = _positions(good, n)
        passed = [j for j, name in enumerate(self.header) if name not in self.program.variables]
        out = []
        for i in range(count):
            if i in errors:  # every cell as text, so nothing is lost
                record = {name: cells[j][i] for j, name in enumerate(self.header)}
                record.update(expr=self.program.text, error=errors[i])
                out.append(json.dumps(record))
                continue
            record = {self.header[j]: cells[j][i] for j in passed}
            record.update(row_record(rows, where[i]))
            out.append(encode(record))
        self.sink.write("\n".join(out) + "\n")


def write_utf8(sink, data: bytes) -> None:
    """UTF-8 text to the text stream `sink`: as bytes, where it takes them (files.Output)."""
    write = getattr(sink, "write_utf8", None)
    if write is not None:
        write(data)
    else:
        sink.write(data.decode("utf-8"))


def _positions(good: np.ndarray | None, n: int) -> np.ndarray:
    """For each row of the chunk, its position in the evaluated arrays (-1: not evaluated)."""
    if good is None:
        return np.arange(n)
    where = np.full(n, -1)
    where[good] = np.arange(good.size)
    return where
