"""`dezero grad` and `dezero eval`: a value and its derivatives at given points, as text, JSON,
bare numbers or a table."""

from __future__ import annotations

import sys

import click

from ..options import (
    TABLE_FORMATS,
    ExpressionCommand,
    UserError,
    collect_values,
    limit_options,
    read_program,
    table_output_options,
    wrt_option,
)
from ..output import is_terminal, use_color, warn


def emit(
    result, fmt: str, quiet: bool, digits: int | None, order: int | None = None, program=None
) -> None:
    """Warnings to stderr, then the result: JSON, bare numbers, plain text when piped (every
    digit), or laid out for the terminal (rich; rounded with --digits, coloured unless
    NO_COLOR); a table of one row per point (see emit_table)."""
    from ..render.results import render_json, render_quiet, render_rich, render_text

    if fmt in TABLE_FORMATS:
        return emit_table(result, fmt, quiet, digits, order, program)
    for message in result.warnings:
        warn(message)
    if fmt == "json":
        sys.stdout.write(render_json(result))
    elif quiet:
        sys.stdout.write(render_quiet(result))
    elif is_terminal(sys.stdout):
        console = terminal_console()
        console.print(render_rich(result, console.width, digits, plus_minus()))
        if result.trace is not None:
            from ..render.trace import render_trace_rich

            console.print()
            console.print(render_trace_rich(result.trace, console.width, digits))
    else:
        sys.stdout.write(render_text(result, plus_minus()))
        if result.trace is not None:
            from ..render.trace import render_trace_text

            sys.stdout.write(render_trace_text(result.trace))


def plus_minus() -> str:
    """`±` where standard output's encoding has it, else `+/-` (as `PYTHONIOENCODING=ascii`)."""
    try:
        "±".encode(getattr(sys.stdout, "encoding", None) or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return "+/-"
    return "±"


def emit_table(result, fmt: str, quiet: bool, digits: int | None, order, program) -> None:
    """One row per point: csv and tsv as batch writes them; `table` drawn with rich on a
    terminal (rounded alike when every digit does not fit, or with --digits), and as aligned
    plain text with every digit when piped or too wide. -q leaves out the header line."""
    import numpy as np

    from .. import api
    from ..errors import ValueProblem
    from ..render.tables import render_aligned, render_delimited, table_columns, table_rich

    shown = "a vector result [...]" if result.outputs else None
    shown = shown or ("an uncertainty (±)" if result.uncertainty is not None else None)
    shown = shown or ("--trace" if result.trace is not None else None)
    if shown:
        raise ValueProblem(
            f"--format {fmt} has one row per point of scalar values: for {shown} use --format "
            "text or json"
        )
    mixing = api.mixing_functions(program) if program is not None else []
    if mixing and any(np.ndim(x) for x in result.inputs.values()):
        raise ValueProblem(
            f"a table has one row per point, but {mixing[0]}() mixes a vector's elements: give "
            "numbers, or use --format text or json"
        )
    columns = table_columns(result, order)
    for message in result.warnings:
        warn(message)
    if fmt in ("csv", "tsv"):
        sys.stdout.write(render_delimited(columns, "," if fmt == "csv" else "\t", not quiet))
        return
    if is_terminal(sys.stdout):
        console = terminal_console()
        table = table_rich(columns, console.width, digits, len(result.inputs), not quiet)
        if table is not None:
            console.print(table)
            return
        text = render_aligned(columns, not quiet)
        need = max(map(len, text.splitlines()), default=0)
        if need > console.width:
            warn(
                f"the table needs {need} columns, more than the terminal's {console.width}: its "
                "rows wrap (--format csv for programs)"
            )
        sys.stdout.write(text)
        return
    sys.stdout.write(render_aligned(columns, not quiet))


def terminal_console():
    """A rich Console on standard output, with colours only where they are wanted."""
    from rich.console import Console

    return Console(highlight=False, color_system="auto" if use_color(sys.stdout) else None)


@click.command(cls=ExpressionCommand)
@table_output_options
@limit_options()
@wrt_option()
@click.option(
    "--order",
    type=click.IntRange(min=1),
    metavar="N",
    help="Also print every partial derivative up to order N, at most 100 (double backprop).",
)
@click.option(
    "--trace",
    is_flag=True,
    help="Also show the forward and backward passes step by step (with --order N: the "
    "first backward pass only).",
)
@click.pass_context
def grad(ctx, expr, var_options, fmt, grid, quiet, digits, wrt, order, trace):
    """Print the value of EXPR and its derivative by each variable.

    Give each variable with --NAME VALUE; a VALUE of 1,2,3 evaluates elementwise,
    and VALUE±SD (or VALUE+-SD) gives it a standard uncertainty, propagated to
    first order: f = 4.0 ± 0.4. EXPR of - reads the expression from standard
    input; [e1, e2, ...] has several outputs, with the Jacobian. With --order N,
    the k-th partials follow for k up to N, labelled d2f/dx2, d2f/dxdy, d3f/dx2dy.

    \b
    Example:
        $ dezero grad "square(exp(square(x)))" --x 0.5
        f = 1.648721270700128
        df/dx = 3.297442541400256
    """
    from .. import api

    if trace and quiet:
        raise UserError("--trace shows the steps, -q bare numbers only: choose one")
    program = read_program(expr)
    sd: dict = {}
    values = collect_values(ctx, var_options, program, grid, sd)
    if order is None:
        result = api.grad(program, values, wrt, sd, trace)
    else:
        result = api.derivatives(program, values, order, wrt, sd, trace)
    emit(result, fmt, quiet, digits, order, program)


@click.command("eval", cls=ExpressionCommand)
@table_output_options
@limit_options(graph=False)
@click.pass_context
def eval_(ctx, expr, var_options, fmt, grid, quiet, digits):
    """Print the value of EXPR, computed without building a graph.

    A VALUE±SD (or VALUE+-SD) gives the value an uncertainty, propagated to first
    order: that needs the gradient, so then a graph is built after all.

    \b
    Example:
        $ dezero eval "x^2 + 1" --x 3
        f = 10.0
    """
    from .. import api

    program = read_program(expr)
    sd: dict = {}
    values = collect_values(ctx, var_options, program, grid, sd)
    result = api.evaluate(program, values, sd)
    emit(result, fmt, quiet, digits, program=program)
