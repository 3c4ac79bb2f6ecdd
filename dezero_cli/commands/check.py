"""`dezero check`: backprop's gradient against central differences."""

from __future__ import annotations

import sys

import click

from ..options import (
    EXIT_FAILED,
    ExpressionCommand,
    collect_values,
    digits_option,
    expr_argument,
    format_option,
    limit_options,
    read_program,
    var_option,
    wrt_option,
)
from ..output import is_terminal, terminal_width, warn


@click.command(cls=ExpressionCommand)
@expr_argument
@var_option
@format_option
@digits_option
@wrt_option("Comma-separated variables to check.")
@click.option("--eps", type=float, default=1e-6, show_default=True, help="Central-difference step.")
@click.option("--rtol", type=float, default=1e-5, show_default=True, help="Relative tolerance.")
@click.option("--atol", type=float, default=1e-8, show_default=True, help="Absolute tolerance.")
@limit_options()
@click.pass_context
def check(ctx, expr, var_options, fmt, digits, wrt, eps, rtol, atol):
    """Check backprop gradients against central differences.

    Each element agrees when |backprop - numeric| <= atol + rtol * |numeric|;
    the exit status is 0 when all agree and 1 when any does not.

    \b
    Example:
        $ dezero check "sin(x) * y" --x 0.5 --y 2
    """
    from ..api import check_gradient
    from ..render.checks import render_check_json, render_check_text

    program = read_program(expr)
    values = collect_values(ctx, var_options, program)
    outcome = check_gradient(program, values, eps, rtol, atol, wrt)
    for message in outcome.warnings:
        warn(message)
    if fmt == "json":
        sys.stdout.write(render_check_json(outcome))
    elif is_terminal(sys.stdout):
        sys.stdout.write(render_check_text(outcome, terminal_width(sys.stdout), digits))
    else:
        sys.stdout.write(render_check_text(outcome))
    if not outcome.ok:
        ctx.exit(EXIT_FAILED)
