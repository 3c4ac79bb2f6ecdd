"""Values and derivatives at points: evaluate, grad (with the Jacobian of a vector result),
and derivatives of any order by double backprop.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import numpy as np

from ..engine.core import Variable, no_grad
from ..engine.higher import backprop, full_tensor, partials
from ..language.program import Program
from ..trace import Trace, check_size, forward_steps, watching

if TYPE_CHECKING:
    pass
from .evaluation import (
    Result,
    as_program,
    check_values,
    explained,
    partial_arrays,
    pointwise,
    prepare,
    run,
    select_wrt,
    stack_outputs,
    value_of,
)
from .uncertainty import checked_sd, propagate, uncertain_partials


def evaluate(
    expr: str | Program, values: Mapping[str, object], sd: Mapping[str, float] | None = None
) -> Result:
    """The value of `expr` at `values`, computed without building a graph.

    With `sd` (standard uncertainties of some variables) the value's uncertainty comes too,
    which needs the gradient: then a graph is built, as by `grad`.
    """
    program = as_program(expr)
    if sd:
        result = grad(program, values, [name for name in sd if name in program.variables], sd)
        result.grad = None
        return result
    inputs, warnings = check_values(program, values)
    with np.errstate(all="ignore"), no_grad():
        y = run(program, {name: Variable(x, name) for name, x in inputs.items()})
    value = value_of(program, y)
    result = Result(program.text, inputs, value, None, warnings, outputs=program.outputs)
    return explained(result, program)


def grad(
    expr: str | Program,
    values: Mapping[str, object],
    wrt: Iterable[str] | None = None,
    sd: Mapping[str, float] | None = None,
    trace: bool = False,
) -> Result:
    """The value of `expr` and its gradient with respect to `wrt` (default: every variable).

    A vector result `[e1, e2, ...]` is evaluated once; then one backward pass per output
    runs on that same forward graph (`engine.higher.backprop`, which clears the gradients
    between passes), giving the Jacobian. With `sd` the value's standard uncertainty is
    propagated to first order (`propagate`); with `trace` the passes are kept step by step.
    """
    program = as_program(expr)
    wrt = select_wrt(program, wrt)
    given, warnings = check_values(program, values)
    sd = checked_sd(program, given, sd)
    inputs = pointwise(program, given)
    names = (*wrt, *(name for name in sd if name not in wrt))
    record = calls = None
    if trace:
        check_size(program, inputs)
        record, calls = Trace(), []
    xs = {name: Variable(x, name, requires_grad=name in names) for name, x in inputs.items()}
    wanted = [xs[name] for name in names]
    with np.errstate(all="ignore"):
        y = run(program, xs, calls)
        if record is not None:
            record.forward = forward_steps(calls)
        ys = y if program.outputs else [y]
        passes = []
        for i, v in enumerate(ys):
            with watching(record, i if program.outputs else None):
                passes.append(backprop(v, wanted))
    value = value_of(program, y)
    grads = {}
    for j, name in enumerate(names):
        arrays = [
            np.zeros_like(inputs[name]) if gs[j] is None else np.asarray(gs[j].data)
            for gs in passes
        ]
        grads[name] = stack_outputs(arrays) if program.outputs else arrays[0]
    result = Result(
        program.text, given, value, {name: grads[name] for name in wrt}, warnings,
        outputs=program.outputs, trace=record,
    )  # fmt: skip
    if sd:
        result.uncertainty = propagate(uncertain_partials(program, grads, sd, value), sd)
        result.input_sd = sd
    return explained(result, program)


def derivatives(
    expr: str | Program,
    values: Mapping[str, object],
    order: int,
    wrt: Iterable[str] | None = None,
    sd: Mapping[str, float] | None = None,
    trace: bool = False,
) -> Result:
    """The value of `expr` and all its partial derivatives up to `order`.

    `Result.grad` is the first derivative; `Result.derivatives[k - 1]` maps each k-tuple of
    names to the k-th partial. With order 2 or more, vector values are broadcast to one shape
    first: each element is its own point, so every derivative has that shape. A vector
    result's outputs are differentiated one after the other from the one forward graph.
    With `trace`, only the first backward pass (of each output) is traced.
    """
    program, names, xs, given, warnings = prepare(expr, values, order, wrt)
    sd = checked_sd(program, given, sd)
    inputs = {name: np.asarray(x.data) for name, x in xs.items()}
    record = calls = None
    if trace:
        check_size(program, inputs)
        record, calls = Trace(first_pass_only=order > 1), []
    per_output = []
    with np.errstate(all="ignore"):
        y = run(program, xs, calls)
        if record is not None:
            record.forward = forward_steps(calls)
        value = value_of(program, y)
        ys = y if program.outputs else [y]
        del y
        wanted = [xs[name] for name in names]
        for i in range(len(ys)):
            levels = partials(ys[i], wanted, order)
            ys[i] = None  # the forward graph lives on only where the backward graph uses it
            with watching(record, i if program.outputs else None):
                first = partial_arrays(next(levels), names, inputs)  # one pass, from the output
            per_output.append([first, *(partial_arrays(level, names, inputs) for level in levels)])
    levels = per_output[0]
    if program.outputs:
        levels = [
            {key: stack_outputs([p[k][key] for p in per_output]) for key in level}
            for k, level in enumerate(levels)
        ]
    grads = {name: levels[0][(name,)] for name in names}
    result = Result(program.text, given, value, grads, warnings, outputs=program.outputs)
    result.derivatives = [full_tensor(level, names) for level in levels]
    result.trace = record
    if sd:
        if all(name in grads for name in sd):
            per_point = uncertain_partials(program, grads, sd, value)
            result.uncertainty = propagate(per_point, sd)
        else:
            result.uncertainty = grad(program, values, (), sd).uncertainty
        result.input_sd = sd
    return explained(result, program)
