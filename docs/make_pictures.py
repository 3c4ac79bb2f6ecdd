"""Regenerate the pictures the README shows: python docs/make_pictures.py

docs/plot.png and docs/surface.png through `dezero plot -o`, and the terminal plot as text
(printed, to paste into the README: tests/test_plot.py checks that the README's copy is what
`dezero plot` prints at 80 x 24).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
WAVE = ["sin(x)*exp(-x^2/4)", "--x", "-6:6", "--order", "2"]
SURFACE = ["x*y*exp(-x^2-y^2)", "--x", "-2:2:0.05", "--y", "-2:2:0.05", "--grid"]
TERMINAL = {"COLUMNS": "80", "LINES": "24"}


def dezero(*argv: str, env: dict | None = None) -> str:
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    proc = subprocess.run(
        [sys.executable, "-m", "dezero_cli", *argv],
        capture_output=True,
        text=True,
        env={**environment, **(env or {})},
        check=True,
    )
    return proc.stdout


def terminal_plot() -> str:
    """What `dezero plot` prints for the README's example, piped at 80 x 24."""
    return dezero("plot", *WAVE, env=TERMINAL)


def main() -> None:
    dezero("plot", *WAVE, "-o", str(DOCS / "plot.png"))
    dezero("plot", *SURFACE, "-o", str(DOCS / "surface.png"))
    print(f'$ dezero plot "{WAVE[0]}" {" ".join(WAVE[1:])}')
    print(terminal_plot(), end="")


if __name__ == "__main__":
    main()
