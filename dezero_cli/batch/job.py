"""What a batch run is asked to do and what it reports: options, counts, formats, columns."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from ..diagnostics import label
from ..errors import DezeroError
from ..language.program import Program
from ..limits import Limits
from .streams import BLOCK_BYTES

FORMATS = ("csv", "tsv", "jsonl")
DELIMITERS = {"csv": ",", "tsv": "\t"}
EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


class BatchError(DezeroError):
    """The batch cannot start: unusable input header, format or options (exit 2)."""


@dataclass
class BatchOptions:
    """What to compute: `order` 0 is the value alone (no graph), 1 the gradient, k up to k-th."""

    expr: Program | None = None
    wrt: tuple[str, ...] | None = None
    order: int = 1
    fail_fast: bool = False
    limits: Limits = field(default_factory=Limits)  # per record
    block_bytes: int = BLOCK_BYTES  # read at a time
    record_window: int = 50_000  # records mode groups equal expressions within this many


@dataclass
class BatchStats:
    records: int = 0
    failed: int = 0
    stopped: bool = False  # --fail-fast cut the run short
    first_error: int = 0  # line number of the first bad record
    warnings: list[tuple[int, str]] = field(default_factory=list)


Progress = Callable[[int], None]


def format_for(path: str | None) -> str | None:
    """The format a file name's extension implies, or None."""
    if not path or path == "-":
        return None
    return EXTENSIONS.get(os.path.splitext(path)[1].lower())


def result_columns(
    wrt: tuple[str, ...], order: int, outputs: int = 0, uncertain: bool = False
) -> list[tuple[str, tuple]]:
    """The name of every result column of points mode, in order, and what it holds.

    Every column's name is made here. A scalar result: `value`, `value_sd` (with
    uncertainties), `grad_x` for each variable, then `d2f/dxdy`, ... up to `order` (every
    ordering). A vector result of n outputs: `value_0`, `value_0_sd`, `value_1`, ..., then
    `grad_0_x`, `grad_0_y`, `grad_1_x`, ..., then `d2f[0]/dx2`, ... order by order and
    output by output. What a column holds: ("value", output), ("sd", output) or
    ("d", variable path, output), output None for a scalar result.
    """
    tags = [(i, f"_{i}") for i in range(outputs)] if outputs else [(None, "")]
    columns: list[tuple[str, tuple]] = []
    for i, tag in tags:
        columns.append((f"value{tag}", ("value", i)))
        if uncertain:
            columns.append((f"value{tag}_sd", ("sd", i)))
    if order >= 1:
        columns += [(f"grad{tag}_{name}", ("d", (name,), i)) for i, tag in tags for name in wrt]
    paths: list[tuple[str, ...]] = [(name,) for name in wrt]
    for _ in range(2, order + 1):
        paths = [(*p, name) for p in paths for name in wrt]
        columns += [(label(p, i), ("d", p, i)) for i, _ in tags for p in paths]
    return columns
