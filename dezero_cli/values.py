"""Numbers as the user writes them: the value syntax, and which decimals have a faithful float64.

The same rules hold for every spelling of a value: `--x`, `-v x=`, a CSV cell, a JSON field,
and a number inside an expression. A value is one of these kinds (`read_value` says which):

    number   0.5, -1e-3, nan, inf
    list     1,2,3                 a vector, elementwise
    range    START:STOP:STEP       a vector of points; START:STOP where a command picks the step

Another kind goes in `read_value`'s dispatch, beside the range.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .errors import LimitExceeded, ValueProblem
from .limits import DEFAULT_MAX_NODES, value_nodes

if TYPE_CHECKING:
    from decimal import Decimal

_NUMBER = re.compile(
    r"[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|nan)",
    re.IGNORECASE,
)

# STOP is a range's last point when (STOP - START) / STEP is within this of a whole number k:
# then the range has k + 1 points and the last is STOP as written, not START + k*STEP rounded.
WHOLE_STEPS = 1e-9


@dataclass(frozen=True)
class Range:
    """START:STOP:STEP as written: `count` points, point i being START + i*STEP."""

    start: str
    stop: str
    step: str | None  # None: START:STOP spread evenly over `count` points
    count: int
    stop_included: bool  # the last point is STOP itself

    def points(self) -> np.ndarray:
        """The points as float64: each START + i*STEP of the decimals as written, rounded once
        (so 0:1:0.1 has 0.3, not 0.30000000000000004), and STOP exactly when it is one."""
        n = self.count
        if self.step is None:  # spread evenly over n points, START to STOP
            start, stop = float(self.start), float(self.stop)
            x = start + np.arange(n, dtype=np.float64) * ((stop - start) / max(n - 1, 1))
            x[-1] = stop
            return x
        scaled = _scaled_integers(self.start, self.step, n)
        if scaled is not None:
            a, b, scale = scaled
            # a + i*b is an exact integer below 2^53 and scale an exact power of ten, so the
            # one division rounds the exact decimal point to its nearest float64.
            x = (np.arange(n, dtype=np.float64) * b + a) / scale
        else:
            x = float(self.start) + np.arange(n, dtype=np.float64) * float(self.step)
        x[0] = float(self.start)  # -0.0 stays -0.0
        if self.stop_included:
            x[-1] = float(self.stop)
        return x


@dataclass(frozen=True)
class Value:
    """A value as written: its kind (`number`, `list` or `range`), how many numbers it holds,
    and those numbers, made by `array()` (a range only then: its size is known before)."""

    kind: str
    text: str
    size: int
    numbers: np.ndarray | None = None  # number and list
    range: Range | None = None

    def array(self) -> np.ndarray:
        """float64: 0-d for a number, 1-d for a list or a range (also of one point)."""
        if self.range is None:
            return self.numbers
        try:
            return self.range.points()
        except MemoryError:
            raise ValueProblem(
                f"not enough memory for the {self.range.count:,} points of {self.text}"
            ) from None


def read_value(text: str, name: str = "value", points: int | None = None) -> Value:
    """What `text` is (a number, a list or a range), checked, without making a range's points.

    `points` is how many points a range written START:STOP (without STEP) gets; without it,
    such a range is an error.
    """
    if ":" in text:
        return _read_range(text, name, points)
    numbers = parse_numbers(text, name)
    return Value("number" if numbers.ndim == 0 else "list", text, numbers.size, numbers)


def parse_value(text: str, name: str = "value", max_nodes: int | None = DEFAULT_MAX_NODES):
    """A number, a comma-separated list of numbers, or a range START:STOP:STEP, as float64
    (0-d for a single number). A range with more points than `max_nodes` allows (a value of
    n numbers counts 1 + n/64 nodes; None for no limit) is refused before it is made."""
    value = read_value(text, name)
    check_value_size(value, name, max_nodes)
    return value.array()


def check_value_size(value: Value, name: str, max_nodes: int | None, option: str = "--max-nodes"):
    """Refuse a range whose points alone would pass the graph-size limit."""
    if value.range is None or max_nodes is None or value_nodes(value.size) <= max_nodes:
        return
    raise LimitExceeded(
        f"the range {_cut(value.text.strip())!r} for {name} has {value.size:,} points, more "
        f"than the limit allows: a value of n points counts 1 + n/64 graph nodes, and the limit is "
        f"{max_nodes:,} ({option})"
    )


def parse_numbers(text: str, name: str = "value") -> np.ndarray:
    """A number or a comma-separated list of numbers, as float64 (0-d for a single number).

    `nan`, `inf` and `-inf` are taken as written. A finite number that float64 cannot hold
    (`1e400`, or `1e-400`, which would become 0) is an error rather than silently changed.
    """
    items = text.split(",")
    bad = [item for item in items if not _NUMBER.fullmatch(item.strip())]
    if bad:
        what = "an empty item" if not bad[0].strip() else repr(bad[0].strip()[:40])
        shown = text if len(text) <= 60 else text[:57] + "..."
        if len(items) == 1:
            raise ValueProblem(f"value of {name} is not a number: {shown!r}")
        raise ValueProblem(
            f"value of {name} is not a number or a comma-separated list of numbers: "
            f"{shown!r} has {what}"
        )
    numbers = [float(item.strip()) for item in items]  # strip() as above: it also takes \x1f
    for item, x in zip(items, numbers):
        problem = literal_problem(item.strip(), x)
        if problem:
            raise ValueProblem(f"value of {name}: {problem}")
    return np.array(numbers[0] if len(numbers) == 1 else numbers, dtype=np.float64)


def literal_problem(literal: str, x: float) -> str | None:
    """Why a finite decimal `literal` has no faithful float64 `x`, or None when it has one."""
    mantissa = literal.lower().partition("e")[0]
    if math.isinf(x) and "inf" not in mantissa:
        return f"{_cut(literal)} is outside the float64 range (largest about 1.8e308)"
    if x == 0 and any(c in "123456789" for c in mantissa):
        return f"{_cut(literal)} is too small for float64 (it would become 0; smallest 5e-324)"
    return None


def _cut(literal: str) -> str:
    return literal if len(literal) <= 30 else literal[:27] + "..."


def _read_range(text: str, name: str, points: int | None) -> Value:
    """START:STOP:STEP (or START:STOP, spread over `points`), checked and counted."""
    shown = _cut(text.strip())
    if "," in text:
        raise ValueProblem(
            f"value of {name} mixes a list and a range: {shown!r} (give one or the other)"
        )
    parts = [part.strip() for part in text.split(":")]
    if len(parts) not in (2, 3):
        raise ValueProblem(f"value of {name} is not a range START:STOP:STEP: {shown!r}")
    if not all(parts):
        raise ValueProblem(f"the range {shown!r} for {name} has an empty part (START:STOP:STEP)")
    if len(parts) == 2 and points is None:
        raise ValueProblem(
            f"the range {shown!r} for {name} has no step: write START:STOP:STEP "
            f"({parts[0]}:{parts[1]}:0.1, say)"
        )
    numbers = [float(parse_numbers(part, name)) for part in parts]
    if not all(math.isfinite(x) for x in numbers):
        raise ValueProblem(
            f"the range {shown!r} for {name} is not finite: its ends and step must be"
        )
    if len(parts) == 2:  # spread: the command chose how many points
        count = 1 if numbers[0] == numbers[1] else max(points, 2)
        spread = Range(parts[0], parts[1], None, count, True)
        return Value("range", text, count, range=spread)
    from decimal import Decimal, localcontext  # ranges only: a plain number never pays

    start, stop, step = (_decimal(part, x) for part, x in zip(parts, numbers))
    if step == 0:
        raise ValueProblem(f"the range {shown!r} for {name} has a step of 0")
    with localcontext() as ctx:
        ctx.prec = 60
        steps = (stop - start) / step
    if steps < 0:
        direction = "up" if step > 0 else "down"
        other = parts[2][1:] if parts[2][0] in "+-" else "-" + parts[2]
        raise ValueProblem(
            f"the range {shown!r} for {name} steps {direction} from {parts[0]} and never reaches "
            f"{parts[1]}: the step needs the other sign ({parts[0]}:{parts[1]}:{other})"
        )
    whole = steps.to_integral_value()
    included = abs(steps - whole) <= Decimal(WHOLE_STEPS)
    count = int(whole if included else steps.to_integral_value(rounding="ROUND_FLOOR")) + 1
    top = max(abs(numbers[0]), abs(numbers[1]))
    if count > 1 and abs(numbers[2]) < np.spacing(top):
        raise ValueProblem(
            f"the step of the range {shown!r} for {name} is finer than float64 can tell apart "
            f"near {top:g} (numbers there are {float(np.spacing(top)):g} apart): points would "
            "repeat"
        )
    return Value("range", text, count, range=Range(parts[0], parts[1], parts[2], count, included))


def _decimal(text: str, x: float) -> Decimal:
    """The decimal `text` exactly (its float `x` is finite, so its exponent is bounded, or the
    number is zero, whatever exponent it was written with)."""
    from decimal import Decimal

    return Decimal(text) if x != 0 else Decimal(0)


def _scaled_integers(start: str, step: str, n: int) -> tuple[int, int, float] | None:
    """(a, b, s) with START = a/s and STEP = b/s exactly, s a power of ten that float64 holds
    exactly and a + i*b below 2^53 for every point i: or None when there is no such triple."""
    from decimal import Decimal

    digits = []
    for text in (start, step):
        sign, body, exponent = Decimal(text).as_tuple()
        if not isinstance(exponent, int) or exponent > 30 or len(body) > 17:
            return None
        digits.append((sign, int("".join(map(str, body))), exponent))
    places = max(0, *(-exponent for _, _, exponent in digits))
    if places > 22:
        return None
    a, b = (
        (-1 if sign else 1) * number * 10 ** (exponent + places)
        for sign, number, exponent in digits
    )
    if max(abs(a), abs(a + (n - 1) * b)) >= 2**53:
        return None
    return a, b, float(10**places)


# A standard uncertainty written after a value: 2.0±0.1, or 2.0+-0.1 where ± is hard to type.
PLUS_MINUS_SIGNS = ("±", "+-")


def split_uncertainty(text: str) -> tuple[str, str | None]:
    """`2.0±0.1` or `2.0+-0.1` -> ("2.0", "0.1"); text with neither sign -> (text, None)."""
    for sign in PLUS_MINUS_SIGNS:
        value, found, sd = text.partition(sign)
        if found:
            return value, sd
    return text, None


def parse_sd(text: str, value: Value, name: str = "value") -> float:
    """The standard uncertainty `text` written after `value` (VALUE±SD): one finite number,
    at least 0, after a value that is one number (not a list or range)."""
    if value.kind != "number":
        raise ValueProblem(
            f"value of {name}: an uncertainty (±) goes with one number, not with a "
            f"{value.kind} of {value.size:,} values"
        )
    literal = text.strip()
    if not _NUMBER.fullmatch(literal):
        shown = literal if len(literal) <= 40 else literal[:37] + "..."
        raise ValueProblem(
            f"the uncertainty of {name} is not a number: {shown!r} (write VALUE±SD or "
            "VALUE+-SD, as in 2.0±0.1)"
        )
    sd = float(literal)
    problem = literal_problem(literal, sd)
    if problem:
        raise ValueProblem(f"the uncertainty of {name}: {problem}")
    if not (math.isfinite(sd) and sd >= 0):
        raise ValueProblem(
            f"the uncertainty of {name} must be a finite number at least 0, not {literal}"
        )
    return sd
