"""What a batch run is asked to do and what it reports: options, counts, formats."""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field

from ..diagnostics import column_labels  # noqa: F401 (batch's column names live there)
from ..errors import DezeroError
from ..language.program import Program
from ..limits import Limits
from .streams import BLOCK_BYTES

FORMATS = ("csv", "tsv", "jsonl", "parquet")
DELIMITERS = {"csv": ",", "tsv": "\t"}
EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
}
FAST_EXTRA = "pip install 'dezero-cli[fast]'"  # the libraries of the native paths and Parquet

# Which path reads and writes tables of points: "auto" (the native one, polars, once the input
# is larger than one block and polars is installed; a smaller input never pays for importing
# it), "native" (every block the library accepts, however small: for the tests) or "python"
# (the line-by-line path, always). The tests run every batch test under both.
PATH_VARIABLE = "DEZERO_BATCH_PATH"
PATHS = ("auto", "native", "python")


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
    record_window: int = 100_000
    window_bytes: int = 16 * BLOCK_BYTES
    window_seconds: float = 1.0
    path: str = field(default_factory=lambda: os.environ.get(PATH_VARIABLE) or "auto")


@dataclass
class BatchStats:
    records: int = 0
    failed: int = 0
    stopped: bool = False  # --fail-fast cut the run short
    first_error: int = 0  # line number of the first bad record
    warnings: list[tuple[int, str]] = field(default_factory=list)
    unit: str = "line"  # what the numbers above count: lines of text, or rows of Parquet


Progress = Callable[[int], None]


def native_from_start(path: str, source, block_bytes: int) -> bool | None:
    """Whether the native path (a library imported for speed) is taken from the start: True,
    False (never), or None: not yet, for a stream whose size is unknown until a block's
    worth has come. `path` is the PATH_VARIABLE setting."""
    if path not in PATHS:
        raise BatchError(f"unknown batch path {path!r} ({PATH_VARIABLE}): auto, native, python")
    if path != "auto":
        return path == "native"
    try:
        info = os.fstat(source.fileno())
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    try:
        return info.st_size - source.tell() > block_bytes
    except (OSError, ValueError):
        return None


def format_for(path: str | None) -> str | None:
    """The format a file name's extension implies, or None."""
    if not path or path == "-":
        return None
    return EXTENSIONS.get(os.path.splitext(path)[1].lower())
