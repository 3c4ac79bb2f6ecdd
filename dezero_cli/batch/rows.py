"""Rows: many independent points evaluated as one graph, and the guard that keeps each record
within the limits by splitting rows that meet one together."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from .. import api, diagnostics
from ..api import Program, Result
from ..engine.core import Variable, no_grad, using_config
from ..engine.higher import backprop
from ..errors import GraphTooLarge, TimeLimitExceeded
from ..language.program import CALL
from ..limits import Limits, check_expression_size, enforce, time_limit
from ..render.results import result_record

# JSON text of one record, without NaN; json.dumps would build an encoder per call.
encode = json.JSONEncoder(allow_nan=False).encode


@dataclass
class Rows(Result):
    """Results for `n` independent rows: every array has a leading row axis of length `n`.

    `row_warnings` maps a row index to the warnings `grad` would give for that row alone.
    """

    row_warnings: dict[int, list[str]] = field(default_factory=dict)


def grad_rows(
    expr: str | Program,
    columns: Mapping[str, np.ndarray],
    n: int,
    wrt: Iterable[str] | None = None,
    order: int = 1,
    sd: Mapping[str, np.ndarray] | None = None,
) -> Rows:
    """Value and derivatives up to `order` (0: value only, no graph) at each of `n` rows.

    `columns` holds a 1-D float64 array of length `n` per variable. Rows are independent, so one
    graph and one backward pass seeded with ones give every row's derivatives at once; reductions
    see `Config.batch_ndim = 1` and never mix rows. Order 2 and up go through
    `api.derivatives`, which is elementwise in the same way. A vector result gets one backward
    pass per output on the one graph, and every array a second axis over the outputs.
    `sd` holds a column of standard uncertainties for some variables: then the value's
    uncertainty is propagated too (first order, `api.propagate`), at any order, even 0.
    """
    program = api.as_program(expr)
    wrt = api.select_wrt(program, wrt)
    inputs, _ = api.check_values(program, columns)
    sd = {name: s for name, s in (sd or {}).items() if name in program.variables}
    grads = derivatives = uncertainty = None
    with np.errstate(all="ignore"), using_config("batch_ndim", 1):
        if order <= 0 and not sd:
            with no_grad():
                y = api.run(program, {name: Variable(x, name) for name, x in inputs.items()})
            value = _row_outputs(program, y.data if not program.outputs else [v.data for v in y], n)
        elif order <= 1:
            names = (*wrt, *(name for name in sd if name not in wrt))
            value, grads = _first_order(program, inputs, names, n)
            if sd:
                uncertainty = _uncertainty(program, grads, sd)
            grads = {name: grads[name] for name in wrt} if order == 1 else None
        else:
            result = api.derivatives(program, inputs, order, wrt)
            value = _row_outputs(program, result.value, n)
            grads = {name: _row_outputs(program, g, n) for name, g in result.grad.items()}
            derivatives = [
                {key: _row_outputs(program, a, n) for key, a in level.items()}
                for level in result.derivatives
            ]
            if sd:
                _, by = _first_order(program, inputs, tuple(sd), n)
                uncertainty = _uncertainty(program, by, sd)
    rows = Rows(program.text, inputs, value, grads, [], derivatives, program.outputs)
    if sd:
        rows.uncertainty, rows.input_sd = uncertainty, sd
    checked = diagnostics.distinct_partials(grads or {}, derivatives)
    rows.row_warnings = diagnostics.explain(program, inputs, value, checked, rows=True)
    return rows


def _first_order(program: Program, inputs: dict, names: tuple[str, ...], n: int):
    """The value and the first derivatives by `names` at every row: one graph, one backward
    pass per output (the same graph for each)."""
    xs = {name: Variable(x, name, requires_grad=name in names) for name, x in inputs.items()}
    y = api.run(program, xs)
    wanted = [xs[name] for name in names]
    ys = y if program.outputs else [y]
    passes = [backprop(v, wanted) for v in ys]
    value = _row_outputs(program, [v.data for v in ys] if program.outputs else y.data, n)
    grads = {
        name: _row_outputs(
            program, [_data(p[j]) for p in passes] if program.outputs else _data(passes[0][j]), n
        )
        for j, name in enumerate(names)
    }
    return value, grads


def _uncertainty(program: Program, grads: dict, sd: dict) -> np.ndarray:
    """The value's standard uncertainty at every row (and output)."""
    return api.propagate(
        grads, {name: s[:, None] if program.outputs else s for name, s in sd.items()}
    )


def _data(v: Variable | None):
    return 0.0 if v is None else v.data


def _row_array(a, n: int) -> np.ndarray:
    if type(a) is np.ndarray and a.shape == (n,) and a.dtype == np.float64:
        return a  # the common case, without broadcast_to's machinery
    return np.broadcast_to(np.asarray(a, dtype=np.float64), (n,))


def _row_outputs(program: Program, a, n: int) -> np.ndarray:
    """Rows on the first axis: (n,) for a scalar result, (n, outputs) for a vector, whose `a`
    has the outputs first (a list or an array)."""
    if not program.outputs:
        return _row_array(a, n)
    return np.stack([_row_array(part, n) for part in a], axis=1)


class Guard:
    """Evaluates rows under the limits, which hold per record.

    Rows that share an expression are evaluated together, as one graph over all of them; when
    that meets a limit (too many nodes for so many values, or too long), the rows are split in
    halves until the pieces fit, and later evaluations of the expression start from the piece
    size that worked. A single record that meets a limit on its own fails, and so does every
    later record of the same expression, without being tried: its graph would be the same.
    """

    def __init__(self, limits: Limits, evaluate=None):
        self.limits = limits
        self.evaluate = evaluate or grad_rows  # (program, columns, n, wrt, order) -> Rows
        self.piece: dict[str, int] = {}  # expression -> most rows per evaluation that fit
        self.hopeless: dict[str, str] = {}  # expression -> the error its records get

    def rows(
        self, program: Program, columns, n: int, wrt, order, sd=None
    ) -> tuple[Rows | None, int]:
        """The results of the first `done` of the `n` rows, and `done`; the others failed.

        `sd` holds the columns of standard uncertainties, if any (see grad_rows)."""
        text = program.text
        if text in self.hopeless:
            return None, 0
        size = self.piece.get(text) or self._first_piece(program, n)
        parts: list[Rows] = []
        start = 0
        while start < n:
            stop = min(start + size, n)
            part = columns if stop - start == n else {k: c[start:stop] for k, c in columns.items()}
            extra = {}
            if sd:
                extra["sd"] = sd if stop - start == n else {k: c[start:stop] for k, c in sd.items()}
            try:
                with enforce(self.limits):
                    parts.append(self.evaluate(program, part, stop - start, wrt, order, **extra))
            except (GraphTooLarge, TimeLimitExceeded) as exc:
                if stop - start == 1:
                    remember(self.hopeless, text, exc.message)
                    return concat(parts), start
                size = (stop - start + 1) // 2
                remember(self.piece, text, size)
                continue
            start = stop
        return concat(parts), n

    def _first_piece(self, program: Program, n: int) -> int:
        """Rows that surely fit the node limit at order 1, where each call records one node.

        A node of m rows counts 1 + m // 64 (limits.py): splitting ahead of time saves building
        a graph of too many values only to throw it away.
        """
        limit = self.limits.max_nodes
        if limit is None or n <= 64:
            return n
        calls = sum(1 for step in program.steps if step[0] == CALL)
        if not calls or limit // calls < 2:
            return n
        return min(n, (limit // calls - 1) * 64 + 63)


def remember(memo: dict, key, value, most: int = 4096) -> None:
    """memo[key] = value, in a memo that never holds more than `most` entries."""
    if len(memo) >= most:
        memo.clear()
    memo[key] = value


def concat(parts: list[Rows]) -> Rows | None:
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
    rows = Rows(first.expr, inputs, cat(lambda p: p.value), grads, [], derivatives, first.outputs)
    if first.uncertainty is not None:
        rows.uncertainty = cat(lambda p: p.uncertainty)
        sd = first.input_sd
        rows.input_sd = {name: cat(lambda p, name=name: p.input_sd[name]) for name in sd}
    offset = 0
    for p in parts:
        rows.row_warnings.update((offset + i, w) for i, w in p.row_warnings.items())
        offset += p.value.shape[0]
    return rows


def derivative_column(rows: Rows, path: tuple[str, ...]) -> np.ndarray:
    if len(path) == 1:
        return rows.grad[path[0]]
    return rows.derivatives[len(path) - 1][path]


def result_column(rows: Rows, what: tuple) -> np.ndarray:
    """One result column of `rows`, as names.result_columns describes it."""
    if what[0] == "value":
        a = rows.value
    elif what[0] == "sd":
        a = rows.uncertainty
    else:
        a = derivative_column(rows, what[1])
    output = what[-1]
    return a if output is None else a[:, output]


def row_record(rows: Rows, k: int) -> dict:
    """The `dezero grad --format json` record of row `k` of `rows`."""
    result = Result(
        rows.expr,
        {name: x[k] for name, x in rows.inputs.items()},
        rows.value[k],
        None if rows.grad is None else {name: g[k] for name, g in rows.grad.items()},
        list(rows.row_warnings.get(k, [])),
        outputs=rows.outputs,
    )
    if rows.derivatives is not None:
        result.derivatives = [{key: a[k] for key, a in level.items()} for level in rows.derivatives]
    if rows.uncertainty is not None:
        result.uncertainty = rows.uncertainty[k]
        result.input_sd = {name: s[k] for name, s in rows.input_sd.items()}
    return result_record(result)


def compile_within(expr: str, limits: Limits) -> Program:
    """The compiled expression, refused when larger than the limits or slower to read."""
    check_expression_size(expr, limits)
    with time_limit(limits.timeout):
        return api.compile(expr)
