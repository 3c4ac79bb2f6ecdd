"""The forward and backward passes step by step, for learners (`dezero grad --trace`).

Forward steps come from `Program.run`'s own trace, in the order the calls ran; backward steps
from the engine's hook (`core.watching_backward`), in the order the backward loop pops them.
A step is a Function of the graph: a call on constants alone records none, so it is no step.
Steps keep numpy arrays, never Variables, so a trace holds no graph alive.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import numpy as np

from .engine.core import sum_to, watching_backward
from .errors import LimitExceeded, ValueProblem

MAX_STEPS = 10_000  # forward and backward steps together
MAX_VALUES = 1_000  # elements of one variable's value


@dataclass
class Step:
    """One Function: its class name, generation, input values and output value; a backward
    step adds `gy`, the gradient its output brought, and `gx`, what each input received
    (None for a constant, which receives none)."""

    function: str
    generation: int
    inputs: list[np.ndarray]
    output: np.ndarray
    gy: np.ndarray | None = None
    gx: list[np.ndarray | None] | None = None
    output_index: int | None = None  # a vector result: the output whose backward pass it is


@dataclass
class Trace:
    """The forward steps in the order they ran, then the backward steps in the order the loop
    popped them (for a vector result, one backward pass per output, one after the other)."""

    forward: list[Step] = field(default_factory=list)
    backward: list[Step] = field(default_factory=list)
    first_pass_only: bool = False  # --order N: only the first backward pass is traced


def check_size(program, inputs: dict[str, np.ndarray]) -> None:
    """Refuse, before any work, a trace longer than MAX_STEPS or of values too large to show.

    Each call makes at most one forward step, and one backward step per output.
    """
    calls = program.size()
    steps = calls * (1 + max(program.outputs, 1))
    if steps > MAX_STEPS:
        raise LimitExceeded(
            f"--trace shows at most {MAX_STEPS:,} steps, and this expression can take "
            f"{steps:,} ({calls:,} calls, forward and backward): trace a smaller expression"
        )
    for name, x in inputs.items():
        if np.size(x) > MAX_VALUES:
            raise ValueProblem(
                f"--trace shows every value of every step: give {name} at most {MAX_VALUES:,} "
                f"values, not {np.size(x):,}"
            )


def forward_steps(calls: list) -> list[Step]:
    """The steps of `Program.run`'s trace whose call recorded a Function, in order."""
    steps = []
    for _, _, y, _ in calls:
        f = getattr(y, "creator", None)
        if f is not None:
            steps.append(
                Step(type(f).__name__, f.generation, [_data(x) for x in f.inputs], _data(y))
            )
    return steps


def watching(trace: Trace | None, output: int | None = None):
    """While the body of the `with` runs backward passes, add their steps to `trace` (none
    when it is None)."""
    if trace is None:
        return contextlib.nullcontext()

    def hook(f, gxs) -> None:
        y = f.outputs[0]()
        gx = [
            None if g is None or not x.requires_grad else _fit(_data(g), x.shape)
            for x, g in zip(f.inputs, gxs)
        ]
        trace.backward.append(
            Step(
                type(f).__name__,
                f.generation,
                [_data(x) for x in f.inputs],
                _data(y),
                _data(y.grad),
                gx,
                output,
            )
        )

    return watching_backward(hook)


def _data(v) -> np.ndarray:
    return np.asarray(getattr(v, "data", v), dtype=np.float64)


def _fit(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A gradient in its input's shape, as the backward loop fits it (summed over what the
    forward pass broadcast, or broadcast from a seed)."""
    if g.shape == shape:
        return g
    if g.ndim > len(shape) or any(a > b for a, b in zip(g.shape[::-1], shape[::-1])):
        g = sum_to(g, shape)
    return np.broadcast_to(g, shape)
