"""Where batch reads and writes: a local path through os, or a URL that fsspec opens (`s3://`,
`gs://`, `memory://`...: any filesystem the user has installed for fsspec).

An output is whole or absent. A local file is written to a temporary file beside it and renamed
(files.Output); an object store has no rename, so there the output is written to a local
temporary file first and sent in one put, which the store shows only once it is complete.
"""

from __future__ import annotations

import contextlib
import glob
import io
import os
import posixpath
import tempfile

from ..output import OutputFailed
from . import files
from .job import BatchError

DASK_EXTRA = "pip install 'dezero-cli[dask]'"  # Dask, and fsspec for paths that are URLs


def is_url(path: str) -> bool:
    """Whether `path` is a URL for fsspec (`file://` is a local path)."""
    return "://" in path and not path.startswith("file://")


def local(path: str) -> str:
    return path[len("file://") :] if path.startswith("file://") else path


def filesystem(url: str):
    """(fsspec filesystem, path within it) of a URL."""
    try:
        import fsspec.core
    except ImportError:
        raise BatchError(f"{url}: paths that are URLs need fsspec: {DASK_EXTRA}") from None
    try:
        return fsspec.core.url_to_fs(url)
    except ImportError as exc:  # fsspec names the package a protocol needs (s3fs, gcsfs...)
        raise BatchError(f"cannot open {url}: {exc}") from None
    except ValueError as exc:
        raise BatchError(f"cannot open {url}: {exc}") from None


def open_input(path: str):
    """The binary stream to read (a context manager): a file, a URL, or standard input (`-`)."""
    if not is_url(path):
        return files.open_input(local(path))
    fs, where = filesystem(path)
    try:
        stream = fs.open(where, "rb")
    except (OSError, ValueError) as exc:
        raise BatchError(f"cannot read {path}: {_why(exc)}") from None
    if not isinstance(stream, io.BufferedIOBase):  # batch reads lines of a given most length
        stream = io.BufferedReader(stream, buffer_size=1 << 20)
    return stream


@contextlib.contextmanager
def output(path: str, source, whole: bool = False, binary: bool = False):
    """The stream to write `path` (a context manager; `binary` for Parquet), put in place at
    the end.

    A local path is files.Output's (`whole`: a run cut short leaves nothing, never a prefix);
    a URL is always whole: staged in a local temporary file, then sent in one put.
    """
    if not is_url(path):
        with files.Output(local(path), source, binary=binary, whole=whole) as sink:
            yield sink
        return
    fs, where = filesystem(path)
    with tempfile.TemporaryDirectory(prefix="dezero-") as folder:
        staged = os.path.join(folder, posixpath.basename(where.rstrip("/")) or "output")
        with files.Output(staged, None, binary=binary, whole=True) as sink:
            yield sink
        try:
            fs.put_file(staged, where)
        except (OSError, ValueError) as exc:
            raise OutputFailed(f"cannot write {path}: {_why(exc)}") from None


def same_place(a: str, b: str) -> bool:
    """Whether two paths name one file: by identity for local files, by name for URLs."""
    if is_url(a) or is_url(b):
        return is_url(a) and is_url(b) and _url_key(a) == _url_key(b)
    a, b = local(a), local(b)
    with contextlib.suppress(OSError):
        return os.path.samefile(a, b)
    return os.path.realpath(a) == os.path.realpath(b)


def _url_key(url: str) -> str:
    fs, where = filesystem(url)
    return f"{fs.protocol}::{where.rstrip('/')}"


def is_dir(path: str) -> bool:
    if not is_url(path):
        return os.path.isdir(local(path))
    fs, where = filesystem(path)
    try:
        return fs.isdir(where)
    except OSError:
        return False


def has_magic(path: str) -> bool:
    """Whether `path` is a glob pattern."""
    return glob.has_magic(path)


def expand(path: str) -> list[str]:
    """The files a glob pattern matches, in order, as paths or URLs like `path`."""
    if not is_url(path):
        return sorted(p for p in glob.glob(local(path)) if os.path.isfile(p))
    fs, where = filesystem(path)
    found = fs.glob(where, detail=True)
    return [fs.unstrip_protocol(p) for p, info in sorted(found.items()) if info["type"] == "file"]


def listing(path: str) -> list[str]:
    """The files directly in the directory `path`, in order, as paths or URLs like `path`."""
    if not is_url(path):
        folder = local(path)
        return sorted(os.path.join(folder, e.name) for e in os.scandir(folder) if e.is_file())
    fs, where = filesystem(path)
    found = fs.ls(where, detail=True)
    return sorted(fs.unstrip_protocol(e["name"]) for e in found if e["type"] == "file")


def join(folder: str, name: str) -> str:
    if is_url(folder):
        return folder.rstrip("/") + "/" + name
    return os.path.join(local(folder), name)


def parent(path: str) -> str:
    """The directory holding `path`."""
    if is_url(path):
        return path.rstrip("/").rsplit("/", 1)[0]
    return os.path.dirname(os.path.abspath(local(path)))


def absolute(path: str) -> str:
    """`path` as workers elsewhere see it: absolute, when it is local."""
    return path if is_url(path) else os.path.abspath(local(path))


def make_dir(path: str) -> None:
    try:
        if is_url(path):
            fs, where = filesystem(path)
            fs.makedirs(where, exist_ok=True)
        else:
            os.makedirs(local(path), exist_ok=True)
    except OSError as exc:
        raise BatchError(f"cannot make the directory {path}: {_why(exc)}") from None


def stamp(path: str) -> list | None:
    """[size, modification time] of a file, to tell a changed input; None when unknown."""
    try:
        if not is_url(path):
            info = os.stat(local(path))
            return [info.st_size, info.st_mtime_ns]
        fs, where = filesystem(path)
        info = fs.info(where)
    except (OSError, ValueError, BatchError):
        return None
    modified = info.get("mtime") or info.get("LastModified") or info.get("created")
    return [info.get("size"), str(modified) if modified is not None else None]


def size(path: str) -> int | None:
    """The size of a file in bytes, or None when there is none."""
    found = stamp(path)
    return None if found is None else found[0]


def read_text(path: str) -> str | None:
    """The text of a file, or None when there is none."""
    try:
        if not is_url(path):
            with open(local(path), encoding="utf-8") as f:
                return f.read()
        fs, where = filesystem(path)
        return fs.cat_file(where).decode("utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise BatchError(f"cannot read {path}: {_why(exc)}") from None


def write_text(path: str, text: str) -> None:
    """Replace a file with `text`, whole: a rename, or one put."""
    try:
        if is_url(path):
            fs, where = filesystem(path)
            fs.pipe_file(where, text.encode("utf-8"))
            return
        target = local(path)
        fd, temp = tempfile.mkstemp(
            prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=os.path.dirname(target)
        )
        try:
            with contextlib.suppress(OSError):
                os.chmod(temp, 0o666 & ~files.umask())
            with open(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(temp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
    except OSError as exc:
        raise OutputFailed(f"cannot write {path}: {_why(exc)}") from None


def remove_leftovers(folder: str, name: str) -> None:
    """Delete the temporary files a process killed while writing `name` left beside it."""
    if is_url(folder):
        return  # an object store is written in one put: nothing is left
    pattern = os.path.join(glob.escape(local(folder)), f".{glob.escape(name)}.*.tmp")
    for temp in glob.glob(pattern):
        with contextlib.suppress(OSError):
            os.unlink(temp)


def _why(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
