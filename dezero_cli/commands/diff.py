"""`dezero diff`: the derivative as a formula, read off the graph backprop records."""

from __future__ import annotations

import sys

import click

from ..options import (
    ExpressionCommand,
    collect_values,
    expr_argument,
    limit_options,
    read_program,
    var_option,
    wrt_option,
)
from ..output import use_color, warn


@click.command(cls=ExpressionCommand)
@expr_argument
@var_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "latex"]),
    default="text",
    show_default=True,
    help="Output format: text in the expression language, JSON, or LaTeX.",
)
@wrt_option()
@click.option(
    "--order",
    type=click.IntRange(min=1),
    metavar="N",
    help="Every partial derivative up to order N, at most 100 (double backprop).",
)
@limit_options()
@click.pass_context
def diff(ctx, expr, var_options, fmt, wrt, order):
    """Print the derivative of EXPR as a formula, read off the graph that backprop records.

    Without values the formula is read at a generic point and holds wherever EXPR
    is smooth; with --NAME VALUE for every variable it is the formula that holds
    there. A part used more than once is named on a line above (t1 = ...). The
    JSON texts are complete expressions that `dezero eval` accepts.

    \b
    Example:
        $ dezero diff "square(exp(square(x)))"
        # holds wherever the expression is smooth (generic point x = 0.8090169943749475)
        df/dx = 4*x*exp(x^2)^2
    """
    from .. import api
    from ..render.formulas import (
        render_diff_json,
        render_diff_latex,
        render_diff_rich,
        render_diff_text,
    )

    program = read_program(expr)
    values = collect_values(ctx, var_options, program)
    formulas = api.diff(program, values, 1 if order is None else order, wrt)
    for message in formulas.warnings:
        warn(message)
    if fmt == "json":
        sys.stdout.write(render_diff_json(formulas, orders=order is not None))
    elif fmt == "latex":
        sys.stdout.write(render_diff_latex(formulas))
    elif use_color(sys.stdout):
        from rich.console import Console

        Console(highlight=False, soft_wrap=True).print(render_diff_rich(formulas))
    else:
        sys.stdout.write(render_diff_text(formulas))
