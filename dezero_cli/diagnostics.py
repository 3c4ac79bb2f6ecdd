"""Why a number is not finite, and what each derivative is called.

One vectorised explainer serves a single evaluation and a batch of rows alike: a single
evaluation is one row. Only rows that are not finite cost Python work.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import numpy as np

from .engine.core import Variable, no_grad, using_config
from .engine.operators import truth
from .language.program import Program


def label(names: tuple[str, ...], output: int | None = None) -> str:
    """`df/dx`, `d2f/dx2`, `d2f/dxdy`, `d3f/dx2dy`; a power after a name ending in a digit
    gets a caret (`d2f/dx1^2`) so it cannot be read as part of the name. With `output`, the
    partial of that output of a vector result: `df[0]/dx`, `d2f[1]/dxdy`."""
    k = len(names)
    parts = []
    for name, group in itertools.groupby(names):
        n = len(list(group))
        power = "" if n == 1 else (f"^{n}" if name[-1].isdigit() else str(n))
        parts.append(f"d{name}{power}")
    f = "f" if output is None else f"f[{output}]"
    return f"d{'' if k == 1 else k}{f}/{''.join(parts)}"


def column_labels(wrt: tuple[str, ...], order: int) -> list[tuple[str, tuple[str, ...]]]:
    """(column label, variable path) of each derivative, order 1 first: grad_x, d2f/dxdy, ...

    The names of batch's columns, and of the table formats of grad and eval, so that the two
    can be joined."""
    labels = [(f"grad_{name}", (name,)) for name in wrt] if order >= 1 else []
    paths: list[tuple[str, ...]] = [(name,) for name in wrt]
    for _ in range(2, order + 1):
        paths = [(*p, name) for p in paths for name in wrt]
        labels.extend((label(p), p) for p in paths)
    return labels


def distinct_partials(
    grads: Mapping[str, np.ndarray], derivatives: list[dict] | None
) -> list[tuple[str, np.ndarray]]:
    """(what, array) for each distinct derivative, `by x` for the gradient, then `d2f/dxdy`
    for the partials of order 2 and up (each once: d2f/dxdy, not also d2f/dydx)."""
    out = [(f"by {name}", g) for name, g in grads.items()]
    rank = {name: i for i, name in enumerate(grads)}
    for level in (derivatives or [])[1:]:
        out.extend(
            (label(key), a)
            for key, a in level.items()
            if all(rank[a_] <= rank[b_] for a_, b_ in zip(key, key[1:]))
        )
    return out


def explain(
    program: Program,
    inputs: Mapping[str, np.ndarray],
    value: np.ndarray,
    derivatives: list[tuple[str, np.ndarray]] = (),
    rows: bool = False,
) -> dict[int, list[str]]:
    """The warnings for each row whose input, value or derivative is not finite.

    With `rows`, every array has a leading axis of independent rows (batch mode); otherwise the
    whole evaluation is row 0. Said of each row: every input that is not finite; where the
    value is finite, each derivative that is not; where the value is not finite and its inputs
    are, the first function that gave a nan or inf from finite arguments, or else the value.
    """
    if all(map(_all_finite, (value, *(a for _, a in derivatives), *inputs.values()))):
        return {}  # the common case, found with one reduction per array
    n = value.shape[0] if rows else 1
    bad_value = ~_finite(value, n, rows)
    checked = [(what, a, ~_finite(a, n, rows)) for what, a in derivatives]
    bad_inputs = [(name, x, ~_finite(x, n, rows)) for name, x in inputs.items()]
    out: dict[int, list[str]] = {}
    if not bad_value.any() and not any(b.any() for _, _, b in checked + bad_inputs):
        return out

    def say(hit: np.ndarray, a: np.ndarray, message: str) -> None:
        if not hit.any():
            return
        for i, kind in zip(np.flatnonzero(hit).tolist(), kinds(_rows(a, n, rows)[hit])):
            out.setdefault(i, []).append(message.format(kind=kind))

    any_input = np.zeros(n, dtype=bool)
    for name, x, hit in bad_inputs:
        say(hit, x, f"input {name} is {{kind}}")
        any_input |= hit
    for what, a, hit in checked:
        say(hit & ~bad_value, a, f"the derivative {what} is {{kind}}")
    todo = np.flatnonzero(bad_value & ~any_input)
    if todo.size:
        todo = _first_culprits(program, inputs, todo, rows, out)
        say(np.isin(np.arange(n), todo), value, "the value is {kind}")
    return out


def _first_culprits(program, inputs, todo: np.ndarray, rows: bool, out: dict) -> np.ndarray:
    """Run the rows `todo` again step by step; name, for each, the first function that gave a
    nan or inf from finite arguments. Returns the rows where none did."""
    m = todo.size
    trace: list = []
    with np.errstate(all="ignore"), no_grad(), using_config("batch_ndim", 1 if rows else 0):
        program.run({name: Variable(x[todo] if rows else x) for name, x in inputs.items()}, trace)
    pending = np.ones(m, dtype=bool)
    for name, args, y, branches in trace:
        bad = ~np.isfinite(y.data)
        for condition, when in branches or ():  # where a branch of `where` is not taken, it
            bad = bad & (truth(condition.data) == when)  # is no culprit
        hit = pending & _rows(bad, m, rows).any(axis=1)
        for a in args:
            hit &= _finite(getattr(a, "data", a), m, rows)
        if not hit.any():
            continue
        culprits = np.where(bad, y.data, 0.0)  # only the numbers that count, for their kind
        for i, kind in zip(todo[hit].tolist(), kinds(_rows(culprits, m, rows)[hit])):
            why = "outside its domain" if kind == "nan" else "overflow or division by zero"
            out.setdefault(i, []).append(f"{name} gave {kind} ({why})")
        pending &= ~hit
    return todo[pending]


def _rows(a, n: int, rows: bool) -> np.ndarray:
    """`a` as a 2-D array with one line per row (a value shared by all rows is repeated)."""
    a = np.asarray(a)
    a = a if a.dtype == bool else a.astype(np.float64, copy=False)
    if not rows:
        return a.reshape(1, -1)
    if a.ndim == 0:
        return np.broadcast_to(a, (n, 1))
    return a.reshape(a.shape[0], -1)


def _all_finite(a) -> bool:
    """Whether every number of `a` is finite (a boolean array's are)."""
    a = np.asarray(a)
    return a.dtype == bool or bool(np.isfinite(a).all())


def _finite(a, n: int, rows: bool) -> np.ndarray:
    """Per row: are all its numbers finite?"""
    return np.isfinite(_rows(a, n, rows)).all(axis=1)


def kinds(a: np.ndarray) -> list[str]:
    """For each line of a 2-D array with a number that is not finite: `nan` if it holds one,
    else `-inf` if it holds only negative infinities, else `inf`."""
    a = np.asarray(a, dtype=np.float64)
    if not len(a):
        return []
    a = a.reshape(len(a), -1)
    nan = np.isnan(a).any(axis=1)
    negative = (a == -np.inf).any(axis=1) & ~(a == np.inf).any(axis=1)
    return np.where(nan, "nan", np.where(negative, "-inf", "inf")).tolist()


def kind(a) -> str:
    """`kinds` of a whole array at once."""
    return kinds(np.asarray(a, dtype=np.float64).reshape(1, -1))[0]
