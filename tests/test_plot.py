"""dezero plot: files read back (PNG pixels, SVG as XML), the terminal as a person sees it
(tmux at 80x24), where curves break and what the y-range shows, the errors, and what a plot
costs the other commands (nothing: they never import the plotting libraries)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from dezero_cli import plot as plotting

needs_matplotlib = pytest.mark.requires_module("matplotlib", extra="plot")
needs_plotext = pytest.mark.requires_module("plotext", extra="plot")
WAVE = "sin(x)*exp(-x^2/4)"
# matplotlib's first three colours (C0, C1, C2): f, df/dx, d2f/dx2.
COLOURS = {"f": (31, 119, 180), "df/dx": (255, 127, 14), "d2f/dx2": (44, 160, 44)}


def error(outcome) -> str:
    assert (outcome.code, outcome.stdout) == (2, ""), outcome
    assert outcome.stderr.count("\n") == 1 and outcome.stderr.startswith("error: "), outcome
    return outcome.stderr[len("error: ") : -1]


# ---- Files -----------------------------------------------------------------------------------


@needs_matplotlib
def test_a_png_shows_each_curve_in_its_colour(tmp_path, dezero):
    import matplotlib.image

    path = tmp_path / "wave.png"
    outcome = dezero("plot", WAVE, "--x", "-6:6", "--order", "2", "-o", str(path))
    assert (outcome.code, outcome.stdout, outcome.stderr) == (0, "", "")
    pixels = (matplotlib.image.imread(path)[:, :, :3] * 255).round()
    for name, colour in COLOURS.items():
        near = np.all(np.abs(pixels - colour) <= 8, axis=2)
        # A curve across the axes is hundreds of pixels; its legend sample is a few dozen.
        assert near.sum() > 500, name


@needs_matplotlib
def test_an_svg_has_one_path_per_curve_and_the_legend_texts(tmp_path, dezero):
    path = tmp_path / "wave.svg"
    assert dezero("plot", WAVE, "--x", "-6:6", "--order", "2", "-o", str(path)).code == 0
    root = ET.parse(path).getroot()
    paths = [e.get("style", "") for e in root.iter("{http://www.w3.org/2000/svg}path")]
    texts = [e.text for e in root.iter("{http://www.w3.org/2000/svg}text")]
    for name, colour in COLOURS.items():
        stroke = "stroke: #{:02x}{:02x}{:02x}".format(*colour)
        assert sum(stroke in style for style in paths) == 2, name  # the curve and its legend line
        assert texts.count(name) == 1, name
    assert WAVE in texts  # the title


@needs_matplotlib
def test_a_pdf_is_written(tmp_path, dezero):
    path = tmp_path / "wave.pdf"
    assert dezero("plot", WAVE, "--x", "-6:6", "-o", str(path)).code == 0
    assert path.read_bytes().startswith(b"%PDF-")


@needs_matplotlib
def test_values_that_are_not_finite_are_gaps_not_a_crash(tmp_path, dezero):
    path = tmp_path / "log.png"
    outcome = dezero("plot", "log(x)", "--x", "-1:1:0.5", "--order", "2", "-o", str(path))
    assert outcome.code == 0 and path.stat().st_size > 1000
    assert outcome.stderr.startswith("warning: log gave nan")
    # Nothing finite at all still draws (empty axes).
    assert dezero("plot", "log(x)", "--x", "-2:-1", "-o", str(path)).code == 0


@needs_matplotlib
def test_two_variables_over_a_grid_give_a_heatmap_per_partial(tmp_path, dezero):
    path = tmp_path / "surface.svg"
    argv = ["x*y*exp(-x^2-y^2)", "--x", "-2:2:0.1", "--y", "-1:1:0.1", "--grid"]
    assert dezero("plot", *argv, "-o", str(path)).code == 0
    root = ET.parse(path).getroot()
    texts = [e.text for e in root.iter("{http://www.w3.org/2000/svg}text")]
    for title in ("f", "df/dx", "df/dy"):
        assert texts.count(title) == 1
    assert error(dezero("plot", *argv)) == (
        "a heatmap over two variables is written to a file: add -o plot.png"
    )


# ---- The terminal ----------------------------------------------------------------------------


def tmux_screen(command: str, tmp_path, env: str = "") -> str:
    """What a person sees after `dezero COMMAND` in tmux at 80x24 (a private server)."""
    socket = f"dezero-plot-test-{os.getpid()}"
    tmux = ["tmux", "-L", socket, "-f", "/dev/null"]
    shell = f"cd {tmp_path}; {env} {sys.executable} -m dezero_cli {command}; sleep 60"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TMUX")}
    clean.pop("COLUMNS", None)
    clean.pop("LINES", None)
    clean.pop("NO_COLOR", None)
    clean["TERM"] = "xterm-256color"
    subprocess.run(
        [*tmux, "new-session", "-d", "-x", "80", "-y", "24", shell], env=clean, check=True
    )
    try:
        deadline = time.monotonic() + 60
        screen = ""
        while time.monotonic() < deadline:
            time.sleep(0.3)
            screen = subprocess.run(
                [*tmux, "capture-pane", "-p", "-e"], capture_output=True, text=True, env=clean
            ).stdout
            if "└" in screen:  # the bottom of the last panel: the plot is out
                time.sleep(0.3)
                screen = subprocess.run(
                    [*tmux, "capture-pane", "-p", "-e"], capture_output=True, text=True, env=clean
                ).stdout
                break
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True, env=clean)
    return screen


def plain(screen: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", screen)


@needs_plotext
@pytest.mark.requires_tool("tmux")
def test_a_terminal_plot_fits_80x24_with_axes_and_every_curve(tmp_path):
    screen = tmux_screen(f"plot '{WAVE}' --x -6:6", tmp_path)
    lines = plain(screen).rstrip("\n").split("\n")
    assert len(lines) <= 24 and max(len(line) for line in lines) <= 80
    text = "\n".join(lines)
    assert WAVE in lines[0] and "── f" in lines[1] and "── df/dx" in lines[1]
    assert text.count("┌") == 1 and text.count("└") == 1  # one panel: the curves compare
    assert "┤" in text and "┬" in text  # y and x ticks
    assert "-6" in lines[-1] and "6" in lines[-1].split()[-1]
    # Each curve in its own colour, each drawn (braille dots in that colour).
    colours = {code for code in ("38;5;12m", "38;5;3m") if f"\x1b[{code}" in screen}
    assert len(colours) == 2
    assert "\x1b[48;" not in screen  # no painted background: the terminal's own


@needs_plotext
@pytest.mark.requires_tool("tmux")
def test_no_color_gives_each_curve_its_own_marker(tmp_path):
    screen = tmux_screen(f"plot '{WAVE}' --x -6:6 --order 2", tmp_path, env="NO_COLOR=1")
    assert "\x1b[" not in screen.replace("\x1b[0m", "").replace("\x1b[39m", "")
    lines = screen.rstrip("\n").split("\n")
    assert lines[1].split() == ["••", "f", "++", "df/dx", "xx", "d2f/dx2"]
    canvas = "\n".join(lines[3:-2])
    assert all(canvas.count(marker) > 20 for marker in "•+x")


@needs_plotext
def test_piped_it_is_plain_text_of_columns_by_lines(dezero):
    outcome = dezero(
        "plot", "x^2", "--x", "-1:1", "--order", "0", env={"COLUMNS": "40", "LINES": "12"}
    )
    assert outcome.code == 0 and "\x1b" not in outcome.stdout
    assert outcome.stdout == (
        "                  x^2\n"
        "     •• f\n"
        "    ┌──────────────────────────────────┐\n"
        "1.00┤•                                •│\n"
        "    │•••                            •••│\n"
        "0.75┤  •••                        •••  │\n"
        "0.50┤    •••                    •••    │\n"
        "0.25┤      •••                •••      │\n"
        "    │         •••••      •••••         │\n"
        "   0┤             ••••••••             │\n"
        "    └┬───────┬────────┬───────┬───────┬┘\n"
        "     -1.0   -0.5      0      0.5    1.0\n"
    )


@needs_plotext
def test_derivatives_far_bigger_than_f_get_their_own_panels(dezero):
    out = dezero("plot", "sin(10*x)", "--x", "0:1", "--order", "2", env={"LINES": "40"}).stdout
    assert out.count("┌") == 3  # f, df/dx (10 times f), d2f/dx2 (100 times f)
    shared = dezero("plot", WAVE, "--x", "-6:6", "--order", "2", env={"LINES": "40"}).stdout
    assert shared.count("┌") == 1


# ---- Breaks and the y-range --------------------------------------------------------------------


def test_one_over_x_breaks_at_the_pole_and_the_pole_does_not_flatten_the_rest():
    x = np.linspace(-1, 1, 400)  # no point at 0: the values jump from -200 to 200
    y = 1 / x
    low, high = plotting.view([y])
    assert 10 < high < 100 and -100 < low < -10  # the hyperbola's body shows
    parts = plotting.runs(y, low, high)
    assert [(p.start, p.stop) for p in parts] == [(0, 200), (200, 400)]
    # Its derivative is one curve with a spike, and is not broken.
    assert len(plotting.runs(-1 / x**2, *plotting.view([-1 / x**2]))) == 1


def test_a_pole_between_points_inside_the_view_breaks_by_the_slope():
    y = np.tan(np.linspace(0.5, 2.5, 5))  # 0.55, 1.56, 14.1 | -2.19, -0.75: pi/2 between
    assert [(p.start, p.stop) for p in plotting.runs(y, -20.0, 20.0)] == [(0, 3), (3, 5)]
    steep = np.tanh(50 * np.linspace(-1, 1, 101))  # steep but continuous: one run
    assert len(plotting.runs(steep, -1.1, 1.1)) == 1


def test_non_finite_values_split_runs():
    y = np.array([1.0, 2.0, np.nan, 3.0, np.inf, 4.0, 5.0])
    assert [(p.start, p.stop) for p in plotting.runs(y, 0, 6)] == [(0, 2), (3, 4), (5, 7)]
    assert plotting.view([np.array([np.nan])]) == (-1.0, 1.0)
    assert plotting.view([np.array([2.0, 2.0])]) == (1.0, 3.0)


def test_nice_ticks_and_their_labels():
    assert plotting.nice_ticks(-6, 6, 7) == [-6, -4, -2, 0, 2, 4, 6]
    assert plotting.tick_labels([-0.5, 0.0, 0.5]) == ["-0.5", "0", "0.5"]
    assert plotting.tick_labels([0.0, 2.5, 5.0]) == ["0", "2.5", "5.0"]


# ---- Errors ----------------------------------------------------------------------------------

NO_RANGE = "plot draws over a range: give one variable as --NAME START:STOP[:STEP] (--x -3:3, say)"
ERRORS = [
    (["x"], NO_RANGE),
    (["x", "--x", "1"], NO_RANGE),
    (
        ["x*y", "--x", "0:1", "--y", "0:1"],
        "plot draws over one variable, but x and y both have several values: give one a number, "
        "or add --grid for a heatmap over both",
    ),
    (
        ["x*y*z", "--x", "0:1", "--y", "0:1", "--z", "1,2", "--grid"],
        "plot draws over one variable, or two with --grid, but x, y, z all have several values: "
        "give the others one number each",
    ),
    (
        ["x", "--x", "1:0:0.5"],
        "the range '1:0:0.5' for x steps up from 1 and never reaches 0: the step needs the other "
        "sign (1:0:-0.5)",
    ),
    (
        ["x", "--x", "0:1", "-o", "plot.gif"],
        "cannot tell the kind of file 'plot.gif' from its extension: use .png, .svg or .pdf",
    ),
    (
        ["x", "--x", "0:1", "--order", "11"],
        "Invalid value for '--order': 11 is not in the range 0<=x<=10. (see 'dezero plot --help')",
    ),
]


@pytest.mark.parametrize(("argv", "message"), ERRORS)
def test_errors(argv, message, dezero):
    assert error(dezero("plot", *argv)) == message


@pytest.mark.parametrize(("module", "where", "argv"), [
    ("matplotlib", "to a file", ["-o", "plot.png"]),
    ("plotext", "in the terminal", []),
])  # fmt: skip
def test_a_missing_extra_is_one_line_naming_the_install(module, where, argv, monkeypatch, dezero):
    monkeypatch.setitem(sys.modules, module, None)  # import fails as if it were not installed
    assert error(dezero("plot", "x", "--x", "0:1", *argv)) == (
        f"plotting {where} needs {module}: pip install 'dezero-cli[plot]'"
    )


def test_an_unwritable_file_is_74(tmp_path, dezero):
    pytest.importorskip("matplotlib")
    outcome = dezero("plot", "x", "--x", "0:1", "-o", str(tmp_path / "no" / "plot.png"))
    assert outcome.code == 74 and outcome.stderr.startswith("error: cannot write ")


# ---- What it costs the other commands ---------------------------------------------------------


@needs_plotext
def test_a_terminal_plot_never_imports_matplotlib(dezero_process):
    outcome, imported = dezero_process.imports("plot", "x^2", "--x", "0:1")
    assert outcome.code == 0 and "plotext" in imported
    assert "matplotlib" not in imported


def test_plain_commands_never_import_the_plotting_libraries(dezero_process):
    outcome, imported = dezero_process.imports("grad", "x^2", "--x", "0:1:0.5", "--format", "csv")
    assert outcome.code == 0
    assert not imported & {"matplotlib", "plotext", "rich"}


@needs_plotext
def test_the_readme_shows_what_plot_prints_at_80x24(dezero):
    """The README's terminal plot, as docs/make_pictures.py prints it, is the real output."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8").splitlines()
    start = readme.index('    $ dezero plot "sin(x)*exp(-x^2/4)" --x -6:6 --order 2') + 1
    end = readme.index("", start)
    shown = "".join(line[4:] + "\n" for line in readme[start:end])
    argv = ["plot", WAVE, "--x", "-6:6", "--order", "2"]
    assert dezero(*argv, env={"COLUMNS": "80", "LINES": "24"}).stdout == shown
