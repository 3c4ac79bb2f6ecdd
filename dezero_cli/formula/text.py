"""What the text and the LaTeX printer share: precedence, numbers as the language writes them,
and joining parts."""

from __future__ import annotations

import math

# Precedence, loosest first, as in grammar/expression.lark.
OR, AND, NOT, COMPARE, SUM_, PRODUCT, UNARY, POWER, ATOM = range(1, 10)


def joined(items: list, sep: str) -> list:
    out: list = []
    for j, item in enumerate(items):
        if j:
            out.append(sep)
        out += flat([item])
    return out


def flat(items: list) -> list:
    out: list = []
    for item in items:
        if isinstance(item, list):
            out += item
        else:
            out.append(item)
    return out


def number_text(v: float) -> str:
    """A number as the language reads it back to the same float64."""
    if v == math.pi:
        return "pi"
    if v == math.e:
        return "e"
    if math.isnan(v):
        return "(0/0)"
    if math.isinf(v):
        return "(1/0)" if v > 0 else "(-1/0)"
    if v == int(v) and abs(v) < 2**53:
        return ("-" if math.copysign(1.0, v) < 0 else "") + str(abs(int(v)))
    return repr(v)
