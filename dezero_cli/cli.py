"""The `dezero` command: a thin Click layer over `dezero_cli.api`.

Only Click is imported at start-up; numpy, Lark and rich load when a command needs them, so
`dezero --help` stays instant.
"""

from __future__ import annotations

import os
import sys
import time

import click

from .options import (
    EXIT_FAILED,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    LIMITS_KEY,
    TABLE_FORMATS,
    ExpressionCommand,
    UserError,
    collect_values,
    digits_option,
    expr_argument,
    format_option,
    grid_option,
    limit_options,
    printable,
    read_expression,
    read_program,
    read_values,
    table_output_options,
    tell,
    use_color,
    value_arrays,
    var_option,
    warn,
    wrt_option,
)
from .output import (
    OutputFailed,
    ReaderGone,
    discard,
    guard,
    is_terminal,
    terminal_width,
)


def emit(
    result, fmt: str, quiet: bool, digits: int | None, order: int | None = None, program=None
) -> None:
    """Warnings to stderr, then the result: JSON, bare numbers, plain text when piped (every
    digit), or laid out for the terminal (rich; rounded with --digits, coloured unless
    NO_COLOR); a table of one row per point (see emit_table)."""
    from . import render

    if fmt in TABLE_FORMATS:
        return emit_table(result, fmt, quiet, digits, order, program)
    for message in result.warnings:
        warn(message)
    if fmt == "json":
        sys.stdout.write(render.render_json(result))
    elif quiet:
        sys.stdout.write(render.render_quiet(result))
    elif is_terminal(sys.stdout):
        console = terminal_console()
        console.print(render.render_rich(result, console.width, digits))
    else:
        sys.stdout.write(render.render_text(result))


def emit_table(result, fmt: str, quiet: bool, digits: int | None, order, program) -> None:
    """One row per point: csv and tsv as batch writes them; `table` drawn with rich on a
    terminal (rounded alike when every digit does not fit, or with --digits), and as aligned
    plain text with every digit when piped or too wide. -q leaves out the header line."""
    import numpy as np

    from . import api, render
    from .errors import ValueProblem

    mixing = api.mixing_functions(program) if program is not None else []
    if mixing and any(np.ndim(x) for x in result.inputs.values()):
        raise ValueProblem(
            f"a table has one row per point, but {mixing[0]}() mixes a vector's elements: give "
            "numbers, or use --format text or json"
        )
    columns = render.table_columns(result, order)
    for message in result.warnings:
        warn(message)
    if fmt in ("csv", "tsv"):
        sys.stdout.write(render.render_delimited(columns, "," if fmt == "csv" else "\t", not quiet))
        return
    if is_terminal(sys.stdout):
        console = terminal_console()
        table = render.table_rich(columns, console.width, digits, len(result.inputs), not quiet)
        if table is not None:
            console.print(table)
            return
        text = render.render_aligned(columns, not quiet)
        need = max(map(len, text.splitlines()), default=0)
        if need > console.width:
            warn(
                f"the table needs {need} columns, more than the terminal's {console.width}: its "
                "rows wrap (--format csv for programs)"
            )
        sys.stdout.write(text)
        return
    sys.stdout.write(render.render_aligned(columns, not quiet))


def terminal_console():
    """A rich Console on standard output, with colours only where they are wanted."""
    from rich.console import Console

    return Console(highlight=False, color_system="auto" if use_color(sys.stdout) else None)


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
@table_output_options
@limit_options()
@wrt_option()
@click.option(
    "--order",
    type=click.IntRange(min=1),
    metavar="N",
    help="Also print every partial derivative up to order N, at most 100 (double backprop).",
)
@click.pass_context
def grad(ctx, expr, var_options, fmt, grid, quiet, digits, wrt, order):
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

    program = read_program(expr)
    values = collect_values(ctx, var_options, program, grid)
    if order is None:
        result = api.grad(program, values, wrt)
    else:
        result = api.derivatives(program, values, order, wrt)
    emit(result, fmt, quiet, digits, order, program)


@cli.command("eval", cls=ExpressionCommand)
@table_output_options
@limit_options(graph=False)
@click.pass_context
def eval_(ctx, expr, var_options, fmt, grid, quiet, digits):
    """Print the value of EXPR, computed without building a graph.

    \b
    Example:
        $ dezero eval "x^2 + 1" --x 3
        f = 10.0
    """
    from . import api

    program = read_program(expr)
    values = collect_values(ctx, var_options, program, grid)
    result = api.evaluate(program, values)
    emit(result, fmt, quiet, digits, program=program)


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


@cli.command(cls=ExpressionCommand)
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
    from . import render
    from .api import check_gradient

    program = read_program(expr)
    values = collect_values(ctx, var_options, program)
    outcome = check_gradient(program, values, eps, rtol, atol, wrt)
    for message in outcome.warnings:
        warn(message)
    if fmt == "json":
        sys.stdout.write(render.render_check_json(outcome))
    elif is_terminal(sys.stdout):
        sys.stdout.write(render.render_check_text(outcome, terminal_width(sys.stdout), digits))
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
    elif is_terminal(sys.stdout):
        sys.stdout.write(render.render_functions_text(rows, terminal_width(sys.stdout)))
    else:
        sys.stdout.write(render.render_functions_text(rows))


@cli.command()
@click.argument("inputs", metavar="[INPUT]...", nargs=-1)
@click.option(
    "-e", "--expr", help="The expression, for a table of points (CSV, TSV, JSONL, Parquet)."
)
@click.option(
    "--input-format",
    type=click.Choice(["csv", "tsv", "jsonl", "parquet"]),
    help="Input format (default: from the file extension; stdin: csv with --expr, else jsonl).",
)
@click.option(
    "--output-format",
    type=click.Choice(["csv", "tsv", "jsonl", "parquet"]),
    help="Output format (default: from -o FILE's extension, else the input's).",
)
@click.option(
    "-o",
    "--output",
    "output_path",
    metavar="FILE|DIR",
    help="Write to FILE, not stdout: replaced when the run ends, never the input. "
    "With many inputs (files, globs, directories): a DIR, one output part per input.",
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
@click.option("--resume", is_flag=True, help="Many inputs: skip the parts -o DIR has whole.")
@click.option("--scheduler", metavar="ADDRESS", help="Run the parts on this Dask scheduler.")
@click.option(
    "--workers",
    type=click.IntRange(1, 1024),
    metavar="N",
    help="Run the parts on N local Dask workers.",
)
@click.option(
    "--connect-timeout",
    type=click.FloatRange(min=0, min_open=True, max=1e6),
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    help="Most wait for the Dask scheduler and its workers.",
)
@click.pass_context
def batch(
    ctx, inputs, expr, input_format, output_format, output_path, wrt, order, no_grad, fail_fast,
    resume, scheduler, workers, connect_timeout,
):  # fmt: skip
    """Evaluate many points or records from a file or stdin, streaming, in order.

    With --expr, INPUT is a table of points whose header names the variables: out come the
    input columns, then value, grad_NAME for each variable, and error. Without --expr, INPUT
    is JSON Lines with an "expr" field per record. INPUT of - (or none) reads stdin.
    Exit status: 0 all records good, 1 some record failed, 2 unusable arguments.
    The limits hold per record: a record that meets one gets an error, and the batch goes on.
    Many INPUTs (files, globs, directories) go to -o DIR, one part each, optionally on Dask.

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
    text = None if expr is None else read_expression(expr, stdin=False)
    if batch_lib.many.wanted(inputs, resume, scheduler, workers):
        job = batch_lib.parts.Job(text, wrt, 0 if no_grad else order, fail_fast, limits,
                                  input_format, output_format)  # fmt: skip
        where = batch_lib.many.Where(scheduler, workers, connect_timeout)
        return batch_lib.many.main(inputs, output_path, job, resume, where)
    input_path = inputs[0] if inputs else "-"
    program = None if text is None else batch_lib.compile_within(text, limits)
    fmt_in = input_format or batch_lib.format_for(input_path) or ("csv" if expr else "jsonl")
    fmt_out = output_format or batch_lib.format_for(output_path) or fmt_in
    batch_lib.check_formats(fmt_in, fmt_out, program is not None)
    options = batch_lib.BatchOptions(
        expr=program,
        wrt=wrt,
        order=0 if no_grad else order,
        fail_fast=fail_fast,
        limits=limits,
    )
    started = time.monotonic()
    with (
        files.open_input(input_path) as source,
        files.Output(output_path, source, binary=fmt_out == "parquet") as sink,
        _batch_progress(source, to_stdout=output_path in (None, "-")) as progress,
    ):
        stats = batch_lib.run(source, sink, fmt_in, fmt_out, options, progress)
    _report_warnings(stats.warnings, stats.unit)
    if stats.records == 0:
        warn("the input has no records: nothing to evaluate")
    if is_terminal(sys.stderr):  # a person is watching: say what was done
        seconds = time.monotonic() - started
        tell(f"batch: {stats.records:,} rows, {stats.failed:,} failed, {seconds:.2f} s")
    if stats.failed:
        where = f"{stats.unit} {stats.first_error}"
        if stats.stopped:
            message = f"stopped at the first bad record, {where}"
        else:
            message = (
                f"{stats.failed} of {stats.records} records failed, the first on {where} "
                "(see the error field)"
            )
        tell(f"error: {message}")
        return EXIT_FAILED
    return EXIT_OK


@cli.command(cls=ExpressionCommand)
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
    from . import api, render

    program = read_program(expr)
    values = collect_values(ctx, var_options, program)
    formulas = api.diff(program, values, 1 if order is None else order, wrt)
    for message in formulas.warnings:
        warn(message)
    if fmt == "json":
        sys.stdout.write(render.render_diff_json(formulas, orders=order is not None))
    elif fmt == "latex":
        sys.stdout.write(render.render_diff_latex(formulas))
    elif use_color(sys.stdout):
        from rich.console import Console

        Console(highlight=False, soft_wrap=True).print(render.render_diff_rich(formulas))
    else:
        sys.stdout.write(render.render_diff_text(formulas))


@cli.command(cls=ExpressionCommand)
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

    from . import plot as plotting

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
    from . import api, render

    if order == 0:
        result = api.evaluate(program, values)
    else:
        result = api.derivatives(program, values, order, wrt)
    for message in result.warnings:
        warn(message)
    return [a for _, a in render.rows(result)]


def _surface(program, values, names, order, written, title):
    import numpy as np

    from . import api, render
    from .plot import Surface

    if order == 0:
        result = api.evaluate(program, values)
    else:
        result = api.derivatives(program, values, order, tuple(names))
    for message in result.warnings:
        warn(message)
    shape = tuple(written[name].size for name in names)
    shown = render.rows(result)
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


def _batch_progress(source, to_stdout: bool):
    """A progress line on stderr when it is a terminal, and neither the output nor the input
    is one (the line would overwrite rows as they are shown, or lines being typed)."""
    import contextlib

    if (
        not is_terminal(sys.stderr)
        or (to_stdout and is_terminal(sys.stdout))
        or is_terminal(source)
    ):
        return contextlib.nullcontext(None)
    return _RichProgress(source)


class _RichProgress:
    """Rows and rows/s; for a file, also the share of its bytes read and the time left."""

    def __init__(self, source):
        self.source = source
        self.start, self.size = _file_span(source)

    def __enter__(self):
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        columns = [
            TextColumn("{task.fields[rows]:,} rows"),
            TextColumn("{task.fields[rate]} rows/s"),
        ]
        if self.size is None:  # a pipe: how much is to come is unknown
            columns.append(TimeElapsedColumn())
        else:
            columns += [BarColumn(), TaskProgressColumn(), TextColumn("ETA"), TimeRemainingColumn()]
        self.progress = Progress(
            *columns,
            console=Console(stderr=True),
            redirect_stdout=False,
            redirect_stderr=False,
            transient=True,
        )
        self.progress.__enter__()
        self.task = self.progress.add_task("batch", total=self.size, rows=0, rate="-")
        return self.update

    def update(self, done: int) -> None:
        elapsed = self.progress.tasks[0].elapsed or 0.0
        rate = f"{done / elapsed:,.0f}" if elapsed > 0 else "-"
        read = None if self.size is None else self.source.tell() - self.start
        self.progress.update(self.task, completed=read, rows=done, rate=rate)

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc)


def _file_span(source) -> tuple[int, int | None]:
    """(where reading starts, bytes to read) for a regular file; (0, None) for a pipe."""
    import stat

    try:
        info = os.fstat(source.fileno())
        if stat.S_ISREG(info.st_mode):
            start = source.tell()
            return start, max(info.st_size - start, 0)
    except (AttributeError, OSError, ValueError):
        pass
    return 0, None


def _report_warnings(warnings: list, unit: str = "line", limit: int = 20) -> None:
    for line, message in warnings[:limit]:
        warn(f"{unit} {line}: {message}")
    if len(warnings) > limit:
        warn(f"{len(warnings) - limit} more warnings (JSON Lines output keeps each with its row)")


class Interrupted(click.ClickException):
    exit_code = EXIT_INTERRUPTED

    def __init__(self):
        super().__init__("interrupted")


def quiet_broken_pipe() -> int:
    """The reader went away (`| head`): stop quietly, and keep Python from complaining again
    when it flushes stdout at exit."""
    discard(sys.stdout)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; map every failure to one `error:` line and a documented exit status."""
    args = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in args or bool(os.environ.get("DEZERO_DEBUG"))
    stdout = sys.stdout
    sys.stdout = guard(stdout)  # a failed write is OutputFailed, wherever it happens
    try:
        code = _run(args)
        sys.stdout.flush()
        return code
    except (ReaderGone, BrokenPipeError):
        discard(stdout)
        return EXIT_OK
    except OutputFailed as exc:
        discard(stdout)  # what is still buffered would fail again at exit
        return _fail(exc.message, exc.exit_code)
    except click.exceptions.Abort:
        return _fail("interrupted", EXIT_INTERRUPTED)
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED)
    except click.ClickException as exc:
        message = exc.format_message()
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            message += f" (see '{exc.ctx.command_path} --help')"
        return _fail(message, exc.exit_code)
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
    finally:
        sys.stdout = stdout


def _run(args: list[str]) -> int:
    try:
        code = cli.main(args, prog_name="dezero", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:  # bare `dezero`: the help, as --help
        click.echo(exc.ctx.get_help())
        return EXIT_OK
    return code if isinstance(code, int) else EXIT_OK


def _fail(message: str, code: int, context=None) -> int:
    lines = []
    if context is not None:  # the expression around the error, cut to fit a terminal
        width = terminal_width(sys.stderr) - 8 if is_terminal(sys.stderr) else 72
        lines = [f"  {line}" for line in context(max(width, 20))]
    tell(f"error: {printable(message)}", lines)
    return code
