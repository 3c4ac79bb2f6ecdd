"""What a batch run is asked to do and what it reports: options, counts, formats."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from ..diagnostics import column_labels  # noqa: F401 (batch's column names live there)
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
    # JSON Lines are evaluated a window at a time, records that share an expression together.
    # A window ends at this many records, or characters, or once reading its records took
    # this long (four times as long while most share an expression: records._Window.due), or
    # when a pipe has nothing more waiting.
    record_window: int = 50_000
    window_bytes: int = 8 * BLOCK_BYTES
    window_seconds: float = 1.0


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
