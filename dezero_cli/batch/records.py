"""Records mode: JSON Lines where every record carries its own expression.

Within a window of records, those that share an expression are evaluated together, then
every record is written back in input order. Every line is judged alone (jsonlines.load), and
every record comes out as it would alone: records with the same expression and the same keys
are only checked in bulk (_Window._settle), and anything unusual is judged one by one.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from time import perf_counter

import numpy as np

from .. import api
from ..api import Program
from ..errors import DezeroError
from ..limits import Limits, enforce
from ..render.results import result_record
from .cells import msgspec_encoder, number_texts
from .fields import (
    FLOAT,
    MISSING,
    error_record,
    field_texts,
    json_value,
    plain_numbers,
    record_sd,
    sd_fields,
    skipped,
)
from .job import native_from_start
from .jsonlines import RecordError, dumps, fast_block_loader, load_block
from .names import RESERVED_KEYS, record_problem
from .rows import Guard, Rows, compile_within, remember, row_record
from .streams import blocks, line_cap, split_lines


def records(source, sink, options, stats, progress) -> None:
    """Each line an object; values of the expression's variables are its fields.

    Records are read into a window until it holds `record_window` records or `window_bytes`
    of text, or a pipe has nothing more waiting, or (with --fail-fast) a record has failed, or
    reading them (parsing, compiling, vector values) has taken too long (_Window.due); then the
    window is evaluated and written. So memory stays bounded whatever the input, results from
    a slow pipe come out as they are ready, and a run cut short has written every window
    before.
    """
    memo = _Memo(options.limits)
    if native_from_start(options.path, source, options.block_bytes):
        memo.speed_up()
    read = 0
    window = _Window(1)
    for size, items, more in _blocks(source, memo.cap, options.block_bytes):
        read += size
        if memo.encode is None and read >= options.block_bytes and options.path == "auto":
            memo.speed_up()  # a block's worth has come from a pipe
        objs = memo.load_block(items)
        k = 0
        while k < len(items):
            k, full = window.take(items, objs, k, options, memo)
            if full:
                window = window.write(sink, options, stats, progress, memo)
                if stats.stopped:
                    return
        if not more and window.out:  # a pipe has nothing more waiting: write what is done
            window = window.write(sink, options, stats, progress, memo)
            if stats.stopped:
                return
    if window.out:
        window.write(sink, options, stats, progress, memo)


def _blocks(source, cap, size):
    """(size in bytes, lines, more waiting) for each block read. A line is its text, or the
    RecordError of a line that cannot be read."""
    first = True
    for block, long, more in blocks(source, cap, size):
        lines, bad = split_lines(block, long, cap)
        if first and lines and lines[0].startswith("\ufeff"):  # a byte order mark, as CSV has
            lines[0] = lines[0][1:]
        first = False
        if bad:
            lines = [RecordError(bad[i]) if i in bad else line for i, line in enumerate(lines)]
        yield len(block), lines, more


@dataclass
class _Group:
    """Records of one window that share an expression."""

    program: Program
    skip: frozenset  # the fields of a record that are not its own (skipped)
    index: list[int] = field(default_factory=list)
    columns: list[list[float]] = field(init=False)  # each variable's values, by record
    # Each record's own fields, as runs of records: (count, template, columns), the template
    # "{...: %s, " of the fields with the JSON text of each field in a column.
    heads: list[tuple[int, str, list[list[str]]]] = field(default_factory=list)
    objs: list[dict] = field(default_factory=list)  # the records, for their error records

    def __post_init__(self):
        self.columns = [[] for _ in self.program.variables]


class _Memo:
    """What records mode keeps from window to window: compiled expressions (or their errors),
    and the guard that holds the limits."""

    def __init__(self, limits: Limits):
        self.load_block = load_block  # JSON lines to values, or the RecordError of each line
        self.encode = None  # msgspec's encoder, once the input is large enough to want it
        self.programs: dict[str, Program | DezeroError] = {}
        self.skip: dict[str, frozenset] = {}  # by expression: the fields not passed through
        self.guard = Guard(limits)
        self.cap = line_cap(limits)

    def speed_up(self) -> None:
        """Read and write JSON with msgspec from here on, where it is installed."""
        self.load_block = fast_block_loader() or load_block
        self.encode = msgspec_encoder() or False


class _Window:
    """The records read since the last write, evaluated together, then written in order."""

    def __init__(self, line0: int):
        self.line0 = line0  # the line number of the first record
        self.out: list[str] = []  # each record's output text, once known
        self.failed: list[int] = []
        self.groups: dict[str, _Group] = {}  # by the expression's text
        self.buckets: dict[tuple, tuple[list, list]] = {}  # _settle's: indices and records
        self.size = 0  # characters read
        self.shared = 0  # records that joined the group of an earlier one
        self.start = perf_counter()

    def due(self, seconds: float, now: float, shared: int = 0) -> bool:
        """Whether reading has taken long enough, at time `now`: `seconds`, or four times that
        while most records share an expression with an earlier one (evaluating them together
        is what a window is for; records that share nothing gain nothing from waiting)."""
        elapsed = now - self.start
        if elapsed < seconds:
            return False
        return elapsed >= 4 * seconds or 4 * (self.shared + shared) < 3 * len(self.out)

    def take(self, lines: list, objs: list, first: int, options, memo) -> tuple[int, bool]:
        """Read records from lines[first:] (objs: their values, or RecordErrors) until the window
        is full or due; the index of the next line, and whether the window is to be written.

        A plain object waits in the bucket of its expression and keys (_settle judges a bucket
        at once); anything else is judged now (_judge). With --fail-fast every record is
        judged as it comes, so that the window ends at the first failure.
        """
        out, buckets, shared = self.out, self.buckets, 0
        fixed = options.expr is not None
        one_by_one = options.fail_fast
        most, most_bytes, seconds = (
            options.record_window,
            options.window_bytes,
            options.window_seconds,
        )
        start = self.start
        for k in range(first, len(lines)):
            line, obj = lines[k], objs[k]
            i = len(out)
            out.append("")
            if type(line) is str:
                self.size += len(line) + 1
            if type(obj) is dict and not one_by_one:
                expr = None if fixed else obj.get("expr")
                if expr is None or type(expr) is str:
                    key = (expr, tuple(obj))
                    bucket = buckets.get(key)
                    if bucket is None:
                        buckets[key] = bucket = ([], [])
                        if not fixed and expr not in memo.programs:
                            _compile_now(expr, memo)  # so that reading counts its time (due)
                    else:
                        shared += 1
                    bucket[0].append(i)
                    bucket[1].append(obj)
                else:
                    self._judge(i, obj, options, memo)
            else:
                self._judge(i, obj, options, memo)
            if (
                i + 1 >= most
                or self.size >= most_bytes
                or (one_by_one and self.failed)
                or ((now := perf_counter()) - start >= seconds and self.due(seconds, now, shared))
            ):
                self.shared += shared
                return k + 1, True
        self.shared += shared
        return len(lines), False

    def _settle(self, expr, keys: tuple, index: list[int], objs: list[dict], options, memo):
        """Judge a bucket: records with the same expression and the same keys in the same
        order, so one check of the keys holds for all. Its records whose values are all plain
        numbers join their group in bulk; the rest (and every record of an unusual bucket:
        an output field's name, NAME_sd fields, a missing variable, a vector result) are
        judged one by one, exactly as they would be alone."""
        try:
            program = options.expr if options.expr is not None else _program(expr, memo)
        except (RecordError, DezeroError) as exc:
            for i, obj in zip(index, objs):
                self._fail(i, exc, obj)
            return
        skip = _skip(program, options, memo)
        variables = program.variables
        passed = [key for key in keys if key not in skip]
        fields = set(keys)
        if (
            program.outputs
            or not RESERVED_KEYS.isdisjoint(passed)
            or not fields.issuperset(variables)
            or any(sd in fields for _, sd in sd_fields(variables))
        ):
            for i, obj in zip(index, objs):
                self._judge(i, obj, options, memo)
            return
        columns = [plain_numbers([obj[name] for obj in objs]) for name in variables]
        if any(set(map(type, column)) != FLOAT for column in columns):
            plain = [all(type(c[k]) is float for c in columns) for k in range(len(objs))]
            for i, obj, ok in zip(index, objs, plain):
                if not ok:
                    self._judge(i, obj, options, memo)
            index = [i for i, ok in zip(index, plain) if ok]
            objs = [obj for obj, ok in zip(objs, plain) if ok]
            columns = [[x for x, ok in zip(c, plain) if ok] for c in columns]
            if not objs:
                return
        group = self._group(program, skip)
        group.index.extend(index)
        for into, column in zip(group.columns, columns):
            into.extend(column)
        head = "{" + "".join(dumps(key).replace("%", "%%") + ": %s, " for key in passed)
        texts = [field_texts([obj[key] for obj in objs]) for key in passed]
        group.heads.append((len(objs), head, texts))
        group.objs.extend(objs)

    def _judge(self, i: int, obj, options, memo) -> None:
        """Judge one record: an error, a vector record evaluated alone, or one for a group."""
        try:
            if type(obj) is not dict:
                if isinstance(obj, RecordError):
                    raise obj
                if not isinstance(obj, dict):
                    raise RecordError("a record must be a JSON object")
            program = options.expr
            if program is None:
                expr = obj.get("expr")
                program = memo.programs.get(expr) if type(expr) is str else None
                if type(program) is not Program:  # not read yet, or an error
                    program = _program(expr, memo)
            skip = _skip(program, options, memo)
            passed = {key: v for key, v in obj.items() if key not in skip}
            if not RESERVED_KEYS.isdisjoint(passed):
                raise RecordError(record_problem(passed))
            values = [obj.get(name, MISSING) for name in program.variables]
            vector = False
            for k, v in enumerate(values):
                if type(v) is not float:  # not a plain number (a float is always finite here)
                    v = values[k] = json_value(v, program.variables[k])
                    vector = vector or type(v) is not float
            sd = record_sd(obj, program)
            if vector or sd or program.outputs:
                # Vector values, uncertainties (NAME_sd fields) or a vector result: an
                # evaluation of its own, exactly as `dezero grad` does it.
                with enforce(options.limits):
                    self.out[i] = _single(program, values, passed, options, sd)
                return
        except (RecordError, DezeroError) as exc:
            self._fail(i, exc, obj)
            return
        group = self._group(program, skip)
        if group.index:
            self.shared += 1
        group.index.append(i)
        for into, x in zip(group.columns, values):
            into.append(x)
        head = dumps(passed)[:-1].replace("%", "%%") + ", " if passed else "{"
        group.heads.append((1, head, []))
        group.objs.append(obj)

    def _group(self, program: Program, skip: frozenset) -> _Group:
        group = self.groups.get(program.text)
        if group is None:
            group = self.groups[program.text] = _Group(program, skip)
        return group

    def _fail(self, i: int, exc, obj) -> None:
        self.out[i] = error_record(exc, self.line0 + i, obj)
        self.failed.append(i)

    def write(self, sink, options, stats, progress, memo) -> _Window:
        """Evaluate the groups, write every record in order; the next window."""
        for (expr, keys), (index, objs) in self.buckets.items():
            self._settle(expr, keys, index, objs, options, memo)
        out = self.out
        for group in self.groups.values():
            n_group = len(group.index)
            try:
                wrt = _wrt_for(group.program, options.wrt)
                columns = {
                    name: np.array(column, dtype=np.float64)
                    for name, column in zip(group.program.variables, group.columns)
                }
                rows, done = memo.guard.rows(group.program, columns, n_group, wrt, options.order)
            except DezeroError as exc:
                for i, obj in zip(group.index, group.objs):
                    self._fail(i, exc, obj)
                continue
            if done < n_group:  # the rest met a limit
                exc = RecordError(memo.guard.hopeless[group.program.text])
                for i, obj in zip(group.index[done:], group.objs[done:]):
                    self._fail(i, exc, obj)
                if not done:
                    continue
            texts = _render_group(group, rows, wrt, options.order, memo.encode or None)
            for i, text in zip(group.index, texts):
                out[i] = text
        n = count = len(out)
        failed = self.failed
        if failed:
            failed.sort()
            if options.fail_fast:
                count = failed[0] + 1
                stats.stopped = True
            stats.failed += sum(1 for i in failed if i < count)
            stats.first_error = stats.first_error or self.line0 + failed[0]
        sink.write("\n".join(out[:count]) + "\n")
        sink.flush()
        stats.records += count
        if progress is not None:
            progress(stats.records)
        return _Window(self.line0 + n)


def _skip(program: Program, options, memo: _Memo) -> frozenset:
    skip = memo.skip.get(program.text)
    if skip is None:
        skip = skipped(program, options.expr is None)
        remember(memo.skip, program.text, skip)
    return skip


def _program(expr, memo: _Memo) -> Program:
    """The compiled expression, cached with its error (bounded, like compile_expression's).

    The limits on the expression's size and time hold for each record's own expression.
    """
    if not isinstance(expr, str):
        raise RecordError('the record has no "expr" string')
    programs = memo.programs
    program = programs.get(expr)
    if program is None:
        try:
            program = compile_within(expr, memo.guard.limits)
        except DezeroError as exc:
            program = exc
        remember(programs, expr, program)
    if isinstance(program, DezeroError):
        raise program
    return program


def _compile_now(expr, memo: _Memo) -> None:
    """Compile a record's expression into memo.programs (with its error, if any)."""
    with contextlib.suppress(RecordError, DezeroError):
        _program(expr, memo)


def _render_group(group: _Group, rows: Rows, wrt, order: int, encode=None) -> list[str]:
    """Each record of the group as JSON text, as `result_record` would give it.

    Rows whose numbers are all finite fill one text template (repr is what json uses for
    floats); the rest go through render. A record's own fields never clash with ours
    (names.record_problem), so they simply come first.
    """
    program = group.program
    key = dumps
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
    if order > 1:
        fast[:] = False
    texts = number_texts(matrix, encode) if fast.any() else []
    width = matrix.shape[1]
    numbers = [texts[j::width] for j in range(width)] if texts else []  # by column
    plain = fast.tolist()
    out: list[str] = []
    start = 0
    for count, head, fields in group.heads:
        stop = min(start + count, len(plain))  # rows past a limit have no results
        line = head + template
        if all(plain[start:stop]):  # each record one fill of the template
            cut = [column[start:stop] for column in numbers]
            out.extend(map(line.__mod__, zip(*fields, *cut)))
        else:
            for k in range(start, stop):
                if plain[k]:
                    line_numbers = [column[k] for column in numbers]
                    out.append(line % (*(f[k - start] for f in fields), *line_numbers))
                else:
                    skip = group.skip
                    record = {key: v for key, v in group.objs[k].items() if key not in skip}
                    record.update(row_record(rows, k))
                    out.append(dumps(record))
        start = stop
        if start == len(plain):
            break
    return out


def _wrt_for(program: Program, wrt) -> tuple[str, ...]:
    """--wrt in records mode: those of the named variables that this expression has."""
    if wrt is None:
        return program.variables
    return tuple(name for name in wrt if name in program.variables)


def _single(program, values, passed, options, sd=None) -> str:
    values = dict(zip(program.variables, values))
    wrt = _wrt_for(program, options.wrt)
    if options.order <= 0:
        result = api.evaluate(program, values, sd)
    elif options.order == 1:
        result = api.grad(program, values, wrt, sd)
    else:
        result = api.derivatives(program, values, options.order, wrt, sd)
    record = dict(passed)
    record.update(result_record(result))
    return dumps(record)
