"""DOT text to a file: as text, or drawn by Graphviz's `dot` program (run without a shell)."""

from __future__ import annotations

import os
import shutil
import subprocess

from .errors import DezeroError
from .output import Guarded

RENDERED = ("png", "svg", "pdf")
TEXT = ("dot", "gv")


class GraphvizMissing(DezeroError):
    """Rendering needs Graphviz's `dot` program and it is not installed."""


def output_kind(path: str) -> str:
    """`dot` for DOT text, or the Graphviz output format named by the file's extension."""
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    if ext in TEXT:
        return "dot"
    if ext in RENDERED:
        return ext
    known = ", ".join(f".{e}" for e in TEXT + RENDERED)
    raise DezeroError(f"cannot tell what to write to {path!r}: use one of {known}")


def write_graph(dot_text: str, path: str) -> None:
    """Write `dot_text` to `path`, through Graphviz when the extension asks for a picture.

    A path that cannot be opened is an unusable argument (exit 2); a file that opened but
    could not be written (a full disk) is OutputFailed (exit 74), as for standard output.
    """
    kind = output_kind(path)
    try:
        if kind == "dot":
            out = Guarded(open(path, "w", encoding="utf-8"), repr(path))  # noqa: SIM115
            with out:
                out.write(dot_text)
            return
        program = shutil.which("dot")
        if program is None:
            raise GraphvizMissing(
                f"writing {path!r} needs Graphviz's 'dot' program, which is not installed: "
                "install Graphviz (e.g. 'apt install graphviz') or write DOT text with -o FILE.dot"
            )
        done = subprocess.run(
            [program, f"-T{kind}", "-o", path],
            input=dot_text.encode("utf-8"),
            capture_output=True,
            check=False,
        )
    except OSError as exc:
        raise DezeroError(f"cannot write {path!r}: {exc.strerror or exc}") from None
    if done.returncode != 0:
        why = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise DezeroError(
            f"Graphviz failed to write {path!r}: {why[-1] if why else 'no reason given'}"
        )
