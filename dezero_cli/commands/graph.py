"""`dezero graph`: the computational graph as Graphviz DOT text or a picture."""

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


@click.command(cls=ExpressionCommand)
@expr_argument
@var_option
@click.option(
    "-o",
    "--output",
    metavar="FILE",
    help="Write to FILE: .dot/.gv as text, .png/.svg/.pdf through Graphviz's dot.",
)
@click.option(
    "--order",
    type=click.IntRange(min=0),
    default=0,
    metavar="N",
    help="Draw the graph that computes the N-th derivative (0: the expression).",
)
@wrt_option()
@click.option("--verbose", is_flag=True, help="Show values and shapes of named variables too.")
@limit_options()
@click.pass_context
def graph(ctx, expr, var_options, output, order, wrt, verbose):
    """Print the computational graph of EXPR as Graphviz DOT.

    Variables are ellipses (name, or value), functions are boxes (class name).
    With --order N, the graph is the backward graph that computes the N-th derivative.

    \b
    Example:
        $ dezero graph "square(exp(square(x)))" --x 0.5 -o graph.png
    """
    from ..api import derivative_graph
    from ..engine.dot import get_dot_graph
    from ..graphviz import output_kind, write_graph

    if output is not None:
        output_kind(output)  # a bad extension fails before any work
    program = read_program(expr)
    values = collect_values(ctx, var_options, program)
    outputs = derivative_graph(program, values, order, wrt)
    text = get_dot_graph(outputs, verbose=verbose)
    if output is None:
        sys.stdout.write(text)
    else:
        write_graph(text, output)
