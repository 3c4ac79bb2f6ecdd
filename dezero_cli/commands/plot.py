"""`dezero plot`: f and its derivatives over a range, in the terminal or to a file."""

from __future__ import annotations

import os
import sys

import click

from ..options import (
    ExpressionCommand,
    UserError,
    expr_argument,
    grid_option,
    limit_options,
    read_program,
    read_values,
    value_arrays,
    var_option,
)
from ..output import is_terminal, use_color, warn


@click.command(cls=ExpressionCommand)
@expr_argument
@var_option
@click.option(
    "--order",
    type=click.IntRange(0, 10),
    default=1,
    show_default=True,
    metavar="N",
    help="Draw the derivatives up to order N too (0: f alone).",
)
@click.option(
    "-o", "--output", metavar="FILE", help="Write a .png, .svg or .pdf file (matplotlib)."
)
@grid_option
@limit_options()
@click.pass_context
def plot(ctx, expr, var_options, order, output, grid):
    """Plot EXPR and its derivatives over a range.

    Give the variable to plot over as --NAME START:STOP[:STEP] (without STEP,
    as many points as the picture can show), other variables as numbers. In a
    terminal the plot is drawn there (plotext); with -o FILE it is written to
    FILE (matplotlib); piped, it is plain text. Two variables over --grid give
    a heatmap of f and each partial, written to a file.

    \b
    Example:
        $ dezero plot "sin(x)*exp(-x^2/4)" --x -6:6 --order 2
        $ dezero plot "sin(x)*exp(-x^2/4)" --x -6:6 --order 2 -o plot.png
    """
    import numpy as np

    from .. import plot as plotting

    if output is not None:
        plotting.output_kind(output)  # a bad extension fails before any work
    program = read_program(expr)
    width, height = _plot_size()
    points = plotting.FILE_POINTS if output is not None else 2 * width
    written = read_values(ctx, var_options, program, points)
    ranged = [n for n in program.variables if n in written and written[n].kind != "number"]
    if not ranged:
        raise UserError(
            "plot draws over a range: give one variable as --NAME START:STOP[:STEP] (--x -3:3, say)"
        )
    if len(ranged) > 2:
        raise UserError(
            f"plot draws over one variable, or two with --grid, but {', '.join(ranged)} all "
            "have several values: give the others one number each"
        )
    if len(ranged) == 2 and not grid:
        raise UserError(
            f"plot draws over one variable, but {ranged[0]} and {ranged[1]} both have several "
            "values: give one a number, or add --grid for a heatmap over both"
        )
    if len(ranged) == 2 and output is None:
        raise UserError("a heatmap over two variables is written to a file: add -o plot.png")
    values = value_arrays(ctx, written, program, grid)
    for name in ranged:
        x = values[name]
        with np.errstate(over="ignore"):
            span = np.max(x) - np.min(x)
        if not np.all(np.isfinite(x)) or not np.isfinite(span):
            bad = next((float(v) for v in x if not np.isfinite(v)), None)
            raise UserError(
                f"plot draws over finite values of {name}, and {bad!r} is not one"
                if bad is not None
                else f"the values of {name} span more than float64 holds: plot a narrower range"
            )
    title = " ".join(program.text.split())
    if len(ranged) == 2:
        surface = _surface(program, values, ranged, order, written, title)
        plotting.write_surface(surface, output)
        return
    (name,) = ranged
    ys = _orders(program, values, order, (name,))
    figure = plotting.line_figure(title, name, values[name], ys)
    if output is not None:
        plotting.write_figure(figure, output)
        return
    sys.stdout.write(plotting.terminal_text(figure, width, height, use_color(sys.stdout)))


def _orders(program, values, order, wrt) -> list:
    """f and every distinct partial up to `order` by `wrt`, in order (as render lists them)."""
    from .. import api
    from ..render.results import rows

    if order == 0:
        result = api.evaluate(program, values)
    else:
        result = api.derivatives(program, values, order, wrt)
    for message in result.warnings:
        warn(message)
    return [a for _, a in rows(result)]


def _surface(program, values, names, order, written, title):
    import numpy as np

    from .. import api
    from ..plot import Surface
    from ..render.results import rows

    if order == 0:
        result = api.evaluate(program, values)
    else:
        result = api.derivatives(program, values, order, tuple(names))
    for message in result.warnings:
        warn(message)
    shape = tuple(written[name].size for name in names)
    shown = rows(result)
    x, y = (written[name].array() for name in names)
    return Surface(
        title,
        tuple(names),
        x,
        y,
        [label for label, _ in shown],
        [np.broadcast_to(a, (shape[0] * shape[1],)).reshape(shape) for _, a in shown],
    )


def _plot_size() -> tuple[int, int]:
    """The plot's width and height in characters: the terminal's (less a line for the prompt),
    or COLUMNS and LINES when set, or 80 by 24."""
    import shutil

    columns, lines = shutil.get_terminal_size((80, 24))
    if is_terminal(sys.stdout):
        try:
            size = os.get_terminal_size(sys.stdout.fileno())
            columns, lines = size.columns or columns, size.lines or lines
        except (AttributeError, OSError, ValueError):
            pass
    env_columns, env_lines = os.environ.get("COLUMNS", ""), os.environ.get("LINES", "")
    if env_columns.isdigit() and int(env_columns) > 0:
        columns = int(env_columns)
    if env_lines.isdigit() and int(env_lines) > 0:
        lines = int(env_lines)
    return max(columns, 30), max(lines - 1, 12)
