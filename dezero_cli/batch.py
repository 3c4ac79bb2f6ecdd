"""Batch mode: read points or records, evaluate them vectorized in chunks, write them in order.

Two shapes of work:

* points mode (`expr` given): every row of a CSV, TSV or JSON Lines input is a point for the same
  compiled expression. A chunk of rows becomes one array per variable, one graph, one backward.
* records mode (no `expr`): every JSON Lines record carries its own `"expr"`. Within a window of
  records, those that share an expression are evaluated together, then written back in order.

Exactly one output record per input record, in input order: a bad record becomes a record with an
`error` naming its line. Output is flushed after each chunk, so a run cut short leaves a valid
prefix. No Click here: the CLI opens the streams and passes them in.
"""

from __future__ import annotations

import csv
import io
import json
import math
import operator
import os
import select
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import repeat

import numpy as np

from . import api, render
from .compiler import CALL, Program, compile_expression
from .errors import DezeroError, ExpressionSyntaxError, GraphTooLarge, TimeLimitExceeded
from .limits import Limits, check_expression_size, enforce, time_limit

FORMATS = ("csv", "tsv", "jsonl")
DELIMITERS = {"csv": ",", "tsv": "\t"}
EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
BLOCK_BYTES = 1 << 20  # one chunk: about 50,000 short CSV rows, a few MB of arrays
RECORD_WINDOW = 50_000  # records mode groups equal expressions within this many records


class BatchError(DezeroError):
    """The batch cannot start: unusable input header, format or options (exit 2)."""


@dataclass
class BatchOptions:
    """What to compute: `order` 0 is the value alone (no graph), 1 the gradient, k up to k-th."""

    expr: Program | None = None
    wrt: tuple[str, ...] | None = None
    order: int = 1
    fail_fast: bool = False
    limits: Limits = field(default_factory=Limits)  # per record


@dataclass
class BatchStats:
    records: int = 0
    failed: int = 0
    stopped: bool = False  # --fail-fast cut the run short
    first_error: int = 0  # line number of the first bad record
    warnings: list[tuple[int, str]] = field(default_factory=list)


Progress = Callable[[int], None]


def format_for(path: str | None) -> str | None:
    """The format a file name's extension implies, or None."""
    if not path or path == "-":
        return None
    return EXTENSIONS.get(os.path.splitext(path)[1].lower())


def run(
    source,
    sink,
    input_format: str,
    output_format: str,
    options: BatchOptions,
    progress: Progress | None = None,
) -> BatchStats:
    """Evaluate every record of the binary stream `source`, writing to the text stream `sink`."""
    if input_format not in FORMATS or output_format not in FORMATS:
        raise BatchError(f"unknown format: choose from {', '.join(FORMATS)}")
    stats = BatchStats()
    if input_format == "jsonl":
        if output_format != "jsonl":
            raise BatchError("JSON Lines input can only be written as JSON Lines (jsonl)")
        _records(source, sink, options, stats, progress)
    else:
        if options.expr is None:
            raise BatchError(
                f"{input_format.upper()} input is a table of points: give the expression "
                "with --expr (records with their own expressions are JSON Lines)"
            )
        _points(source, sink, DELIMITERS[input_format], output_format, options, stats, progress)
    return stats


# Reading ------------------------------------------------------------------------------------


def _blocks(source, cap: int | None = None) -> Iterator[tuple[bytes, list[int]]]:
    """Blocks of whole lines, each returned as soon as it is available (pipes stream).

    A line longer than `cap` bytes is never held whole: it is read past, and stands in the
    block as an empty line whose index comes with the block.
    """
    size = BLOCK_BYTES
    fd = _pipe_fd(source)
    # A file is read in full blocks; a pipe gives what has arrived, so results are not held up.
    read1 = source.read if fd is None else getattr(source, "read1", source.read)
    while True:
        block = read1(size)
        if not block:
            return
        # On a pipe, take what is already waiting, up to `size`, so chunks stay large when the
        # producer is fast and results still come out promptly when it is slow.
        while fd is not None and len(block) < size and _ready(fd):
            more = read1(size - len(block))
            if not more:
                break
            block += more
        long: list[int] = []
        if not block.endswith(b"\n"):
            start = block.rfind(b"\n") + 1
            if cap is None:
                block += source.readline()
            else:
                room = max(cap - (len(block) - start), 0) + 1
                rest = source.readline(room)
                if len(rest) == room and not rest.endswith(b"\n"):  # more than `cap` bytes
                    block = block[:start] + b"\n"
                    long.append(block.count(b"\n") - 1)
                    _skip_line(source)
                else:
                    block += rest
        yield block, long


def _skip_line(source) -> None:
    """Read past the rest of the current line, a block at a time."""
    while True:
        part = source.readline(BLOCK_BYTES)
        if not part or part.endswith(b"\n"):
            return


def line_cap(limits: Limits) -> int | None:
    """The longest input line batch reads: room for an expression of --max-length characters
    written as JSON (\\uXXXX escapes take 6 bytes) and 1 MiB of other fields."""
    return None if limits.max_length is None else 6 * limits.max_length + (1 << 20)


def _pipe_fd(source) -> int | None:
    """The descriptor to poll when `source` is a pipe or terminal; None for files and memory."""
    try:
        fd = source.fileno()
        return None if stat.S_ISREG(os.fstat(fd).st_mode) or os.name == "nt" else fd
    except (AttributeError, OSError, io.UnsupportedOperation):
        return None


def _ready(fd: int) -> bool:
    try:
        return bool(select.select([fd], [], [], 0)[0])
    except (OSError, ValueError):
        return False


def _lines(block: bytes, long: list[int], cap: int | None) -> tuple[list[str], dict[int, str]]:
    """The block's lines as text, and why each line that cannot be used cannot be."""
    bad: dict[int, str] = {}
    try:
        lines = block.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        lines = []
        for i, raw in enumerate(block.split(b"\n")):
            try:
                lines.append(raw.decode("utf-8"))
            except UnicodeDecodeError:
                lines.append(raw.decode("utf-8", "replace"))
                bad[i] = "not UTF-8 text"
    if lines and lines[-1] == "":
        lines.pop()
    if b"\r" in block:  # CRLF line ends
        lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    for i in long:
        bad[i] = f"the line is longer than {cap} bytes, the most --max-length allows"
    return lines, bad


def _is_number_text(texts: list[str]) -> bool:
    """True when numpy's float conversion of `texts` accepts exactly what parse_value accepts.

    Python's float() also takes `1_000`, `infinity` and non-ASCII digits; parse_value does not.
    """
    joined = "".join(texts)
    return joined.isascii() and not any(c in joined for c in "_yY")


def _column(texts: list[str], name: str, line0: int, errors: dict[int, str]) -> np.ndarray:
    """Parse one variable's cells to float64; a bad cell becomes an error for its row."""
    col = None
    if _is_number_text(texts):
        try:
            col = np.array(texts, dtype=np.float64)
        except ValueError:
            col = None
    if col is not None:
        suspects = np.flatnonzero(np.isinf(col)).tolist()  # inf, or out of range like 1e400
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


def _points(source, sink, delim, output_format, options, stats, progress) -> None:
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
    index = {}
    for j, name in enumerate(header):
        if name in program.variables and name in index:
            raise BatchError(f"the header names column {name!r} twice")
        index.setdefault(name, j)
    missing = [name for name in program.variables if name not in index]
    if missing:
        raise BatchError(
            f"no column for variable {missing[0]!r}: the header (line 1) has "
            + ", ".join(repr(h) for h in header)
        )
    wrt = api.select_wrt(program, options.wrt)
    out_delim = DELIMITERS.get(output_format)
    labels = _labels(wrt, options.order)
    writer = _Writer(sink, output_format, header, program, labels, options.fail_fast)
    if output_format != "jsonl":
        writer.write_header(header_text if out_delim == delim else None)
    same = out_delim == delim
    guard = _Guard(options.limits)
    line0 = 2
    for block, long in _blocks(source, cap):
        lines, bad = _lines(block, long, cap)
        n = len(lines)
        errors: dict[int, str] = {i: f"line {line0 + i}: {why}" for i, why in bad.items()}
        cells = _split(lines, delim, len(header), block, errors, line0)
        columns = {
            name: _column(cells[index[name]], name, line0, errors) for name in program.variables
        }
        rows, good = _evaluate(guard, program, columns, n, errors, wrt, options.order, line0)
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


def _evaluate(guard, program, columns, n, errors, wrt, order, line0):
    """Evaluate the rows without errors, and say which rows those are (None: all).

    Rows that meet a limit become errors too.
    """
    good = None
    if errors:
        good = np.setdiff1d(np.arange(n), np.fromiter(errors, dtype=np.intp))
        if not good.size:
            return None, good
        columns = {name: col[good] for name, col in columns.items()}
    m = n if good is None else good.size
    rows, done = guard.rows(program, columns, m, wrt, order)
    if done < m:  # the rest met a limit
        where = np.arange(n) if good is None else good
        for i in where[done:].tolist():
            errors[i] = f"line {line0 + i}: {guard.hopeless[program.text]}"
        good = where[:done]
    return rows, good


class _Guard:
    """Evaluates rows under the limits, which hold per record.

    Rows that share an expression are evaluated together, as one graph over all of them; when
    that meets a limit (too many nodes for so many values, or too long), the rows are split in
    halves until the pieces fit, and later evaluations of the expression start from the piece
    size that worked. A single record that meets a limit on its own fails, and so does every
    later record of the same expression, without being tried: its graph would be the same.
    """

    def __init__(self, limits: Limits):
        self.limits = limits
        self.piece: dict[str, int] = {}  # expression -> most rows per evaluation that fit
        self.hopeless: dict[str, str] = {}  # expression -> the error its records get

    def rows(self, program: Program, columns, n: int, wrt, order) -> tuple[api.Rows | None, int]:
        """The results of the first `done` of the `n` rows, and `done`; the others failed."""
        text = program.text
        if text in self.hopeless:
            return None, 0
        size = self.piece.get(text) or self._first_piece(program, n)
        parts: list[api.Rows] = []
        start = 0
        while start < n:
            stop = min(start + size, n)
            part = columns if stop - start == n else {k: c[start:stop] for k, c in columns.items()}
            try:
                with enforce(self.limits):
                    parts.append(api.grad_rows(program, part, stop - start, wrt, order))
            except (GraphTooLarge, TimeLimitExceeded) as exc:
                if stop - start == 1:
                    _remember(self.hopeless, text, exc.message)
                    return _concat(parts), start
                size = (stop - start + 1) // 2
                _remember(self.piece, text, size)
                continue
            start = stop
        return _concat(parts), n

    def _first_piece(self, program: Program, n: int) -> int:
        """Rows that surely fit the node limit at order 1, where each call records one node.

        A node of m rows counts 1 + m // 64 (limits.py): splitting ahead of time saves building
        a graph of too many values only to throw it away.
        """
        limit = self.limits.max_nodes
        if limit is None or n <= 64:
            return n
        calls = sum(1 for kind, _, _ in program.steps if kind == CALL)
        if not calls or limit // calls < 2:
            return n
        return min(n, (limit // calls - 1) * 64 + 63)


def _remember(memo: dict, key, value, most: int = 4096) -> None:
    if len(memo) >= most:
        memo.clear()
    memo[key] = value


def _concat(parts: list[api.Rows]) -> api.Rows | None:
    """One Rows of the pieces' rows, in order."""
    if len(parts) <= 1:
        return parts[0] if parts else None

    def cat(get):
        return np.concatenate([get(p) for p in parts])

    first = parts[0]
    inputs = {name: cat(lambda p, name=name: p.inputs[name]) for name in first.inputs}
    grads = None
    if first.grad is not None:
        grads = {name: cat(lambda p, name=name: p.grad[name]) for name in first.grad}
    derivatives = None
    if first.derivatives is not None:
        derivatives = [
            {key: cat(lambda p, k=k, key=key: p.derivatives[k][key]) for key in level}
            for k, level in enumerate(first.derivatives)
        ]
    rows = api.Rows(first.expr, inputs, cat(lambda p: p.value), grads, [], derivatives)
    offset = 0
    for p in parts:
        rows.row_warnings.update((offset + i, w) for i, w in p.row_warnings.items())
        offset += p.value.shape[0]
    return rows


def _labels(wrt: tuple[str, ...], order: int) -> list[tuple[str, tuple[str, ...]]]:
    """(column label, variable path) of each derivative, order 1 first: grad_x, d2f/dxdy, ..."""
    from .orders import label

    labels = [(f"grad_{name}", (name,)) for name in wrt] if order >= 1 else []
    paths: list[tuple[str, ...]] = [(name,) for name in wrt]
    for _ in range(2, order + 1):
        paths = [(*p, name) for p in paths for name in wrt]
        labels.extend((label(p), p) for p in paths)
    return labels


def _derivative(rows: api.Rows, path: tuple[str, ...]) -> np.ndarray:
    if len(path) == 1:
        return rows.grad[path[0]]
    return rows.derivatives[len(path) - 1][path]


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
        names = ["value", *(label for label, _ in self.labels), "error"]
        if same_text is not None:
            self.sink.write(same_text + self.delim + self.delim.join(names) + "\n")
        else:
            self._csv_row([*self.header, *names])
        self.sink.flush()

    def _csv_row(self, cells) -> None:
        if self.csv is None:
            self.csv = csv.writer(self.sink, delimiter=self.delim, lineterminator="\n")
        self.csv.writerow(cells)

    def _matrix(self, rows: api.Rows) -> np.ndarray:
        cols = [rows.value, *(_derivative(rows, path) for _, path in self.labels)]
        return np.column_stack(cols)

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
        width = 1 + len(self.labels)
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
            record.update(_row_record(rows, where[i]))
            out.append(_ENCODE(record))
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


def _row_record(rows: api.Rows, k: int) -> dict:
    """The `dezero grad --format json` record of row `k` of `rows`."""
    result = api.Result(
        rows.expr,
        {name: x[k] for name, x in rows.inputs.items()},
        rows.value[k],
        None if rows.grad is None else {name: g[k] for name, g in rows.grad.items()},
        list(rows.row_warnings.get(k, [])),
    )
    if rows.derivatives is not None:
        result.derivatives = [{key: a[k] for key, a in level.items()} for level in rows.derivatives]
    return render.result_record(result)


# Records mode (JSON Lines) ------------------------------------------------------------------


def _records(source, sink, options, stats, progress) -> None:
    """Each line an object; values of the expression's variables are its fields."""
    line0 = 1
    pending: list[bytes] = []
    long: list[int] = []  # lines of the window too long to read (indexes in the window)
    size = 0
    memo = _Memo(options.limits)
    for block, too_long in _blocks(source, memo.cap):
        long.extend(size + i for i in too_long)
        pending.append(block)
        size += block.count(b"\n")
        if size >= RECORD_WINDOW:
            window = b"".join(pending)
            line0 = _record_window(window, long, line0, sink, options, stats, progress, memo)
            pending, long, size = [], [], 0
            if stats.stopped:
                return
    if pending:
        window = b"".join(pending)
        _record_window(window, long, line0, sink, options, stats, progress, memo)


RESERVED = frozenset(["expr", "inputs", "value", "grad", "warnings", "derivatives", "error"])


@dataclass
class _Group:
    """Records of one window that share an expression."""

    program: Program
    index: list[int] = field(default_factory=list)
    values: list[list[float]] = field(default_factory=list)
    passed: list[dict] = field(default_factory=list)


class _Memo:
    """What records mode keeps from window to window: compiled expressions (or their errors),
    and the guard that holds the limits."""

    def __init__(self, limits: Limits):
        self.programs: dict[str, Program | DezeroError] = {}
        self.guard = _Guard(limits)
        self.cap = line_cap(limits)


def _record_window(block, long, line0, sink, options, stats, progress, memo) -> int:
    """Evaluate a window of records, grouping those that share an expression; write in order."""
    lines, bad = _lines(block, long, memo.cap)
    n = len(lines)
    out: list[str] = [""] * n
    failed: list[int] = []
    groups: dict[str, _Group] = {}
    for i, obj in enumerate(_load_all(lines, bad)):
        try:
            if isinstance(obj, _RecordError):
                raise obj
            if not isinstance(obj, dict):
                raise _RecordError("a record must be a JSON object")
            program = options.expr or _program(obj.get("expr"), memo)
            values = []
            vector = False
            for name in program.variables:
                v = obj.get(name, _MISSING)
                if type(v) is not float or v - v != 0.0:  # not a plain finite number
                    v = _json_value(v, name)
                    vector = vector or type(v) is not float
                values.append(v)
            if vector:
                # Vector values: an evaluation of its own, exactly as `dezero grad` does it.
                with enforce(options.limits):
                    out[i] = _single(program, values, _passed(obj, program), options)
                continue
        except (_RecordError, DezeroError) as exc:
            out[i] = _error_record(exc, line0 + i, obj)
            failed.append(i)
            continue
        group = groups.get(program.text)
        if group is None:
            group = groups[program.text] = _Group(program)
        group.index.append(i)
        group.values.append(values)
        group.passed.append(_passed(obj, program))
    for group in groups.values():
        n_group = len(group.index)
        try:
            wrt = _wrt_for(group.program, options.wrt)
            table = np.array(group.values, dtype=np.float64).reshape(n_group, -1)
            columns = {name: table[:, j] for j, name in enumerate(group.program.variables)}
            rows, done = memo.guard.rows(group.program, columns, n_group, wrt, options.order)
        except DezeroError as exc:
            for i in group.index:
                out[i] = _error_record(exc, line0 + i, lines[i])
                failed.append(i)
            continue
        if done < n_group:  # the rest met a limit
            exc = _RecordError(memo.guard.hopeless[group.program.text])
            for i in group.index[done:]:
                out[i] = _error_record(exc, line0 + i, lines[i])
                failed.append(i)
            if not done:
                continue
        for i, text in zip(group.index, _render_group(group, rows, wrt, options.order)):
            if text is None:
                out[i] = _error_record(
                    _RecordError("a field holds a number outside the float64 range"),
                    line0 + i,
                    lines[i],
                )
                failed.append(i)
            else:
                out[i] = text
    count = n
    if failed:
        failed.sort()
        if options.fail_fast:
            count = failed[0] + 1
            stats.stopped = True
        stats.failed += sum(1 for i in failed if i < count)
        stats.first_error = stats.first_error or line0 + failed[0]
    sink.write("\n".join(out[:count]) + "\n")
    sink.flush()
    stats.records += count
    if progress is not None:
        progress(stats.records)
    return line0 + n


class _RecordError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


_MISSING = object()


def _reject_constant(name: str):
    raise _RecordError(f'{name} is not JSON: write the value as a string such as "nan"')


def _load_all(lines: list[str], bad: dict[int, str]) -> list:
    """Each line's JSON value, or the _RecordError saying why it has none.

    One json.loads of the whole window when every line is well formed (much less overhead than
    one call per line); otherwise line by line, so one bad line spoils nothing else.
    """
    if not bad and lines:
        try:
            objs = json.loads("[" + ",".join(lines) + "]", parse_constant=_reject_constant)
            if len(objs) == len(lines):
                return objs
        except (ValueError, RecursionError, _RecordError):
            pass
    return [_RecordError(bad[i]) if i in bad else _load_one(line) for i, line in enumerate(lines)]


def _load_one(line: str):
    if not line.strip():
        return _RecordError("blank line")
    try:
        return json.loads(line, parse_constant=_reject_constant)
    except _RecordError as exc:
        return exc
    except ValueError as exc:
        return _RecordError(f"not valid JSON ({exc.msg} at column {exc.colno})")
    except RecursionError:
        return _RecordError("not valid JSON (nested too deep)")


def _program(expr, memo: _Memo) -> Program:
    """The compiled expression, cached with its error (bounded, like compile_expression's).

    The limits on the expression's size and time hold for each record's own expression.
    """
    if not isinstance(expr, str):
        raise _RecordError('the record has no "expr" string')
    programs = memo.programs
    program = programs.get(expr)
    if program is None:
        try:
            program = compile_within(expr, memo.guard.limits)
        except DezeroError as exc:
            program = exc
        _remember(programs, expr, program)
    if isinstance(program, DezeroError):
        raise program
    return program


def compile_within(expr: str, limits: Limits) -> Program:
    """The compiled expression, refused when larger than the limits or slower to read."""
    check_expression_size(expr, limits)
    with time_limit(limits.timeout):
        return compile_expression(expr)


def _passed(obj: dict, program: Program) -> dict:
    return {key: v for key, v in obj.items() if key != "expr" and key not in program.variables}


def _json_value(v, name: str):
    """A record's value for a variable: a number, a list of numbers, or text parse_value reads."""
    if v is _MISSING:
        raise _RecordError(f"no value for variable {name!r}")
    if isinstance(v, float) and not np.isfinite(v):
        raise _RecordError(f"value of {name} is outside the float64 range")
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    if isinstance(v, str):
        x = api.parse_value(v, name)
        return float(x) if x.ndim == 0 else x
    if (
        isinstance(v, list)
        and v
        and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)
    ):
        return api.parse_value(",".join(map(repr, v)), name)
    raise _RecordError(f"value of {name} is not a number or a list of numbers: {json.dumps(v)}")


def _render_group(group: _Group, rows: api.Rows, wrt, order: int) -> list[str | None]:
    """Each record of the group as JSON text, as `render.result_record` would give it.

    Rows whose numbers are all finite fill one text template (repr is what json uses for
    floats); the rest, and any record whose own fields clash with ours, go through render.
    """
    program = group.program
    key = json.dumps
    inputs = ", ".join(f"{key(name)}: %s" for name in program.variables)
    template = f'"expr": {key(program.text)}, "inputs": {{{inputs}}}, "value": %s'
    cols = [*(rows.inputs[name] for name in program.variables), rows.value]
    if order >= 1:
        template += ', "grad": {' + ", ".join(f"{key(name)}: %s" for name in wrt) + "}"
        cols.extend(rows.grad[name] for name in wrt)
    template += ', "warnings": []}'
    matrix = np.column_stack(cols)
    fast = np.isfinite(matrix).all(axis=1)
    for k in rows.row_warnings:
        fast[k] = False
    out: list[str | None] = []
    if order > 1:
        fast[:] = False
    reserved = RESERVED.isdisjoint
    for k, numbers in enumerate(matrix.tolist()):
        passed = group.passed[k]
        if fast[k] and reserved(passed):
            head = "{" if not passed else _dumps_or_none(passed)
            if head is None:
                out.append(None)
                continue
            if passed:
                head = head[:-1] + ", "
            out.append(head + template % tuple(map(repr, numbers)))
        else:
            record = dict(passed)
            record.update(_row_record(rows, k))
            out.append(_dumps_or_none(record))
    return out


_ENCODE = json.JSONEncoder(allow_nan=False).encode  # json.dumps would build one per call


def _dumps_or_none(record: dict) -> str | None:
    try:
        return _ENCODE(record)
    except ValueError:  # a passed-through number such as 1e400 that JSON cannot hold
        return None


def _wrt_for(program: Program, wrt) -> tuple[str, ...]:
    """--wrt in records mode: those of the named variables that this expression has."""
    if wrt is None:
        return program.variables
    return tuple(name for name in wrt if name in program.variables)


def _single(program, values, passed, options) -> str:
    values = dict(zip(program.variables, values))
    wrt = _wrt_for(program, options.wrt)
    if options.order <= 0:
        result = api.evaluate(program, values)
    elif options.order == 1:
        result = api.grad(program, values, wrt)
    else:
        from .orders import derivatives

        result = derivatives(program, values, options.order, wrt)
    record = dict(passed)
    record.update(render.result_record(result))
    text = _dumps_or_none(record)
    if text is None:
        raise _RecordError("a field holds a number outside the float64 range")
    return text


def _error_record(exc, line_no: int, obj) -> str:
    """The input record's own fields, and an `error` naming the line and the problem."""
    message = exc.message
    if isinstance(exc, ExpressionSyntaxError):
        message += f" (column {exc.column + 1})"
    if isinstance(obj, str):
        obj = _load_one(obj)
    record = {k: v for k, v in obj.items() if k != "error"} if isinstance(obj, dict) else {}
    record["error"] = f"line {line_no}: {message}"
    return _dumps_or_none(record) or json.dumps({"error": record["error"]})
