"""`dezero batch`: many points or records from a file or stdin, streamed in order, with a
progress line on a terminal."""

from __future__ import annotations

import os
import sys
import time

import click

from ..options import (
    EXIT_FAILED,
    EXIT_OK,
    LIMITS_KEY,
    UserError,
    limit_options,
    read_expression,
    wrt_option,
)
from ..output import is_terminal, tell, warn


@click.command()
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
    from .. import batch as batch_lib
    from ..batch import files
    from ..limits import Limits
    from . import batch_many

    if no_grad and order != 1:
        raise UserError("--no-grad and --order exclude each other")
    limits = ctx.meta.get(LIMITS_KEY, Limits())
    text = None if expr is None else read_expression(expr, stdin=False)
    if batch_many.wanted(inputs, resume, scheduler, workers):
        job = batch_lib.parts.Job(text, wrt, 0 if no_grad else order, fail_fast, limits,
                                  input_format, output_format)  # fmt: skip
        where = batch_many.Where(scheduler, workers, connect_timeout)
        return batch_many.main(inputs, output_path, job, resume, where)
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
        where = f"{stats.unit} {stats.first_error}"  # line N of text, row N of Parquet
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
