"""Where output goes: standard output (or a file) guarded, so that failing to write it is one
`error:` line and exit status 74, never an internal error.

A write can fail three ways: the descriptor is closed (`>&-`), the device refuses (`> /dev/full`,
a terminal gone), or the stream's encoding cannot hold a character (`PYTHONIOENCODING=ascii`).
Each becomes `OutputFailed`. A reader that went away (`| head`) is `ReaderGone` instead, a quiet
end: it is raised as our own type so that Click's handling of a broken pipe (exit 1) never sees
it. Only the standard library is imported here: every command starts through this module.
"""

from __future__ import annotations

import os
import sys

EXIT_OUTPUT = 74  # as sysexits.h's EX_IOERR: the work was done, its output could not be written


class OutputFailed(Exception):
    """Writing the output failed; `message` says what and why."""

    exit_code = EXIT_OUTPUT

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ReaderGone(Exception):
    """The reader of a pipe went away: stop quietly."""


class Guarded:
    """A text or binary stream whose write, flush and close failures are OutputFailed (or
    ReaderGone); every other attribute is the stream's own."""

    def __init__(self, stream, name: str = "standard output"):
        self._stream = stream
        self._name = name
        self._buffer = None

    def write(self, data):
        try:
            return self._stream.write(data)
        except (OSError, UnicodeEncodeError) as exc:
            raise self._failure(exc) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            raise self._failure(exc) from None

    def close(self) -> None:
        try:
            self._stream.close()
        except OSError as exc:
            raise self._failure(exc) from None

    @property
    def buffer(self):
        """The binary stream beneath, guarded too (Click writes there for some encodings)."""
        if self._buffer is None:
            self._buffer = Guarded(self._stream.buffer, self._name)
        return self._buffer

    def __getattr__(self, name: str):
        return getattr(self._stream, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _failure(self, exc: Exception) -> Exception:
        if isinstance(exc, BrokenPipeError):
            return ReaderGone()
        if isinstance(exc, UnicodeEncodeError):
            char = exc.object[exc.start]
            return OutputFailed(
                f"cannot write {char!r} (U+{ord(char):04X}) to {self._name}: its encoding, "
                f"{exc.encoding}, has no such character (set PYTHONIOENCODING=utf-8)"
            )
        return OutputFailed(f"cannot write {self._name}: {exc.strerror or exc}")


class Closed:
    """Standard output when its descriptor is closed (`>&-`): writing anything fails."""

    encoding = "utf-8"
    errors = "strict"
    closed = False  # to Click and rich, a stream that can be tried

    def __init__(self, name: str = "standard output"):
        self._name = name

    def write(self, data) -> int:
        if data:
            raise OutputFailed(f"cannot write {self._name}: it is closed")
        return 0

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise OSError(f"{self._name} is closed")

    @property
    def buffer(self):
        return self


def guard(stream):
    """`stream` (sys.stdout, say) guarded; a stand-in that fails on writing when it is None."""
    if stream is None:
        return Closed()
    if isinstance(stream, (Guarded, Closed)):
        return stream
    return Guarded(stream)


def discard(stream) -> None:
    """Point the descriptor of `stream` at /dev/null: output still buffered (and the flush at
    exit) then goes nowhere, instead of failing again with Python's own complaint."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def is_terminal(stream) -> bool:
    """Is `stream` a terminal? (False for a closed or missing one.)"""
    try:
        return stream is not None and bool(stream.isatty())
    except (AttributeError, OSError, ValueError):
        return False


def terminal_width(stream) -> int:
    """The width in columns of the terminal `stream` is (COLUMNS, if set, wins); 80 if unknown."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return 80
    return columns or 80  # 0: a terminal that does not know its size


def wrap(line: str, width: int, indent: int, first: str = "") -> list[str]:
    """`line` broken at spaces to `width` columns (`first` before it, later lines indented by
    `indent`); a word is never cut, even where it is wider than the room left."""
    import textwrap

    return textwrap.wrap(
        line,
        max(width, indent + 20),
        initial_indent=first,
        subsequent_indent=" " * indent,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [first]


def use_color(stream) -> bool:
    return is_terminal(stream) and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def warn(message: str) -> None:
    tell(f"warning: {printable(message)}")


def tell(line: str, context: tuple[str, ...] | list[str] = ()) -> None:
    """A line on standard error (wrapped at words on a terminal), then `context` lines as they
    are. When stderr cannot be written either (closed, full), there is nowhere left to say
    anything: the exit status still tells."""
    lines = [line]
    if is_terminal(sys.stderr):
        lines = wrap(line, terminal_width(sys.stderr), indent=2)
    try:
        import click  # loaded already by every command; echo copes with any stream's encoding

        click.echo("\n".join([*lines, *context]), err=True)
    except (OSError, ValueError):
        discard(sys.stderr)  # or Python complains again when it flushes stderr at exit


def printable(text: str) -> str:
    """`text` with control characters and undecodable bytes escaped: one line, no terminal codes."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
