"""Records mode: JSON Lines where every record carries its own expression.

Within a window of records, those that share an expression are evaluated together, then
every record is written back in input order. Every line is judged alone (jsonlines.load).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from time import perf_counter

import numpy as np

from .. import api
from ..api import Program
from ..errors import DezeroError, ExpressionSyntaxError
from ..limits import Limits, enforce
from ..render.results import result_record
from ..values import literal_problem
from .cells import msgspec_encoder, number_texts
from .job import native_from_start
from .jsonlines import Duplicate, RawNumber, RecordError, dumps, fast_loader, load
from .names import RESERVED_KEYS, SD_SUFFIX, record_problem, uncertainty_columns
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
    for item in _lines(source, memo.cap, options.block_bytes):
        if type(item) is int:  # the size of a block read
            read += item
            if memo.encode is None and read >= options.block_bytes and options.path == "auto":
                memo.speed_up()  # a block's worth has come from a pipe
            continue
        if item is not _PAUSE:
            window.add(item, options, memo)
            if (
                len(window.out) < options.record_window
                and window.size < options.window_bytes
                and not (options.fail_fast and window.failed)
                and not window.due(options.window_seconds, perf_counter())
            ):
                continue
        elif not window.out:
            continue
        window = window.write(sink, options, stats, progress, memo)
        if stats.stopped:
            return
    if window.out:
        window.write(sink, options, stats, progress, memo)


_PAUSE = object()  # a pipe has nothing more waiting: write what is done


def _lines(source, cap, size):
    """Each line's text (or the RecordError of a line that cannot be read), _PAUSE, and
    before a block's lines the block's size in bytes."""
    first = True
    for block, long, more in blocks(source, cap, size):
        lines, bad = split_lines(block, long, cap)
        if first and lines and lines[0].startswith("\ufeff"):  # a byte order mark, as CSV has
            lines[0] = lines[0][1:]
        first = False
        yield len(block)
        if bad:
            yield from (RecordError(bad[i]) if i in bad else line for i, line in enumerate(lines))
        else:
            yield from lines
        if not more:
            yield _PAUSE


@dataclass
class _Group:
    """Records of one window that share an expression."""

    program: Program
    skip: frozenset  # the fields of a record that are not its own (_skipped)
    index: list[int] = field(default_factory=list)
    values: list[list[float]] = field(default_factory=list)
    heads: list[str] = field(default_factory=list)  # each record's own fields, as JSON text
    objs: list[dict] = field(default_factory=list)  # the records, for their error records


class _Memo:
    """What records mode keeps from window to window: compiled expressions (or their errors),
    and the guard that holds the limits."""

    def __init__(self, limits: Limits):
        self.load = load  # JSON text to a value, or the RecordError of a line
        self.encode = None  # msgspec's encoder, once the input is large enough to want it
        self.programs: dict[str, Program | DezeroError] = {}
        self.skip: dict[str, frozenset] = {}  # by expression: the fields not passed through
        self.guard = Guard(limits)
        self.cap = line_cap(limits)

    def speed_up(self) -> None:
        """Read and write JSON with msgspec from here on, where it is installed."""
        self.load = fast_loader() or load
        self.encode = msgspec_encoder() or False


class _Window:
    """The records read since the last write, evaluated together, then written in order."""

    def __init__(self, line0: int):
        self.line0 = line0  # the line number of the first record
        self.out: list[str] = []  # each record's output text, once known
        self.failed: list[int] = []
        self.groups: dict[str, _Group] = {}
        self.size = 0  # characters read
        self.shared = 0  # records that joined the group of an earlier one
        self.start = perf_counter()

    def due(self, seconds: float, now: float) -> bool:
        """Whether reading has taken long enough, at time `now`: `seconds`, or four times that
        while most records share an expression with an earlier one (evaluating them together
        is what a window is for; records that share nothing gain nothing from waiting)."""
        elapsed = now - self.start
        if elapsed < seconds:
            return False
        return elapsed >= 4 * seconds or 4 * self.shared < 3 * len(self.out)

    def add(self, item, options, memo) -> None:
        """Read one record: an error, a vector record evaluated alone, or one for a group."""
        i = len(self.out)
        self.out.append("")
        if type(item) is str:
            self.size += len(item) + 1
            obj = memo.load(item)
        else:  # the RecordError of a line that cannot be read
            obj = item
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
            skip = memo.skip.get(program.text)
            if skip is None:
                skip = _skipped(program, options.expr is None)
                remember(memo.skip, program.text, skip)
            passed = {key: v for key, v in obj.items() if key not in skip}
            if not RESERVED_KEYS.isdisjoint(passed):
                raise RecordError(record_problem(passed))
            values = [obj.get(name, _MISSING) for name in program.variables]
            vector = False
            for k, v in enumerate(values):
                if type(v) is not float:  # not a plain number (a float is always finite here)
                    v = values[k] = _json_value(v, program.variables[k])
                    vector = vector or type(v) is not float
            sd = _record_sd(obj, program)
            if vector or sd or program.outputs:
                # Vector values, uncertainties (NAME_sd fields) or a vector result: an
                # evaluation of its own, exactly as `dezero grad` does it.
                with enforce(options.limits):
                    self.out[i] = _single(program, values, passed, options, sd)
                return
        except (RecordError, DezeroError) as exc:
            self._fail(i, exc, obj)
            return
        group = self.groups.get(program.text)
        if group is None:
            group = self.groups[program.text] = _Group(program, skip)
        else:
            self.shared += 1
        group.index.append(i)
        group.values.append(values)
        group.heads.append(dumps(passed)[:-1] + ", " if passed else "{")
        group.objs.append(obj)

    def _fail(self, i: int, exc, obj) -> None:
        self.out[i] = _error_record(exc, self.line0 + i, obj)
        self.failed.append(i)

    def write(self, sink, options, stats, progress, memo) -> _Window:
        """Evaluate the groups, write every record in order; the next window."""
        out = self.out
        for group in self.groups.values():
            n_group = len(group.index)
            try:
                wrt = _wrt_for(group.program, options.wrt)
                table = np.array(group.values, dtype=np.float64).reshape(n_group, -1)
                columns = {name: table[:, j] for j, name in enumerate(group.program.variables)}
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


_MISSING = object()


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


def _skipped(program: Program, own_expr: bool) -> frozenset:
    """The fields of a record that are not written back as they came: its variables, and its
    `expr` in records mode (with --expr, a record's own `expr` is passed, and clashes)."""
    return frozenset((*program.variables, "expr") if own_expr else program.variables)


def _json_value(v, name: str):
    """A record's value for a variable: a number, a list of numbers, or text parse_value reads.

    The same rule as for every spelling of a value: a number float64 cannot hold is refused.
    """
    if v is _MISSING:
        raise RecordError(f"no value for variable {name!r}")
    if type(v) is int:
        try:
            return float(v)
        except OverflowError:  # an integer of 309 digits or more
            raise RecordError(f"value of {name} is outside the float64 range") from None
    if isinstance(v, RawNumber):
        return _raw_number(v, name)
    if isinstance(v, str):
        x = api.parse_value(v, name)
        return float(x) if x.ndim == 0 else x
    if isinstance(v, list) and v and all(type(x) in (int, float, RawNumber) for x in v):
        texts = (x.text if type(x) is RawNumber else repr(x) for x in v)
        return api.parse_value(",".join(texts), name)
    raise RecordError(f"value of {name} is not a number or a list of numbers: {dumps(v)}")


def _raw_number(v: RawNumber, name: str) -> float:
    """A number kept as written, as a value: refused, unless float64 holds it after all."""
    x = float(v.text)
    if not literal_problem(v.text, x):
        return x
    if math.isinf(x):
        raise RecordError(f"value of {name} is outside the float64 range")
    raise RecordError(f"value of {name} is too small for float64 (it would become 0)")


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
    out: list[str] = []
    for k, (head, plain) in enumerate(zip(group.heads, fast.tolist())):
        if plain:
            out.append(head + template % tuple(texts[k * width : (k + 1) * width]))
        else:
            skip = group.skip
            record = {key: v for key, v in group.objs[k].items() if key not in skip}
            record.update(row_record(rows, k))
            out.append(dumps(record))
    return out


def _wrt_for(program: Program, wrt) -> tuple[str, ...]:
    """--wrt in records mode: those of the named variables that this expression has."""
    if wrt is None:
        return program.variables
    return tuple(name for name in wrt if name in program.variables)


@functools.lru_cache(maxsize=4096)
def _sd_fields(variables: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(variable, NAME_sd field) for each field that may give a variable's uncertainty: those
    of names.uncertainty_columns for a record that had every one of them."""
    return tuple(uncertainty_columns(variables, {name + SD_SUFFIX for name in variables}).items())


def _record_sd(obj: dict, program: Program) -> dict[str, float]:
    """The standard uncertainties a record gives in NAME_sd fields (names.uncertainty_columns),
    read as values are; one number each (api refuses a bad one)."""
    sd = {}
    for name, field_name in _sd_fields(program.variables):
        if field_name not in obj:
            continue
        v = obj[field_name]
        if type(v) is not float:  # a plain float is taken as it is, as for values
            v = _json_value(v, field_name)
        if type(v) is not float:
            raise RecordError(f"{field_name} must be one number, not {np.size(v)}")
        sd[name] = v
    return sd


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


def _error_record(exc, line_no: int, obj) -> str:
    """The input record's own fields, and an `error` naming the line and the problem.

    A record's own `error` field cannot stand beside ours: its value goes into the message.
    """
    message = exc.message
    if isinstance(exc, ExpressionSyntaxError):
        message += f" (column {exc.column + 1})"
    if isinstance(obj, Duplicate):
        obj = obj.obj
    record = dict(obj) if isinstance(obj, dict) else {}
    if "error" in record:
        message += f' (the record\'s own "error" was {dumps(record.pop("error"))})'
    record["error"] = f"line {line_no}: {message}"
    return dumps(record)
