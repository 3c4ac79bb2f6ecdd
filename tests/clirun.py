"""Run `cli.main` in-process with its standard streams captured (what a user's shell sees)."""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass

from dezero_cli.cli import main


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str


def run(argv: list[str], stdin: bytes | None = None) -> Outcome:
    """`dezero ARGV...` with `stdin` as standard input (None: standard input is closed)."""
    saved = sys.stdin, sys.stdout, sys.stderr
    out, err = io.BytesIO(), io.BytesIO()
    sys.stdin = None if stdin is None else io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    sys.stdout = io.TextIOWrapper(out, encoding="utf-8", errors="backslashreplace")
    sys.stderr = io.TextIOWrapper(err, encoding="utf-8", errors="backslashreplace")
    try:
        code = main(list(argv))
        sys.stdout.flush()
        sys.stderr.flush()
        return Outcome(code, out.getvalue().decode("utf-8"), err.getvalue().decode("utf-8"))
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
