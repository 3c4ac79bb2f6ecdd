"""Errors in what the user gave. The CLI shows each as one `error:` line and exits with 2."""

from __future__ import annotations


class DezeroError(Exception):
    """Something the user can fix: bad expression, bad value, bad option."""

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ExpressionSyntaxError(DezeroError):
    """The expression does not parse; `column` is 0-based into `text`."""

    def __init__(self, message: str, text: str, column: int):
        super().__init__(message)
        self.text = text
        self.column = column

    def context(self, width: int = 72) -> tuple[str, str]:
        """The offending line (cut to `width` around the column) and a caret under the column."""
        start = self.text.rfind("\n", 0, self.column) + 1
        end = self.text.find("\n", self.column)
        line = self.text[start : len(self.text) if end < 0 else end]
        col = self.column - start
        left = max(0, col - width // 2)
        right = left + width
        shown = line[left:right]
        if left:
            shown, col = "..." + shown, col - left + 3
        if right < len(line):
            shown += "..."
        shown = "".join(c if c.isprintable() else "?" for c in shown)
        return shown, " " * col + "^"


class UnknownFunction(ExpressionSyntaxError):
    """A call names no registered function."""


class ArityError(ExpressionSyntaxError):
    """A call has the wrong number of arguments."""


class ValueProblem(DezeroError):
    """A variable's value is missing, unused or not a number."""


class LimitExceeded(DezeroError):
    """A resource limit (graph size, expression length or depth) was reached."""


class GraphTooLarge(LimitExceeded):
    """The graph grew past the node limit: raised from the engine before memory runs out, or
    earlier, when the growth of higher orders shows it will (`forecast` says how)."""

    def __init__(self, limit: int, forecast: str | None = None):
        if forecast is None:
            message = (
                f"the computation needs more than {limit} graph nodes (the limit, --max-nodes); "
                "raise it with --max-nodes N"
            )
        else:
            message = (
                f"{forecast}, more than the limit of {limit} (--max-nodes): lower the order, "
                "or raise the limit with --max-nodes N"
            )
        super().__init__(message)
        self.limit = limit
        self.forecast = forecast


class TimeLimitExceeded(DezeroError):
    """The computation ran longer than --timeout allows."""

    exit_code = 124  # as coreutils' timeout(1), so scripts can tell it from bad input

    def __init__(self, seconds: float):
        super().__init__(f"stopped after the time limit of {seconds:g} s (--timeout)")
        self.seconds = seconds
