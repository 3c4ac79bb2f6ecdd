"""`dezero functions`: the registered functions, their derivatives and conventions."""

from __future__ import annotations

import sys

import click

from ..options import (
    format_option,
)
from ..output import is_terminal, terminal_width


@click.command()
@format_option
def functions(fmt):
    """List the functions with their arity, derivative rule and convention at the edges.

    \b
    Example:
        $ dezero functions --format json
    """
    from ..render.listing import function_rows, render_functions_json, render_functions_text

    rows = function_rows()
    if fmt == "json":
        sys.stdout.write(render_functions_json(rows))
    elif is_terminal(sys.stdout):
        sys.stdout.write(render_functions_text(rows, terminal_width(sys.stdout)))
    else:
        sys.stdout.write(render_functions_text(rows))
