"""`dezero plot`: f and its derivatives over a range, drawn in the terminal through plotext or
written to a file through matplotlib. Neither is imported until a plot is drawn, and both come
with the optional extra `plot`.

What to draw is decided here, apart from either library, as plain data (`Figure`): the curves,
which share a panel, the y-range of each panel, and where a curve breaks. Then one function per
backend draws it.

- The y-range comes from the finite values, robustly: the 2nd to 98th percentile, widened by
  half that span on each side, never beyond the values themselves. A pole (1/x at 0) does not
  flatten the rest; its curve runs off the axes and is clipped there.
- A curve breaks where a value is not finite, and between two points where it jumps rather
  than moves: from beyond the top to beyond the bottom of the axes, or by more than a
  twentieth of the axes against the slope on both sides, the step before and the step after
  (1/x across 0, tan across pi/2).
- Curves share one set of axes when their ranges are within a factor of 10 of each other, so
  that they can be compared directly; otherwise each order gets its own panel, stacked over a
  shared x axis, as a shared y axis would flatten the smaller ones (sin(10x): f'' is 100 f).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np

from .diagnostics import label
from .errors import DezeroError

FILE_POINTS = 400  # points of a range without a step, for a file
SHARED_SCALE = 10  # curves within this factor of each other's range share axes
QUANTILES = (0.02, 0.98)
JUMP = 0.05  # of the axes' height: a step against the derivative's sign this big breaks
FILE_KINDS = (".png", ".svg", ".pdf")
HUGE = 1e300  # values are drawn as at most this big: their differences stay finite
EXTRA = "pip install 'dezero-cli[plot]'"
# Curves' colours in the terminal (plotext's names), and their markers without colour.
TERMINAL_COLORS = ("blue+", "orange", "green+", "magenta+", "cyan+", "red+")
MARKERS = ("•", "+", "x", "o", "*", "#", "%", "@", "=", "~", "^")


class PlotProblem(DezeroError):
    """A plot that cannot be drawn as asked (exit 2)."""


@dataclass
class Curve:
    label: str  # f, df/dx, d2f/dx2
    y: np.ndarray


@dataclass
class Panel:
    curves: list[Curve]
    low: float
    high: float


@dataclass
class Figure:
    """A line plot: curves over x, in panels that share x."""

    title: str
    xname: str
    x: np.ndarray
    panels: list[Panel] = field(default_factory=list)


@dataclass
class Surface:
    """f (and partials) of two variables over a grid: values[k] has shape (len(x), len(y))."""

    title: str
    names: tuple[str, str]
    x: np.ndarray
    y: np.ndarray
    labels: list[str]
    values: list[np.ndarray]


def order_labels(name: str, order: int) -> list[str]:
    """f, df/dx, d2f/dx2, ... up to `order`."""
    return ["f", *(label((name,) * k) for k in range(1, order + 1))]


def line_figure(title: str, name: str, x: np.ndarray, ys: list[np.ndarray]) -> Figure:
    """The Figure of f and its derivatives, `ys` in order: f, df/dx, d2f/dx2, ..."""
    labels = order_labels(name, len(ys) - 1)
    x = _real(x)
    order = np.argsort(x, kind="stable")  # a list's points, left to right
    curves = [Curve(text, np.broadcast_to(_real(y), x.shape)[order]) for text, y in zip(labels, ys)]
    figure = Figure(title, name, x[order])
    for group in panel_groups(curves):
        low, high = view([c.y for c in group])
        figure.panels.append(Panel(group, low, high))
    return figure


def x_limits(x: np.ndarray) -> tuple[float, float]:
    """The x axis's ends: the points' own, or a unit around a single one."""
    low, high = float(np.min(x)), float(np.max(x))
    if high > low and math.isfinite(high - low):
        return low, high
    pad = abs(low) * 0.5 or 1.0
    return low - pad, high + pad


def _real(y: np.ndarray) -> np.ndarray:
    return np.asarray(y, dtype=np.float64).reshape(-1)


def panel_groups(curves: list[Curve]) -> list[list[Curve]]:
    """All curves together when their ranges are within SHARED_SCALE of each other; else one
    panel each. A curve that is 0 everywhere fits with any other."""
    scales = [s for s in (scale(c.y) for c in curves) if s > 0]
    if not scales or max(scales) <= SHARED_SCALE * min(scales):
        return [curves]
    return [[c] for c in curves]


def scale(y: np.ndarray) -> float:
    """How big a curve is: the span of its central values, or its typical size if flat."""
    finite = y[np.isfinite(y)]
    if finite.size == 0:
        return 0.0
    low, middle, high = np.quantile(finite, [QUANTILES[0], 0.5, QUANTILES[1]])
    return float(max(high - low, abs(middle)))


def view(ys: list[np.ndarray]) -> tuple[float, float]:
    """The y-range that shows these curves: the central values widened by half their span on
    each side, no further than the values reach; never empty."""
    finite = np.concatenate([y[np.isfinite(y)] for y in ys]) if ys else np.zeros(0)
    if finite.size == 0:
        return -1.0, 1.0
    finite = np.clip(finite, -HUGE, HUGE)  # so that spans and margins stay finite
    low, high = (float(q) for q in np.quantile(finite, QUANTILES))
    margin = 0.5 * (high - low)
    low = max(low - margin, float(finite.min()))
    high = min(high + margin, float(finite.max()))
    if not high > low:  # flat: a band around it
        pad = abs(low) * 0.5 or 1.0
        return low - pad, high + pad
    pad = 0.05 * (high - low)
    return low - pad, high + pad


def runs(y: np.ndarray, low: float, high: float) -> list[slice]:
    """The stretches of `y` to draw as connected lines, broken where a value is not finite, at
    a jump from beyond one edge of the view to beyond the other, and at a step bigger than
    JUMP of the view whose sign is against the slope on both sides of it (the step before, and
    the step after): a pole, as 1/x's at 0, or a jump."""
    n = y.size
    finite = np.isfinite(y)
    with np.errstate(all="ignore"):
        step = np.diff(y)
        across = ((y[:-1] > high) & (y[1:] < low)) | ((y[:-1] < low) & (y[1:] > high))
        broken = ~(finite[:-1] & finite[1:]) | across
        if n > 3:
            before = np.concatenate([[np.nan], step[:-1]])  # the step into point i
            after = np.concatenate([step[1:], [np.nan]])  # the step out of point i + 1
            against = (step * before < 0) & (step * after < 0)
            broken |= against & (np.abs(step) > JUMP * (high - low))
    out = []
    start = None
    for i in range(n):
        if finite[i] and start is None:
            start = i
        if start is not None and (i == n - 1 or broken[i]):
            if finite[i]:
                out.append(slice(start, i + 1))
            start = None
    return out


def nice_ticks(low: float, high: float, count: int) -> list[float]:
    """About `count` round tick positions (1, 2 or 5 times a power of ten apart) in [low, high]."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low]
    raw = (high - low) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(low / step - 1e-9)
    last = math.floor(high / step + 1e-9)
    return [i * step for i in range(first, last + 1)]


def tick_labels(ticks: list[float]) -> list[str]:
    """Ticks written as short as their spacing allows (never -0)."""
    if len(ticks) < 2:
        return [f"{t:.3g}" for t in ticks]
    step = ticks[1] - ticks[0]
    big = max(abs(t) for t in ticks)
    if big >= 1e5 or big < 1e-3:
        return [f"{t:.2g}" if abs(t) >= step / 2 else "0" for t in ticks]
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    if step * 10**decimals % 1 > 1e-6:  # 2.5
        decimals += 1
    return [f"{t:.{decimals}f}" if abs(t) >= step / 2 else "0" for t in ticks]


# ---- The terminal, through plotext --------------------------------------------------------


def terminal_text(figure: Figure, width: int, height: int, color: bool) -> str:
    """The figure drawn with plotext, `width` x `height` characters: the title, then each panel
    with a legend line over it. With `color` False, no terminal codes, and each curve its own
    marker."""
    plt = _import("plotext", "in the terminal")
    title = _fit(figure.title, width)
    parts = [plt.colorize(title.center(width))]
    k = len(figure.panels)
    room = max(height - 1 - k, 5 * k)  # title, and a legend line a panel
    heights = [room // k + (1 if i < room % k else 0) for i in range(k)]
    # Every panel's y labels padded to one width, so that the panels' x axes line up.
    yticks = [
        nice_ticks(p.low, p.high, max(3, min(6, rows // 2)))
        for p, rows in zip(figure.panels, heights)
    ]
    ylabels = [tick_labels(t) for t in yticks]
    pad = max(len(text) for labels in ylabels for text in labels)
    first, last = x_limits(figure.x)
    xt = nice_ticks(first, last, max(3, min(8, width // 10)))
    number = 0
    for p, (panel, rows) in enumerate(zip(figure.panels, heights)):
        legend = plt.colorize(" " * (pad + 1))
        plt.figure.clear()
        plt.figure.theme("simple")  # the terminal's own colours, but for the curves
        plt.figure.plot_size(width, rows)
        for curve in panel.curves:
            marker, pixel = _terminal_look(plt, number, color)
            number += 1
            sample = "──" if color else marker * 2
            legend = legend + plt.colorize(f"{sample} {curve.label}    ", pixel)
            y = np.clip(curve.y, *_beyond(panel))
            for part in runs(curve.y, panel.low, panel.high):
                signal = plt.figure.signal(
                    figure.x[part].tolist(), y[part].tolist(), marker=plt.marker(marker, pixel)
                )
                signal.lines()
                plt.figure.draw(signal)
        plt.figure.ruler("y").lim(panel.low, panel.high)
        plt.figure.ruler("x").lim(first, last)
        if p == k - 1:
            plt.figure.ruler("x").ticks(xt, tick_labels(xt))
        else:  # the panels share x: its ticks once, under the last
            plt.figure.ruler("x").ticks([])
        plt.figure.ruler("y").ticks(yticks[p], [text.rjust(pad) for text in ylabels[p]])
        parts.append(legend)
        parts.append(plt.figure.build())
    whole = parts[0]
    for part in parts[1:]:
        whole = whole / part
    text = whole.string(colorless=not color)
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def _beyond(panel: Panel) -> tuple[float, float]:
    """Where to clip values, just past the view, so that the library draws them to its edge."""
    pad = panel.high - panel.low
    return panel.low - pad, panel.high + pad


def _terminal_look(plt, number: int, color: bool):
    if color:
        return "braille", plt.pixel(foreground=TERMINAL_COLORS[number % len(TERMINAL_COLORS)])
    return MARKERS[number % len(MARKERS)], None


def _fit(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


# ---- A file, through matplotlib -----------------------------------------------------------


def output_kind(path: str) -> str:
    """The file's kind from its extension (.png, .svg, .pdf); PlotProblem for any other."""
    kind = os.path.splitext(path)[1].lower()
    if kind not in FILE_KINDS:
        raise PlotProblem(
            f"cannot tell the kind of file {path!r} from its extension: use .png, .svg or .pdf"
        )
    return kind


def write_figure(figure: Figure, path: str) -> None:
    """The line figure as a PNG, SVG or PDF file at `path`."""
    plt = _pyplot()
    k = len(figure.panels)
    fig, axes = plt.subplots(
        k, 1, sharex=True, figsize=(8, 1.6 + 2.6 * k), squeeze=False, layout="constrained"
    )
    number = 0
    for ax, panel in zip(axes[:, 0], figure.panels):
        for curve in panel.curves:
            parts = runs(curve.y, panel.low, panel.high)
            xs, ys = _gapped(figure.x, parts), _gapped(curve.y, parts)
            ax.plot(xs, ys, color=f"C{number}", label=curve.label, linewidth=1.6)
            number += 1
        ax.set_ylim(panel.low, panel.high)
        ax.axhline(0, color="0.75", linewidth=0.8, zorder=0)
        ax.grid(True, color="0.92")
        ax.legend(loc="best", frameon=True, framealpha=0.9)
    axes[-1, 0].set_xlabel(figure.xname)
    axes[-1, 0].set_xlim(*x_limits(figure.x))
    fig.suptitle(figure.title)
    _save(fig, path)


def _gapped(values: np.ndarray, parts: list[slice]) -> np.ndarray:
    """The runs of `values` joined with a nan between each two, so that a line breaks there."""
    pieces = []
    for part in parts:
        if pieces:
            pieces.append(np.array([np.nan]))
        pieces.append(values[part])
    return np.concatenate(pieces) if pieces else np.array([np.nan])


def write_surface(surface: Surface, path: str) -> None:
    """f and its partials over a grid, one heatmap with contour lines each, to `path`."""
    plt = _pyplot()
    k = len(surface.values)
    cols = min(k, 3)
    rows = -(-k // cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(4.2 * cols, 3.6 * rows + 0.6), squeeze=False, layout="constrained"
    )
    for ax in axes.flat[k:]:
        ax.set_visible(False)
    across, up = np.argsort(surface.x, kind="stable"), np.argsort(surface.y, kind="stable")
    xs, ys = surface.x[across], surface.y[up]  # lists' points in order, as the axes run
    for ax, name, z in zip(axes.flat, surface.labels, surface.values):
        z = z[np.ix_(across, up)]
        finite = np.isfinite(z)
        low, high = view([z[finite]]) if finite.any() else (-1.0, 1.0)
        masked = np.ma.masked_invalid(z.T)  # the first variable across, the second up
        cmap = "viridis"
        if low < 0 < high:  # a sign to read: white at 0, red above, blue below
            low, high, cmap = -max(-low, high), max(-low, high), "RdBu_r"
        mesh = ax.pcolormesh(xs, ys, masked, vmin=low, vmax=high, cmap=cmap, shading="nearest")
        if finite.sum() > 3 and min(z.shape) > 1 and np.ptp(z[finite]) > 0:
            ax.contour(
                xs, ys, np.clip(masked, low, high), levels=8, colors="0.25",
                linewidths=0.5, alpha=0.6,
            )  # fmt: skip
        fig.colorbar(mesh, ax=ax)
        ax.set_title(name)
        ax.set_xlabel(surface.names[0])
        ax.set_ylabel(surface.names[1])
    fig.suptitle(surface.title)
    _save(fig, path)


def _save(fig, path: str) -> None:
    import matplotlib

    from .output import OutputFailed

    try:
        # SVG text as text, not as glyph outlines: it can be read, searched and selected.
        with matplotlib.rc_context({"svg.fonttype": "none"}):
            fig.savefig(path, dpi=150)
    except OSError as exc:
        raise OutputFailed(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


def _pyplot():
    matplotlib = _import("matplotlib", "to a file")
    matplotlib.use("Agg")  # files only: no window, whatever the environment says
    import matplotlib.pyplot as plt

    return plt


def _import(module: str, where: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise PlotProblem(f"plotting {where} needs {module}: {EXTRA}") from None
