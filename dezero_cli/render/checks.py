"""`dezero check`'s verdicts as text and JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..api import CheckResult
from ..output import wrap

if TYPE_CHECKING:
    pass

from .numbers import format_array, format_number, to_json
from .results import document, header

ERROR_DIGITS = 3  # check's errors on a terminal: their size is all they say


def check_lines(
    check: CheckResult, digits: int | None = None, error_digits: int | None = None
) -> list[tuple[str, str, str, str, str, str]]:
    """(label, backprop, numeric, abs error, rel error, status) per element of each variable;
    status is `ok`, `FAILED`, or `not checked` where the step left the domain."""
    out = []
    for name, c in check.checks.items():
        for i in np.ndindex(np.shape(c.backprop)):
            index = "".join(f"[{j}]" for j in i)
            status = "ok" if c.ok[i] else "not checked" if c.left_domain[i] else "FAILED"
            out.append(
                (
                    f"df/d{name}{index}",
                    format_number(c.backprop[i], digits),
                    format_number(c.numeric[i], digits),
                    format_number(c.abs_error[i], error_digits),
                    format_number(c.rel_error[i], error_digits),
                    status,
                )
            )
    return out


def verdict(check: CheckResult) -> str:
    statuses = [line[-1] for line in check_lines(check)]
    n, bad, unchecked = len(statuses), statuses.count("FAILED"), statuses.count("not checked")
    settings = f"eps {check.eps!r}, rtol {check.rtol!r}, atol {check.atol!r}"
    if not bad and not unchecked:
        return f"check passed: {n} of {n} within tolerance ({settings})"
    parts = [f"{bad} of {n} outside tolerance"] if bad or not unchecked else []
    if unchecked:
        parts.append(f"{unchecked} of {n} not checked: the step left the domain")
    return f"check FAILED: {'; '.join(parts)} ({settings})"


def render_check_text(
    check: CheckResult, width: int | None = None, digits: int | None = None
) -> str:
    """One line per element. For a terminal `width` columns wide: errors to 3 significant
    digits, values rounded to `digits` if given, lines wrapped at words."""
    terminal = width is not None
    error_digits = ERROR_DIGITS if terminal else None
    lines = [f"f = {format_array(check.result.value, digits=digits)}"]
    for name, backprop, numeric, abs_error, rel_error, status in check_lines(
        check, digits, error_digits
    ):
        lines.append(
            f"{name}: backprop {backprop}, numeric {numeric}, abs error {abs_error}, "
            f"rel error {rel_error}, {status}"
        )
    lines.append(verdict(check))
    if terminal:
        lines = [wrapped for line in lines for wrapped in wrap(line, width, indent=4)]
    return "\n".join(lines) + "\n"


def render_check_json(check: CheckResult) -> str:
    import json

    record = document(header(check.result))
    record.update(
        {
            "checks": {
                name: {
                    "backprop": to_json(c.backprop),
                    "numeric": to_json(c.numeric),
                    "abs_error": to_json(c.abs_error),
                    "rel_error": to_json(c.rel_error),
                    "ok": c.ok.tolist(),
                }
                for name, c in check.checks.items()
            },
            "eps": check.eps,
            "rtol": check.rtol,
            "atol": check.atol,
            "ok": check.ok,
            "warnings": list(check.warnings),
        }
    )
    return json.dumps(record, allow_nan=False) + "\n"
