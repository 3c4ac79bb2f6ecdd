"""Batch mode: read points or records, evaluate them vectorized in chunks, write them in order.

Two shapes of work:

* points mode (`expr` given): every row of a CSV, TSV or JSON Lines input is a point for the same
  compiled expression. A chunk of rows becomes one array per variable, one graph, one backward.
* records mode (no `expr`): every JSON Lines record carries its own `"expr"`. Within a window of
  records, those that share an expression are evaluated together, then written back in order.

Exactly one output record per input record, in input order: a bad record becomes a record with an
`error` naming its line. Output is flushed after each chunk, so a run cut short leaves a valid
prefix. No Click here: the CLI opens the streams and passes them in.

    streams (blocks of lines) -> points | records -> rows (evaluation under the limits)
"""

from __future__ import annotations

from . import parts, storage
from .job import (
    DELIMITERS,
    EXTENSIONS,
    FAST_EXTRA,
    FORMATS,
    BatchError,
    BatchOptions,
    BatchStats,
    Progress,
    format_for,
)
from .points import parquet_points, points
from .records import records
from .rows import compile_within

__all__ = [
    "EXTENSIONS",
    "FORMATS",
    "BatchError",
    "BatchOptions",
    "BatchStats",
    "check_formats",
    "compile_within",
    "format_for",
    "parts",
    "run",
    "run_path",
]


def run(
    source,
    sink,
    input_format: str,
    output_format: str,
    options: BatchOptions,
    progress: Progress | None = None,
) -> BatchStats:
    """Evaluate every record of the binary stream `source`, writing to `sink`: a text stream,
    or a binary one for Parquet. One input, one output: the unit a run over many files (one
    process or many) repeats."""
    check_formats(input_format, output_format, options.expr is not None)
    stats = BatchStats()
    if input_format == "jsonl":
        records(source, sink, options, stats, progress)
    elif input_format == "parquet":
        parquet_points(source, sink, output_format, options, stats, progress)
    else:
        points(source, sink, DELIMITERS[input_format], output_format, options, stats, progress)
    return stats


def run_path(
    input_path: str,
    output_path: str,
    input_format: str,
    output_format: str,
    options: BatchOptions,
    progress: Progress | None = None,
) -> BatchStats:
    """Evaluate the file (or URL) `input_path` into `output_path`, which is written whole or
    not at all: one part of a run over many files, wherever it runs."""
    check_formats(input_format, output_format, options.expr is not None)
    if storage.same_place(input_path, output_path):
        raise BatchError(f"the output {output_path} is the input file: give -o another file")
    binary = output_format == "parquet"
    with (
        storage.open_input(input_path) as source,
        storage.output(output_path, source, whole=True, binary=binary) as sink,
    ):
        return run(source, sink, input_format, output_format, options, progress)


def check_formats(input_format: str, output_format: str, expr: bool) -> None:
    """BatchError unless a run can read `input_format` and write `output_format`."""
    if input_format not in FORMATS or output_format not in FORMATS:
        raise BatchError(f"unknown format: choose from {', '.join(FORMATS)}")
    if input_format == "jsonl" and output_format != "jsonl":
        raise BatchError("JSON Lines input can only be written as JSON Lines (jsonl)")
    if input_format == "parquet" and output_format != "parquet":
        raise BatchError(
            "Parquet input can only be written as Parquet (--output-format parquet, or -o "
            "FILE.parquet)"
        )
    if input_format != "jsonl" and not expr:
        raise BatchError(
            f"{input_format.upper() if input_format != 'parquet' else 'Parquet'} input is a "
            "table of points: give the expression with --expr (records with their own "
            "expressions are JSON Lines)"
        )
    if "parquet" in (input_format, output_format):
        try:
            import pyarrow.parquet  # noqa: F401
        except ImportError:
            raise BatchError(f"Parquet needs pyarrow, not installed: {FAST_EXTRA}") from None
