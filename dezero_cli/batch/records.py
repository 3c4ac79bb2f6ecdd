"""Records mode: JSON Lines where every record carries its own expression.

Within a window of records, those that share an expression are evaluated together, then
every record is written back in input order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from .. import api, render
from ..api import Program
from ..errors import DezeroError, ExpressionSyntaxError
from ..limits import Limits, enforce
from .rows import Guard, Rows, compile_within, encode, remember, row_record
from .streams import blocks, line_cap, split_lines


def records(source, sink, options, stats, progress) -> None:
    """Each line an object; values of the expression's variables are its fields."""
    line0 = 1
    pending: list[bytes] = []
    long: list[int] = []  # lines of the window too long to read (indexes in the window)
    size = 0
    memo = _Memo(options.limits)
    for block, too_long in blocks(source, memo.cap, options.block_bytes):
        long.extend(size + i for i in too_long)
        pending.append(block)
        size += block.count(b"\n")
        if size >= options.record_window:
            window = b"".join(pending)
            line0 = _record_window(window, long, line0, sink, options, stats, progress, memo)
            pending, long, size = [], [], 0
            if stats.stopped:
                return
    if pending:
        window = b"".join(pending)
        _record_window(window, long, line0, sink, options, stats, progress, memo)


RESERVED = frozenset(
    ["expr", "inputs", "value", "grad", "warnings", "derivatives", "error", "uncertainty",
     "input_sd"]
)  # fmt: skip


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
        self.guard = Guard(limits)
        self.cap = line_cap(limits)


def _record_window(block, long, line0, sink, options, stats, progress, memo) -> int:
    """Evaluate a window of records, grouping those that share an expression; write in order."""
    lines, bad = split_lines(block, long, memo.cap)
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
            sd = _record_sd(obj, program)
            if vector or sd or program.outputs:
                # Vector values, uncertainties (NAME_sd fields) or a vector result: an
                # evaluation of its own, exactly as `dezero grad` does it.
                with enforce(options.limits):
                    out[i] = _single(program, values, _passed(obj, program), options, sd)
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
        remember(programs, expr, program)
    if isinstance(program, DezeroError):
        raise program
    return program


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


def _render_group(group: _Group, rows: Rows, wrt, order: int) -> list[str | None]:
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
            record.update(row_record(rows, k))
            out.append(_dumps_or_none(record))
    return out


def _dumps_or_none(record: dict) -> str | None:
    try:
        return encode(record)
    except ValueError:  # a passed-through number such as 1e400 that JSON cannot hold
        return None


def _wrt_for(program: Program, wrt) -> tuple[str, ...]:
    """--wrt in records mode: those of the named variables that this expression has."""
    if wrt is None:
        return program.variables
    return tuple(name for name in wrt if name in program.variables)


def _record_sd(obj: dict, program: Program) -> dict[str, float]:
    """The standard uncertainties a record gives in NAME_sd fields (see points.sd_columns)."""
    sd = {}
    for name in program.variables:
        field_name = f"{name}_sd"
        if field_name in obj and field_name not in program.variables:
            v = obj[field_name]
            if isinstance(v, str):
                v = float(api.parse_value(v, field_name))
            elif not isinstance(v, (int, float)) or isinstance(v, bool):
                raise _RecordError(f"{field_name} is not a number: {json.dumps(v)}")
            sd[name] = float(v)
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
