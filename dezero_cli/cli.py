"""The `dezero` command: a thin Click layer over `dezero_cli.api`.

Only Click is imported at start-up; numpy, Lark and rich load when a command needs them, so
`dezero --help` stays instant.
"""

from __future__ import annotations

import os
import sys

import click

from .options import (
    EXIT_FAILED,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    LIMITS_KEY,
    ExpressionCommand,
    UserError,
    collect_values,
    expr_argument,
    format_option,
    limit_options,
    option_hint,
    output_options,
    printable,
    read_expression,
    use_color,
    var_option,
    warn,
    wrt_option,
)


def emit(ctx: click.Context, result, fmt: str, quiet: bool) -> None:
    from . import render

    for message in result.warnings:
        if "given but not used" in message:  # a variable nobody uses may be a mistyped option
            message += option_hint(ctx, message.split("'")[1])
        warn(message)
    if fmt == "json":
        sys.stdout.write(render.render_json(result))
    elif quiet:
        sys.stdout.write(render.render_quiet(result))
    elif use_color(sys.stdout):
        from rich.console import Console

        Console(highlight=False).print(render.render_rich(result))
    else:
        sys.stdout.write(render.render_text(result))


class DezeroGroup(click.Group):
    """Turns Ctrl-C and a closed pipe into our exits before Click's own handling sees them
    (Click would print a blank line for the one and exit with 1 for the other)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise Interrupted() from None
        except BrokenPipeError:
            return quiet_broken_pipe()


@click.group(cls=DezeroGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dezero-cli", prog_name="dezero", message="%(prog)s %(version)s")
@click.option("--debug", is_flag=True, help="Show Python tracebacks for internal errors.")
def cli(debug: bool) -> None:
    """Differentiate expressions from the shell with DeZero's define-by-run engine.

    \b
    Example:
        dezero grad "square(exp(square(x)))" --x 0.5
    """


@cli.command(cls=ExpressionCommand)
@output_options
@limit_options()
@wrt_option()
@click.option(
    "--order",
    type=click.IntRange(min=1),
    metavar="N",
    help="Also print every partial derivative up to order N, at most 100 (double backprop).",
)
@click.pass_context
def grad(ctx, expr, var_options, fmt, quiet, wrt, order):
    """Print the value of EXPR and its derivative by each variable.

    Give each variable with --NAME VALUE; a VALUE of 1,2,3 evaluates elementwise.
    EXPR of - reads the expression from standard input. With --order N, the
    k-th partials follow for k up to N, labelled d2f/dx2, d2f/dxdy, d3f/dx2dy.

    \b
    Example:
        $ dezero grad "square(exp(square(x)))" --x 0.5
        f = 1.648721270700128
        df/dx = 3.297442541400256
    """
    from . import api

    values = collect_values(ctx, var_options)
    if order is None:
        result = api.grad(read_expression(expr), values, wrt)
    else:
        result = api.derivatives(read_expression(expr), values, order, wrt)
    emit(ctx, result, fmt, quiet)


@cli.command("eval", cls=ExpressionCommand)
@output_options
@limit_options(graph=False)
@click.pass_context
def eval_(ctx, expr, var_options, fmt, quiet):
    """Print the value of EXPR, computed without building a graph.

    \b
    Example:
        $ dezero eval "x^2 + 1" --x 3
        f = 10.0
    """
    from . import api

    values = collect_values(ctx, var_options)
    result = api.evaluate(read_expression(expr), values)
    emit(ctx, result, fmt, quiet)


@cli.command(cls=ExpressionCommand)
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
    from .api import derivative_graph
    from .engine.dot import get_dot_graph
    from .graphviz import output_kind, write_graph

    values = collect_values(ctx, var_options)
    if output is not None:
        output_kind(output)  # a bad extension fails before any work
    outputs = derivative_graph(read_expression(expr), values, order, wrt)
    text = get_dot_graph(outputs, verbose=verbose)
    if output is None:
        sys.stdout.write(text)
    else:
        write_graph(text, output)


@cli.command(cls=ExpressionCommand)
@expr_argument
@var_option
@format_option
@wrt_option("Comma-separated variables to check.")
@click.option("--eps", type=float, default=1e-6, show_default=True, help="Central-difference step.")
@click.option("--rtol", type=float, default=1e-5, show_default=True, help="Relative tolerance.")
@click.option("--atol", type=float, default=1e-8, show_default=True, help="Absolute tolerance.")
@limit_options()
@click.pass_context
def check(ctx, expr, var_options, fmt, wrt, eps, rtol, atol):
    """Check backprop gradients against central differences.

    Each element agrees when |backprop - numeric| <= atol + rtol * |numeric|;
    the exit status is 0 when all agree and 1 when any does not.

    \b
    Example:
        $ dezero check "sin(x) * y" --x 0.5 --y 2
    """
    from . import render
    from .api import check_gradient

    values = collect_values(ctx, var_options)
    outcome = check_gradient(read_expression(expr), values, eps, rtol, atol, wrt)
    for message in outcome.warnings:
        warn(message)
    if fmt == "json":
        sys.stdout.write(render.render_check_json(outcome))
    else:
        sys.stdout.write(render.render_check_text(outcome))
    if not outcome.ok:
        ctx.exit(EXIT_FAILED)


@cli.command()
@format_option
def functions(fmt):
    """List the functions with their arity, derivative rule and convention at the edges.

    \b
    Example:
        $ dezero functions --format json
    """
    from . import render

    rows = render.function_rows()
    if fmt == "json":
        sys.stdout.write(render.render_functions_json(rows))
    else:
        sys.stdout.write(render.render_functions_text(rows))


@cli.command()
@click.argument("input_path", metavar="[INPUT]", default="-")
@click.option("-e", "--expr", help="The expression, for a table of points (CSV, TSV, JSONL).")
@click.option(
    "--input-format",
    type=click.Choice(["csv", "tsv", "jsonl"]),
    help="Input format (default: from the file extension; stdin: csv with --expr, else jsonl).",
)
@click.option(
    "--output-format",
    type=click.Choice(["csv", "tsv", "jsonl"]),
    help="Output format (default: the input's).",
)
@click.option(
    "-o",
    "--output",
    "output_path",
    metavar="FILE",
    help="Write to FILE, not stdout: replaced when the run ends, never the input.",
)
@wrt_option()
@click.option(
    "--order",
    type=click.IntRange(1, 10),
    default=1,
    show_default=True,
    help="Highest derivative order.",
)
@click.option("--no-grad", is_flag=True, help="Values only, computed without building a graph.")
@click.option("--fail-fast", is_flag=True, help="Stop at the first bad record (exit 1).")
@limit_options(per_record=True)
@click.pass_context
def batch(
    ctx, input_path, expr, input_format, output_format, output_path, wrt, order, no_grad, fail_fast
):
    """Evaluate many points or records from a file or stdin, streaming, in order.

    With --expr, INPUT is a table of points whose header names the variables: out come the
    input columns, then value, grad_NAME for each variable, and error. Without --expr, INPUT
    is JSON Lines with an "expr" field per record. INPUT of - (or none) reads stdin.
    Exit status: 0 all records good, 1 some record failed, 2 unusable arguments.
    The limits hold per record: a record that meets one gets an error, and the batch goes on.

    \b
    Example:
        $ printf 'x,y\\n1,2\\n' | dezero batch --expr "x*y"
        x,y,value,grad_x,grad_y,error
        1,2,2.0,2.0,1.0,
    """
    from . import batch as batch_lib
    from .batch import files
    from .limits import Limits

    if no_grad and order != 1:
        raise UserError("--no-grad and --order exclude each other")
    limits = ctx.meta.get(LIMITS_KEY, Limits())
    program = None if expr is None else batch_lib.compile_within(expr, limits)
    fmt_in = input_format or batch_lib.format_for(input_path) or ("csv" if expr else "jsonl")
    fmt_out = output_format or fmt_in
    options = batch_lib.BatchOptions(
        expr=program,
        wrt=wrt,
        order=0 if no_grad else order,
        fail_fast=fail_fast,
        limits=limits,
    )
    with (
        files.open_input(input_path) as source,
        files.Output(output_path, source) as sink,
        _batch_progress() as progress,
    ):
        stats = batch_lib.run(source, sink, fmt_in, fmt_out, options, progress)
    _report_warnings(stats.warnings)
    if stats.records == 0:
        warn("the input has no records: nothing to evaluate")
    if stats.failed:
        if stats.stopped:
            message = f"stopped at the first bad record, line {stats.first_error}"
        else:
            message = (
                f"{stats.failed} of {stats.records} records failed, the first on line "
                f"{stats.first_error} (see the error field)"
            )
        click.echo(f"error: {message}", err=True)
        return EXIT_FAILED
    return EXIT_OK


def _batch_progress():
    """A rich progress display on stderr when it is a terminal; otherwise nothing."""
    import contextlib

    if not sys.stderr.isatty():
        return contextlib.nullcontext(None)
    return _RichProgress()


class _RichProgress:
    def __enter__(self):
        from rich.console import Console
        from rich.progress import Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("{task.completed:,} rows"),
            TextColumn("{task.fields[rate]} rows/s"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            redirect_stdout=False,
            redirect_stderr=False,
            transient=True,
        )
        self.progress.__enter__()
        self.task = self.progress.add_task("batch", total=None, rate="-")
        return self.update

    def update(self, done: int) -> None:
        elapsed = self.progress.tasks[0].elapsed or 0.0
        rate = f"{done / elapsed:,.0f}" if elapsed > 0 else "-"
        self.progress.update(self.task, completed=done, rate=rate)

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc)


def _report_warnings(warnings: list, limit: int = 20) -> None:
    for line, message in warnings[:limit]:
        warn(f"line {line}: {message}")
    if len(warnings) > limit:
        warn(f"{len(warnings) - limit} more warnings (JSON Lines output keeps each with its row)")


class Interrupted(click.ClickException):
    exit_code = EXIT_INTERRUPTED

    def __init__(self):
        super().__init__("interrupted")


def quiet_broken_pipe() -> int:
    """The reader went away (`| head`): stop quietly, and keep Python from complaining again
    when it flushes stdout at exit."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; map every failure to one `error:` line and a documented exit status."""
    args = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in args or bool(os.environ.get("DEZERO_DEBUG"))
    try:
        code = cli.main(args, prog_name="dezero", standalone_mode=False)
        sys.stdout.flush()
        return code if isinstance(code, int) else EXIT_OK
    except click.exceptions.Abort:
        return _fail("interrupted", EXIT_INTERRUPTED)
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED)
    except click.ClickException as exc:
        message = exc.format_message()
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            message += f" (see '{exc.ctx.command_path} --help')"
        return _fail(message, exc.exit_code)
    except BrokenPipeError:
        return quiet_broken_pipe()
    except Exception as exc:
        from .errors import DezeroError

        if isinstance(exc, DezeroError):
            return _fail(exc.message, exc.exit_code, getattr(exc, "context", None))
        if debug:
            raise
        return _fail(
            f"internal error: {type(exc).__name__}: {exc} (run with --debug for "
            "details, and please report it)",
            EXIT_INTERNAL,
        )


def _fail(message: str, code: int, context=None) -> int:
    lines = [f"error: {printable(message)}"]
    if context is not None:
        lines.extend(f"  {line}" for line in context())
    click.echo("\n".join(lines), err=True)
    return code
