"""Rows: many independent points evaluated as one graph, and the guard that keeps each record
within the limits by splitting rows that meet one together."""

from __future__ import annotations

import json

import numpy as np

from .. import api, render
from ..api import Program, Result, Rows, grad_rows
from ..errors import GraphTooLarge, TimeLimitExceeded
from ..language.program import CALL
from ..limits import Limits, check_expression_size, enforce, time_limit

# JSON text of one record, without NaN; json.dumps would build an encoder per call.
encode = json.JSONEncoder(allow_nan=False).encode


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

    def rows(self, program: Program, columns, n: int, wrt, order) -> tuple[Rows | None, int]:
        """The results of the first `done` of the `n` rows, and `done`; the others failed."""
        text = program.text
        if text in self.hopeless:
            return None, 0
        size = self.piece.get(text) or self._first_piece(program, n)
        parts: list[Rows] = []
        start = 0
        while start < n:
            stop = min(start + size, n)
            part = columns if stop - start == n else {k: c[start:stop] for k, c in columns.items()}
            try:
                with enforce(self.limits):
                    parts.append(self.evaluate(program, part, stop - start, wrt, order))
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
    rows = Rows(first.expr, inputs, cat(lambda p: p.value), grads, [], derivatives)
    offset = 0
    for p in parts:
        rows.row_warnings.update((offset + i, w) for i, w in p.row_warnings.items())
        offset += p.value.shape[0]
    return rows


def derivative_column(rows: Rows, path: tuple[str, ...]) -> np.ndarray:
    if len(path) == 1:
        return rows.grad[path[0]]
    return rows.derivatives[len(path) - 1][path]


def row_record(rows: Rows, k: int) -> dict:
    """The `dezero grad --format json` record of row `k` of `rows`."""
    result = Result(
        rows.expr,
        {name: x[k] for name, x in rows.inputs.items()},
        rows.value[k],
        None if rows.grad is None else {name: g[k] for name, g in rows.grad.items()},
        list(rows.row_warnings.get(k, [])),
    )
    if rows.derivatives is not None:
        result.derivatives = [{key: a[k] for key, a in level.items()} for level in rows.derivatives]
    return render.result_record(result)


def compile_within(expr: str, limits: Limits) -> Program:
    """The compiled expression, refused when larger than the limits or slower to read."""
    check_expression_size(expr, limits)
    with time_limit(limits.timeout):
        return api.compile(expr)
