"""Reading input as blocks of whole lines, as soon as they arrive, with line numbers kept.

A line longer than the cap is read past, never held whole: it stands in its block as an empty
line, and the block says which.
"""

from __future__ import annotations

import io
import os
import select
import stat
from collections.abc import Iterator

from ..limits import Limits

BLOCK_BYTES = 1 << 20  # one chunk: about 50,000 short CSV rows, a few MB of arrays


def blocks(
    source, cap: int | None = None, size: int = BLOCK_BYTES
) -> Iterator[tuple[bytes, list[int], bool]]:
    """Blocks of whole lines, each returned as soon as it is available (pipes stream).

    A line longer than `cap` bytes is never held whole: it is read past, and stands in the
    block as an empty line whose index comes with the block. With each block comes whether
    more input is waiting: always for a file; for a pipe, only what has already arrived.
    """
    fd = _pipe_fd(source)
    # A file is read in full blocks; a pipe gives what has arrived, so results are not held up.
    read1 = source.read if fd is None else getattr(source, "read1", source.read)
    while True:
        block = read1(size)
        if not block:
            return
        # On a pipe, take what is already waiting, up to `size`, so chunks stay large when the
        # producer is fast and results still come out promptly when it is slow.
        while fd is not None and len(block) < size and _ready(fd):
            more = read1(size - len(block))
            if not more:
                break
            block += more
        long: list[int] = []
        if not block.endswith(b"\n"):
            start = block.rfind(b"\n") + 1
            if cap is None:
                block += source.readline()
            else:
                room = max(cap - (len(block) - start), 0) + 1
                rest = source.readline(room)
                if len(rest) == room and not rest.endswith(b"\n"):  # more than `cap` bytes
                    block = block[:start] + b"\n"
                    long.append(block.count(b"\n") - 1)
                    skip_line(source)
                else:
                    block += rest
        yield block, long, fd is None or _ready(fd)


def skip_line(source) -> None:
    """Read past the rest of the current line, a block at a time."""
    while True:
        part = source.readline(BLOCK_BYTES)
        if not part or part.endswith(b"\n"):
            return


def line_cap(limits: Limits) -> int | None:
    """The longest input line batch reads: room for an expression of --max-length characters
    written as JSON (\\uXXXX escapes take 6 bytes) and 1 MiB of other fields."""
    return None if limits.max_length is None else 6 * limits.max_length + (1 << 20)


def _pipe_fd(source) -> int | None:
    """The descriptor to poll when `source` is a pipe or terminal; None for files and memory."""
    try:
        fd = source.fileno()
        return None if stat.S_ISREG(os.fstat(fd).st_mode) or os.name == "nt" else fd
    except (AttributeError, OSError, io.UnsupportedOperation):
        return None


def _ready(fd: int) -> bool:
    try:
        return bool(select.select([fd], [], [], 0)[0])
    except (OSError, ValueError):
        return False


def split_lines(block: bytes, long: list[int], cap: int | None) -> tuple[list[str], dict[int, str]]:
    """The block's lines as text, and why each line that cannot be used cannot be."""
    bad: dict[int, str] = {}
    try:
        lines = block.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        lines = []
        for i, raw in enumerate(block.split(b"\n")):
            try:
                lines.append(raw.decode("utf-8"))
            except UnicodeDecodeError:
                lines.append(raw.decode("utf-8", "replace"))
                bad[i] = "not UTF-8 text"
    if lines and lines[-1] == "":
        lines.pop()
    if b"\r" in block:  # CRLF line ends
        lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    for i in long:
        bad[i] = f"the line is longer than {cap} bytes, the most --max-length allows"
    return lines, bad
