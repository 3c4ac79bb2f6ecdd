"""Program: a compiled expression, a flat postfix list of steps, run many times.

Running a Program on Variables builds a fresh DeZero graph each time, so nothing is shared
between evaluations, and it is a loop: expressions may nest 100,000 deep.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..engine.core import Variable, as_variable, in_branch

# Step kinds. A step is (kind, argument, n, label):
#   CONST  push the constant `argument`
#   VAR    push the value of the variable named `argument`
#   CALL   call `argument()` (a Function class, or a factory for one) on the top n values;
#          `label` names the call as the user wrote it (`ln`, `'^'`), for warnings
#   STORE  pop the top value into slot `argument` (a definition, or a user function's argument)
#   LOAD   push slot `argument`: the same Variable, so a definition is one node of the graph
#   BEGIN  start the branch of a `where` taken where the condition is true (`argument` True,
#          the condition on top of the stack) or false (False, the condition below the top)
#   END    end that branch
CONST, VAR, CALL, STORE, LOAD, BEGIN, END = range(7)


@dataclass(frozen=True)
class Program:
    """A compiled expression: its text, its free variables in order of first use, its steps,
    the names its definitions give (values and functions), how many slots it uses, and for a
    vector result `[e1, e2, ...]` how many outputs it has (0: one scalar result)."""

    text: str
    variables: tuple[str, ...]
    steps: tuple[tuple, ...]
    definitions: tuple[str, ...] = ()
    slots: int = 0
    outputs: int = 0

    def run(self, values: Mapping[str, Variable], trace: list | None = None):
        """Evaluate on `values`, building the graph as it goes (unless under no_grad): the
        result's Variable, or for a vector result the list of its outputs' Variables.

        With `trace`, each call appends (label, arguments, result, branches), branches being
        the `where` branches it was made in ((condition, taken where true), ...), or None.
        """
        stack: list = []
        slots: list = [None] * self.slots
        branches: list = []  # the open `in_branch` contexts, innermost last
        try:
            for kind, arg, n, label in self.steps:
                if kind == CALL:
                    args = stack[-n:]
                    del stack[-n:]
                    y = arg()(*args)
                    if trace is not None:
                        trace.append((label, args, y, branches[-1][1] if branches else None))
                    stack.append(y)
                elif kind == VAR:
                    stack.append(values[arg])
                elif kind == CONST:
                    stack.append(arg)
                elif kind == LOAD:
                    stack.append(slots[arg])
                elif kind == STORE:
                    slots[arg] = stack.pop()
                elif kind == BEGIN:
                    condition = as_variable(stack[-1] if arg else stack[-2])
                    context = in_branch(condition, arg)
                    outer = branches[-1][1] if branches else ()
                    branches.append((context, (*outer, (condition, arg))))
                    context.__enter__()
                else:  # END
                    branches.pop()[0].__exit__(None, None, None)
        finally:
            while branches:
                branches.pop()[0].__exit__(None, None, None)
        if self.outputs:
            return [_variable(y) for y in stack]
        (y,) = stack
        return _variable(y)

    def size(self) -> int:
        """The number of function calls one evaluation makes."""
        return sum(1 for step in self.steps if step[0] == CALL)


def _variable(y) -> Variable:
    return y if isinstance(y, Variable) else Variable(np.asarray(y), requires_grad=False)
