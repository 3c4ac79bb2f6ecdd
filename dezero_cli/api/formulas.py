"""The graphs of derivatives: their Variables for drawing, and their formulas (`dezero diff`),
read off the graph that backward(create_graph=True) records.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import numpy as np

from ..diagnostics import label
from ..engine.core import Variable
from ..engine.higher import partials
from ..errors import ValueProblem
from ..language.program import Program

if TYPE_CHECKING:
    from ..formula import Formulas
from .evaluation import as_program, check_values, prepare, run


def derivative_graph(
    expr: str | Program,
    values: Mapping[str, object],
    order: int,
    wrt: Iterable[str] | None = None,
) -> list[Variable]:
    """The Variables of the `order`-th derivative with their graph kept (order 0: the value).

    Each is named by its label (`d2f/dxdy`); one per distinct partial.
    """
    program, names, xs, _, _ = prepare(expr, values, order, wrt, min_order=0)
    outputs = []
    with np.errstate(all="ignore"):
        y = run(program, xs)
        ys = y if program.outputs else [y]
        tags = range(len(ys)) if program.outputs else [None]
        if order == 0:
            for v, i in zip(ys, tags):
                v.name = "f" if i is None else f"f[{i}]"
            return ys
        wanted = [xs[name] for name in names]
        for v, i in zip(ys, tags):
            (level,) = collections.deque(partials(v, wanted, order, keep_graph=True), maxlen=1)
            for key, d in level.items():
                if d is None:  # identically zero: a constant node still says so
                    d = Variable(np.zeros_like(wanted[key[-1]].data), requires_grad=False)
                d.name = label(tuple(names[j] for j in key), i)
                outputs.append(d)
    return outputs


def diff(
    expr: str | Program,
    values: Mapping[str, object] | None = None,
    order: int = 1,
    wrt: Iterable[str] | None = None,
) -> Formulas:
    """Every partial derivative up to `order` as a formula of the language.

    The formula is the graph that double backprop records, read back and simplified (not a
    second symbolic engine). Without values it is read at `formula.generic_point` and holds
    wherever the expression is smooth; with values (one number each) it is the formula that
    holds at that point.
    """
    from ..formula import Formulas, generic_point, read_graph  # only diff pays for these

    program = as_program(expr)
    generic = not values
    if generic:
        values = generic_point(program.variables)
    else:
        missing = [name for name in program.variables if name not in values]
        if missing and not any(name in program.definitions for name in values):
            raise ValueProblem(
                f"no value for variable {missing[0]!r}: give every variable a value "
                f"(--{missing[0]} VALUE), or none for the formula at a generic point"
            )
        given, _ = check_values(program, values)
        for name, x in given.items():
            if np.ndim(x):
                raise ValueProblem(
                    f"diff prints the formula at one point: give {name} one number, not "
                    f"{np.size(x)}"
                )
    program, names, xs, given, warnings = prepare(program, values, order, wrt)
    # Every variable is recorded, also those not differentiated by: sin(y) must stay sin(y),
    # not become the number it is at this point.
    xs = {name: Variable(x.data, name) for name, x in xs.items()}
    with np.errstate(all="ignore"):
        y = run(program, xs)
        wanted = [xs[name] for name in names]
        # Each output of a vector result differentiated in turn on the one forward graph.
        per_output = [
            list(partials(v, wanted, order, keep_graph=True))
            for v in (y if program.outputs else [y])
        ]
        del y
        keys = [key for level in per_output[0] for key in level]
        dag, roots = read_graph([p[len(key) - 1][key] for key in keys for p in per_output], xs)
    n = len(per_output)
    nodes = [{} for _ in per_output[0]]
    for j, key in enumerate(keys):
        mine = roots[j * n : (j + 1) * n]  # this partial of each output
        nodes[len(key) - 1][tuple(names[i] for i in key)] = (
            tuple(mine) if program.outputs else mine[0]
        )
    point = {name: float(x) for name, x in given.items()}
    return Formulas(
        program.text, point, generic, names, nodes, dag, program.variables, warnings,
        program.outputs,
    )  # fmt: skip
