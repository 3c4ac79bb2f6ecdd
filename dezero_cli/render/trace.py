"""`--trace`: the forward and backward steps as JSON, plain text and rich tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass

from .matrices import FEWEST_DIGITS
from .numbers import format_array, to_json

TRACE_ENDS = 15  # on a terminal, a longer section shows its first and last TRACE_ENDS steps


def trace_record(trace) -> dict:
    """A trace as JSON: every step, never elided."""

    def step(s) -> dict:
        out = {
            "function": s.function,
            "generation": s.generation,
            "inputs": [to_json(x) for x in s.inputs],
            "output": to_json(s.output),
        }
        if s.gx is not None:
            out["gy"] = to_json(s.gy)
            out["gx"] = [None if g is None else to_json(g) for g in s.gx]
        if s.output_index is not None:
            out["pass"] = s.output_index
        return out

    return {
        "forward": [step(s) for s in trace.forward],
        "backward": [step(s) for s in trace.backward],
        "first_pass_only": trace.first_pass_only,
    }


def trace_sections(trace, digits: int | None = None) -> list[tuple[str, list[str], list[list]]]:
    """(title, column names, a row of cell texts per step) of the forward and the backward
    section; a gx of None (a constant's: it receives none) is `-`."""

    def numbers(arrays) -> str:
        return ", ".join("-" if a is None else format_array(a, digits=digits) for a in arrays)

    def steps(n: int) -> str:
        return f"{n} step{'s' if n != 1 else ''}"

    forward = [
        [str(k), s.function, str(s.generation), numbers(s.inputs), numbers([s.output])]
        for k, s in enumerate(trace.forward, start=1)
    ]
    passes = any(s.output_index is not None for s in trace.backward)
    backward = [
        [str(k)]
        + ([f"f[{s.output_index}]"] if passes else [])
        + [s.function, str(s.generation), numbers(s.inputs), numbers([s.output])]
        + [numbers([s.gy]), numbers(s.gx)]
        for k, s in enumerate(trace.backward, start=1)
    ]
    order = "in the order backward() pops them, latest generation first"
    if passes:
        order += "; one pass per output, each from its own output"
    if trace.first_pass_only:
        order += (
            "; the first backward pass only (--order N differentiates the graph it records "
            "again, untraced)"
        )
    columns = ["#", "function", "generation", "inputs", "output"]
    back_columns = ["#", *(["pass"] if passes else []), *columns[1:], "gy", "gx"]
    return [
        (f"forward: {steps(len(forward))}, in the order they ran", columns, forward),
        (f"backward: {steps(len(backward))}, {order}", back_columns, backward),
    ]


def render_trace_text(trace) -> str:
    """Every step as aligned columns, a blank line and a title before each section."""
    return "".join(
        "\n" + _columns_text(title, columns, cells)
        for title, columns, cells in trace_sections(trace)
    )


def _columns_text(title: str, columns: list[str], cells: list[list[str]]) -> str:
    table = [columns, *cells]
    widths = [max(len(row[j]) for row in table) for j in range(len(columns))]
    lines = [title, *("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in table)]
    return "\n".join(lines) + "\n"


def render_trace_rich(trace, width: int = 80, digits: int | None = None):
    """The trace as tables for a terminal `width` columns wide. A long section shows its first
    and last steps and says how many it leaves out. A number is never cut: several in a cell
    wrap between them, and where that does not fit, all are rounded alike to the most digits
    that fit (and it says so), or else the section is listed as lines."""
    from rich.console import Group
    from rich.text import Text

    tries = [digits] if digits is not None else [None, *range(16, FEWEST_DIGITS - 1, -1)]
    parts = []
    for k, _ in enumerate(trace_sections(trace)):
        for n in tries:
            title, columns, cells = trace_sections(trace, n)[k]
            if _least_width(columns, _elided(cells, len(columns))[0]) <= width:
                note = None
                if digits is None and n is not None:
                    note = f"rounded to {n} significant digits to fit"
                parts.append(_trace_table(title, columns, cells, note, width))
                break
        else:
            title, columns, cells = trace_sections(trace, digits)[k]
            parts.append(Text(_columns_text(title, columns, _elided(cells, len(columns))[0])))
    return Group(*parts)


def _least_width(columns: list[str], cells: list[list[str]]) -> int:
    """The narrowest a trace table can be without cutting a word (a number), padding and
    borders included."""
    return sum(_least_columns(columns, cells)) + 3 * len(columns) + 1


def _least_columns(columns: list[str], cells: list[list[str]]) -> list[int]:
    """Each column as wide as its header and its longest word."""
    return [
        max(len(name), *(max(map(len, row[j].split()), default=0) for row in cells))
        for j, name in enumerate(columns)
    ]


def _column_widths(columns: list[str], cells: list[list[str]], width: int) -> list[int]:
    """Widths that fit a table in `width` columns (it must fit at its least): each column its
    longest word, then the room left given to the columns, in order, up to their longest cell.
    Set explicitly, so that rich never shrinks a column below a word."""
    least = _least_columns(columns, cells)
    natural = [max(len(name), *(len(row[j]) for row in cells)) for j, name in enumerate(columns)]
    room = width - (3 * len(columns) + 1) - sum(least)
    widths = []
    for a, b in zip(least, natural):
        grow = min(b - a, max(room, 0))
        room -= grow
        widths.append(a + grow)
    return widths


def _elided(cells: list[list[str]], width: int) -> tuple[list[list[str]], int]:
    """The first and last TRACE_ENDS rows of a long section with a row of `...` between them,
    and how many rows that leaves out."""
    if len(cells) <= 2 * TRACE_ENDS + 1:
        return cells, 0
    return [*cells[:TRACE_ENDS], ["..."] * width, *cells[-TRACE_ENDS:]], len(cells) - 2 * TRACE_ENDS


def _trace_table(title: str, columns: list[str], cells: list[list[str]], note, width: int):
    from rich.markup import escape
    from rich.table import Table

    cells, left_out = _elided(cells, len(columns))
    widths = _column_widths(columns, cells, width)
    notes = [note] if note else []
    if left_out:
        notes.append(f"{left_out} steps in the middle not shown")
    caption = None
    if notes:
        caption = "; ".join(notes) + ": every step and digit with --format json, or piped"
    table = Table(title=escape(title), title_justify="left", caption=caption,
                  caption_justify="left")  # fmt: skip
    for name, column_width in zip(columns, widths):
        # Several numbers in a cell wrap between them; one number is never cut.
        table.add_column(
            name,
            style="bold" if name in ("output", "gx") else None,
            overflow="fold",
            width=column_width,
            justify="right" if name in ("#", "generation") else "left",
        )
    for row in cells:
        table.add_row(*(escape(cell) for cell in row))  # `[nan, 1.0]` is no markup
    return table
