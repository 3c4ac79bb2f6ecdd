"""The library API: the one entry point for the CLI, batch mode and Python code.

Values in, a Result out, no I/O. Every function takes an expression as text or as a compiled
`Program` (compile once with `compile`, then evaluate it at many points). See docs/api.md.

The modules below hold the pieces, each importing only those before it: evaluation (the
steps every evaluation shares), uncertainty, gradients (evaluate, grad, derivatives),
gradcheck, formulas (derivative_graph, diff), tables (grad_table: pandas and Arrow tables).
"""

from __future__ import annotations

from ..diagnostics import label
from ..errors import DezeroError, ExpressionSyntaxError
from ..language.compiler import compile_expression
from ..language.program import Program
from ..values import parse_value
from .evaluation import (
    Result,
    as_program,
    check_values,
    mixing_functions,
    pointwise,
    run,
    select_wrt,
)
from .gradients import derivatives, evaluate, grad
from .uncertainty import propagate

__all__ = [
    "Check",
    "CheckResult",
    "DezeroError",
    "ExpressionSyntaxError",
    "Program",
    "Result",
    "as_program",
    "check_gradient",
    "check_values",
    "compile",
    "derivative_graph",
    "derivatives",
    "diff",
    "evaluate",
    "grad",
    "grad_table",
    "label",
    "mixing_functions",
    "parse_value",
    "pointwise",
    "propagate",
    "run",
    "select_wrt",
]


# Loaded on first use, so that `dezero grad` never pays for what only check, graph and diff use.
LAZY = {
    "Check": "gradcheck",
    "CheckResult": "gradcheck",
    "check_gradient": "gradcheck",
    "derivative_graph": "formulas",
    "diff": "formulas",
    "grad_table": "tables",
}


def __getattr__(name: str):
    if name not in LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{LAZY[name]}"), name)
    globals()[name] = value
    return value


def compile(expr: str) -> Program:  # noqa: A001 (the name users look for; builtins unaffected)
    """Parse and resolve an expression once; raise ExpressionSyntaxError and kin if it is bad."""
    return compile_expression(expr)
