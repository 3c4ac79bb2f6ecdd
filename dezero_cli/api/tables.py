"""grad_table: the rows of a pandas or Arrow table, each its own point, with batch's result
columns added (value, grad_NAME, error). pandas and pyarrow are imported only when a table of
theirs is given (frames.py)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..diagnostics import column_labels
from ..engine.core import using_config
from ..engine.higher import MAX_ORDER
from ..errors import ValueProblem
from ..language.program import Program
from .evaluation import as_program, select_wrt
from .gradients import derivatives, evaluate, grad


def grad_table(
    expr: str | Program, table: Any, wrt: Iterable[str] | None = None, order: int = 1
) -> Any:
    """The table with `value`, `grad_NAME` (up to `order`; 0: value alone) and `error` added.

    `table` is a pandas DataFrame or an Arrow Table or RecordBatch, and so is what comes back:
    its own columns, then batch's. A number that is not finite is missing (NaN, Arrow null); a
    row with a missing or unreadable value gets an `error` (see dezero_cli.frames). No limits
    are applied, as in `grad`.
    """
    from ..frames import Table

    program = as_program(expr)
    if program.outputs:
        raise ValueProblem("grad_table takes an expression with one result, not a list of them")
    wrt = select_wrt(program, wrt)
    if isinstance(order, bool) or not isinstance(order, int) or not 0 <= order <= MAX_ORDER:
        raise ValueProblem(f"the order must be a whole number from 0 to {MAX_ORDER}, got {order}")
    labels = column_labels(wrt, order)
    rows = Table(table)
    rows.check_names(program.variables, ["value", *(name for name, _ in labels), "error"])
    columns = {name: rows.numbers(name) for name in program.variables}
    results = {name: np.full(rows.n, np.nan) for name in ["value", *(n for n, _ in labels)]}
    good = np.setdiff1d(np.arange(rows.n), np.fromiter(rows.errors, dtype=np.intp))
    if good.size:
        part = {name: x[good] for name, x in columns.items()}
        # Each row its own point: reductions see one row at a time, as in batch.
        with np.errstate(all="ignore"), using_config("batch_ndim", 1):
            if order == 0:
                found = evaluate(program, part)
            elif order == 1:
                found = grad(program, part, wrt)
            else:
                found = derivatives(program, part, order, wrt)
        results["value"][good] = np.broadcast_to(found.value, good.shape)
        for name, path in labels:
            k = len(path)
            numbers = found.grad[path[0]] if k == 1 else found.derivatives[k - 1][path]
            results[name][good] = np.broadcast_to(numbers, good.shape)
    return rows.with_columns(results)
