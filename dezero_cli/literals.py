"""Numbers as the user writes them: which decimal literals have a faithful float64."""

from __future__ import annotations

import math


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
