"""The files batch reads and writes: an output never destroys the input, nor a file it replaces.

`-o FILE`, when FILE is a regular file or does not exist yet, is written to a temporary file
in FILE's directory, which takes FILE's name (an atomic rename) when the run ends:

* a run that ends (exit 0 or 1, `--fail-fast` included) replaces FILE with its whole output;
* a run that cannot start (exit 2: a bad header, say) or cannot write leaves FILE as it was;
* a run cut short (Ctrl-C) replaces FILE with the whole chunks it wrote, a valid prefix, once
  it has written anything; before that FILE is left as it was. A part of a run over many
  files (`whole`) is whole or left as it was: never a prefix.

An output that is the input, by any name (a symlink, a hard link, `./in.csv`, standard output
redirected to the input), is refused before anything is read or written. Devices and pipes
(`-o /dev/null`) are written as they are.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import io
import os
import signal
import stat
import sys
import tempfile
import threading

from ..output import OutputFailed, is_terminal
from .job import BatchError


class OutputError(BatchError):
    """The output cannot be written (exit 2); a file it would replace is left as it was."""


def open_input(path: str):
    """The binary stream to read: the file at `path`, or standard input for `-`."""
    if path == "-":
        stream = getattr(sys.stdin, "buffer", sys.stdin)
        if stream is None:
            raise BatchError("standard input is closed: give an INPUT file")
        return contextlib.nullcontext(stream)
    try:
        return open(path, "rb")  # noqa: SIM115 (closed by the caller's with)
    except OSError as exc:
        raise BatchError(f"cannot read {path}: {exc.strerror}") from None


def identity(stream) -> tuple[int, int] | None:
    """(device, inode) of the regular file behind `stream`, or None (a pipe, a terminal)."""
    try:
        info = os.fstat(stream.fileno())
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None
    return (info.st_dev, info.st_ino) if stat.S_ISREG(info.st_mode) else None


class Output:
    """A context manager giving the text stream to write, and putting the file in place."""

    def __init__(self, path: str | None, source, binary: bool = False, whole: bool = False):
        self.path = path
        self.binary = binary  # bytes (Parquet) rather than text
        self.whole = whole  # a run cut short leaves FILE as it was, never a prefix
        self.source = identity(source)
        self.temp: str | None = None  # the temporary file, renamed to `target` at the end
        self.target: str | None = None
        self.stream = None
        self.written = 0  # bytes of whole chunks in the temporary file (flushed)
        self.lazy = False  # opened on the first write (a file whose directory is read-only)

    # -- opening ---------------------------------------------------------------------------

    def __enter__(self):
        if self.path is None or self.path == "-":
            if self.source is not None and identity(sys.stdout) == self.source:
                raise OutputError(
                    "standard output is the input file: write with -o to another file"
                )
            self.name = "standard output"
            self.stream = sys.stdout
            if self.binary:
                if is_terminal(sys.stdout):
                    raise OutputError(
                        "Parquet is not for a terminal: give -o FILE, or redirect standard output"
                    )
                self.stream = sys.stdout.buffer
            return _Sink(self)
        self.name = self.path
        if not self.path:
            raise self._cannot(OSError(errno.ENOENT, os.strerror(errno.ENOENT)))
        if self.path.endswith(("/", os.sep)):  # a directory's name, as open() takes it
            raise self._cannot(OSError(errno.EISDIR, os.strerror(errno.EISDIR)))
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            info = None
        except OSError as exc:
            raise self._cannot(exc) from None
        if info is not None and stat.S_ISDIR(info.st_mode):
            raise self._cannot(OSError(errno.EISDIR, os.strerror(errno.EISDIR)))
        if info is not None and not stat.S_ISREG(info.st_mode):  # /dev/null, a pipe
            self.stream = self._open(self.path, "w")
            return _Sink(self)
        if info is not None and (info.st_dev, info.st_ino) == self.source:
            raise OutputError(f"the output {self.path} is the input file: give -o another file")
        self.target = os.path.realpath(self.path)  # a symlink stays a symlink
        folder = os.path.dirname(self.target)
        # Ctrl-C is held back while the temporary file is made (it exists before mkstemp
        # returns its name), and raised where the file is removed again.
        held = _hold_interrupts()
        fd = None
        try:
            try:
                fd, self.temp = tempfile.mkstemp(
                    prefix=f".{os.path.basename(self.target)}.", suffix=".tmp", dir=folder
                )
            except PermissionError as exc:
                # A file we may write in a directory we may not: written in place, opened
                # only when the run has started (not atomic; a run cut short leaves its prefix).
                if info is None or not os.access(self.target, os.W_OK) or self.whole:
                    raise self._cannot(exc) from None
                self.lazy = True
                return _Sink(self)
            except OSError as exc:
                raise self._cannot(exc) from None
            mode = stat.S_IMODE(info.st_mode) if info is not None else 0o666 & ~umask()
            with contextlib.suppress(OSError):
                os.chmod(self.temp, mode)
            self.stream = self._open(fd, "w")
            _release_interrupts(held)  # a Ctrl-C held back is raised here
            held = None
        except BaseException:  # Ctrl-C, even here, leaves nothing behind
            if self.stream is not None:
                with contextlib.suppress(OSError, ValueError):
                    self.stream.close()
            elif fd is not None:
                os.close(fd)
            if self.temp is not None:
                os.unlink(self.temp)
                self.temp = None
            raise
        finally:
            _release_interrupts(held)
        return _Sink(self)

    def _open(self, path, mode: str):
        try:
            if self.binary:
                return open(path, mode + "b")  # noqa: SIM115
            return open(path, mode, encoding="utf-8", newline="")  # noqa: SIM115
        except OSError as exc:
            raise self._cannot(exc) from None

    def _cannot(self, exc: OSError) -> OutputError:
        """The output cannot be opened: the run cannot start (exit 2)."""
        return OutputError(f"cannot write {self.name}: {exc.strerror or exc}")

    def _failed(self, exc: OSError) -> OutputFailed:
        """Writing the output failed once the run had started (exit 74, an I/O error)."""
        return OutputFailed(f"cannot write {self.name}: {exc.strerror or exc}")

    # -- closing ---------------------------------------------------------------------------

    def __exit__(self, kind, exc, tb) -> None:
        if self.stream is None or self.temp is None and self.path in (None, "-"):
            return
        if self.temp is None:  # written in place: a device, or a file opened late
            try:
                self.stream.close()
            except (OSError, ValueError) as error:
                if kind is None:  # the data did not all go out
                    raise self._failed(error) from None
            return
        failed = isinstance(exc, (BatchError, OutputFailed))
        keep = kind is None or (self.written > 0 and not failed and not self.whole)
        try:
            if kind is None:
                self.stream.close()  # an error here (a full disk) is the run's error
            else:
                with contextlib.suppress(OSError, ValueError):
                    self.stream.close()
                if keep:  # whole chunks only: a chunk being written when stopped is cut
                    os.truncate(self.temp, self.written)
            if keep:
                os.replace(self.temp, self.target)
                self.temp = None
        except OSError as exc:
            if kind is None:
                raise self._failed(exc) from None
        finally:
            if self.temp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(self.temp)


class _Sink:
    """The text stream batch writes to: a write that fails (a full disk) is OutputFailed,
    and each flush marks the end of a whole chunk."""

    def __init__(self, output: Output):
        self.output = output

    def write(self, text: str) -> None:
        output = self.output
        if output.stream is None:  # lazy: the run has started
            output.stream = output._open(output.target or output.path, "w")
        try:
            output.stream.write(text)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise output._failed(exc) from None

    def write_utf8(self, data: bytes) -> None:
        """Text already encoded as UTF-8: written as it is where the stream is UTF-8 (saving a
        decoding and an encoding of every byte), else as text."""
        output = self.output
        if output.stream is None:  # lazy: the run has started
            output.stream = output._open(output.target or output.path, "w")
        stream = output.stream
        if output.binary or not _takes_utf8(stream):
            self.write(data.decode("utf-8"))
            return
        try:
            stream.flush()
            stream.buffer.write(data)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise output._failed(exc) from None

    def flush(self) -> None:
        output = self.output
        if output.stream is None:
            return
        try:
            output.stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise output._failed(exc) from None
        if output.temp is not None:
            stream = output.stream
            output.written = (stream if output.binary else stream.buffer).tell()


def _takes_utf8(stream) -> bool:
    """Whether bytes of UTF-8 may go to the text stream's buffer as they are: its encoding is
    UTF-8, strict, and it does not translate line ends."""
    try:
        return (
            codecs.lookup(stream.encoding).name == "utf-8"
            and stream.errors == "strict"
            and os.linesep == "\n"
            and stream.buffer is not None
        )
    except (AttributeError, LookupError, TypeError, ValueError):
        return False


def _hold_interrupts():
    """Hold SIGINT back in this thread (where the platform can): the signal mask to restore."""
    mask = getattr(signal, "pthread_sigmask", None)
    if mask is None or threading.current_thread() is not threading.main_thread():
        return None
    return mask(signal.SIG_BLOCK, {signal.SIGINT})


def _release_interrupts(held) -> None:
    """Restore the mask _hold_interrupts gave; a SIGINT that came meanwhile is raised here
    (pthread_sigmask runs the pending handler before it returns)."""
    if held is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


_UMASK_LOCK = threading.Lock()


def umask() -> int:
    """The process's umask. Reading it means setting it and back, so two threads (parts on a
    Dask worker) must not do it at once: one would read the other's stand-in and keep it."""
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask
