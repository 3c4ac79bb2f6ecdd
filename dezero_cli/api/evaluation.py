"""The steps every evaluation shares: values checked and given one shape, the program run on
Variables, the partials read off as arrays, and the warnings for numbers that are not finite.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .. import diagnostics
from ..diagnostics import distinct_partials
from ..engine.core import Config, Variable
from ..engine.functions import FUNCTIONS
from ..engine.higher import MAX_ENTRIES, MAX_ORDER
from ..errors import ValueProblem
from ..language.compiler import CONSTANTS, compile_expression
from ..language.program import CALL, Program
from ..trace import Trace

if TYPE_CHECKING:
    pass


@dataclass
class Result:
    """What one evaluation gives: the value, and the gradient for each variable asked for.

    For a vector result `[e1, e2, ...]` (`outputs` > 0) every array (value, each partial,
    the uncertainty) has a leading axis over the outputs: `grad["x"][i]` is df[i]/dx.
    """

    expr: str
    inputs: dict[str, np.ndarray]
    value: np.ndarray
    grad: dict[str, np.ndarray] | None = None
    warnings: list[str] = field(default_factory=list)
    # With --order N: element k-1 maps each k-tuple of variable names to that partial derivative.
    derivatives: list[dict[tuple[str, ...], np.ndarray]] | None = None
    outputs: int = 0  # a vector result's number of outputs; 0 for a scalar result
    # With standard uncertainties of inputs (x = 2.0 ± 0.1): the value's, first order, and theirs.
    uncertainty: np.ndarray | None = None
    input_sd: dict[str, float] | None = None
    trace: Trace | None = None  # the passes step by step (--trace)


def as_program(expr: str | Program) -> Program:
    return expr if isinstance(expr, Program) else compile_expression(expr)


def check_values(program: Program, values: Mapping[str, object]) -> tuple[dict, list[str]]:
    """The arrays for the program's variables, and warnings for values nobody uses."""
    defined = [name for name in values if name in program.definitions]
    if defined:
        name = defined[0]
        raise ValueProblem(
            f"{name!r} is defined in the expression, so it cannot also be given a value (--{name})"
        )
    missing = [name for name in program.variables if name not in values]
    if missing:
        name = missing[0]
        message = f"no value for variable {name!r}: give it with --{name} VALUE"
        if name in FUNCTIONS:
            message += f" (or call the function {name}(...))"
        raise ValueProblem(message)
    arrays = {}
    for name in program.variables:
        value = values[name]
        arrays[name] = (
            value
            if isinstance(value, np.ndarray) and value.dtype == np.float64
            else np.asarray(value, dtype=np.float64)
        )
    warnings = [unused(name) for name in values if name not in program.variables]
    return arrays, warnings


def unused(name: str) -> str:
    """Why a value given for NAME is not used: NAME is a constant, or no variable of the
    expression (a function's name can be one, where the expression does not call it)."""
    if name in CONSTANTS:
        return (
            f"{name} is a constant ({CONSTANTS[name]!r}), not a variable: "
            f"the value given for {name} is not used"
        )
    return f"variable {name!r} is given but not used in the expression"


def select_wrt(program: Program, wrt: Iterable[str] | None) -> tuple[str, ...]:
    """The variables to differentiate by, in the order given (default: every variable)."""
    if wrt is None:
        return program.variables
    wrt = tuple(dict.fromkeys(wrt))
    unknown = [name for name in wrt if name not in program.variables]
    if unknown:
        name = unknown[0]
        if name in program.definitions:
            raise ValueProblem(
                f"--wrt names {name!r}, which is defined in the expression: differentiate by "
                "the variables it is made of"
            )
        raise ValueProblem(f"--wrt names {name!r}, which is not a variable of the expression")
    return wrt


def mixing_functions(program: Program) -> list[str]:
    """The functions of `program` that mix a vector's elements (reductions), by name."""
    return sorted(
        {
            step[1].name
            for step in program.steps
            if step[0] == CALL and not getattr(step[1], "elementwise", True)
        }
    )


def pointwise(program: Program, inputs: dict[str, np.ndarray], order: int = 1) -> dict:
    """Give every value one shape, so that each element is its own point.

    That is what a vector value means for an elementwise expression: `x*y` with x = 1,2,3 and
    y = 2 has a derivative by y at each of the three points. An expression with a reduction
    (`sum`, `mean`, `dot`) mixes the elements, so there each input keeps its shape and its
    gradient is that of the whole result; higher orders are only taken elementwise.
    """
    batch = Config.batch_ndim
    if len({np.shape(x) for x in inputs.values()}) <= 1 and order < 2:
        return inputs
    mixing = mixing_functions(program)
    if mixing:
        if order >= 2 and any(np.ndim(x) > batch for x in inputs.values()):
            raise ValueProblem(
                f"derivatives of order 2 or more with vector values are taken elementwise, "
                f"but {mixing[0]}() mixes the elements: give scalar values"
            )
        return inputs
    if len({np.shape(x) for x in inputs.values()}) <= 1:
        return inputs
    try:
        arrays = np.broadcast_arrays(*inputs.values())
    except ValueError:
        sizes = ", ".join(f"{name} has {np.size(x)}" for name, x in inputs.items())
        raise ValueProblem(f"vector values differ in length: {sizes}") from None
    return {name: np.array(a) for name, a in zip(inputs, arrays)}


def run(program: Program, xs: Mapping[str, Variable], trace: list | None = None):
    """Run `program` on Variables, building its graph (unless under no_grad): a Variable, or
    a list of them for a vector result. `trace` collects the calls (see Program.run)."""
    try:
        return program.run(xs, trace)
    except ValueError as exc:  # numpy's broadcasting complaint, in the user's terms
        if "broadcast" not in str(exc):
            raise
        sizes = ", ".join(f"{name} has {np.size(x.data)}" for name, x in xs.items())
        raise ValueProblem(f"vector values differ in length: {sizes}") from None


def value_of(program: Program, y) -> np.ndarray:
    """The value of what `run` gave: one array, the outputs of a vector result stacked."""
    if program.outputs:
        return stack_outputs([np.asarray(v.data, dtype=np.float64) for v in y])
    return np.asarray(y.data, dtype=np.float64)


def stack_outputs(arrays: list[np.ndarray]) -> np.ndarray:
    """One array per output of a vector result, as one array with a leading axis of outputs
    (each broadcast to a common shape: `[x, 1]` with x = 1,2 gives 2 x 2)."""
    try:
        return np.stack(np.broadcast_arrays(*arrays))
    except ValueError:
        sizes = ", ".join(f"f[{i}] has {np.size(a)}" for i, a in enumerate(arrays))
        raise ValueProblem(
            f"the elements of the list differ in length ({sizes} values): a reduction such "
            "as sum() gives one value where the others give one per element"
        ) from None


def prepare(expr, values, order, wrt, min_order: int = 1):
    if isinstance(order, bool) or not isinstance(order, int) or order < min_order:
        raise ValueProblem(f"the order must be a whole number of at least {min_order}, got {order}")
    if order > MAX_ORDER:
        raise ValueProblem(f"the order must be at most {MAX_ORDER}, got {order}")
    program = as_program(expr)
    names = select_wrt(program, wrt)
    entries = len(names) ** order if names else 0  # at most MAX_ORDER: a few hundred digits
    if entries > MAX_ENTRIES:
        raise ValueProblem(
            f"order {order} with {len(names)} variables has {entries} partials "
            f"(at most {MAX_ENTRIES}): lower the order or select variables with --wrt"
        )
    given, warnings = check_values(program, values)
    inputs = pointwise(program, given, order)
    xs = {name: Variable(x, name, requires_grad=name in names) for name, x in inputs.items()}
    return program, names, xs, given, warnings


def partial_arrays(level, names, inputs) -> dict[tuple[str, ...], np.ndarray]:
    out = {}
    for key, v in level.items():
        last = inputs[names[key[-1]]]
        out[tuple(names[i] for i in key)] = (
            np.zeros_like(last) if v is None else np.asarray(v.data, dtype=np.float64)
        )
    return out


def explained(result: Result, program: Program) -> Result:
    """`result` with a warning for each number that is not finite, saying why."""
    checked = distinct_partials(result.grad or {}, result.derivatives)
    found = diagnostics.explain(program, result.inputs, result.value, checked)
    result.warnings.extend(found.get(0, []))
    return result
