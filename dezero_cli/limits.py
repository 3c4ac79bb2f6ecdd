"""Resource limits, so that no input makes a command run out of memory or run without end.

Graph size is counted by the engine itself (`Function.__call__` spends from
`Config.node_budget`), so the limit also holds for the graphs that higher orders build. The
expression's size is checked before parsing. The time limit interrupts whatever is running.
"""

from __future__ import annotations

import contextlib
import math
import sys
from dataclasses import dataclass

from .errors import GraphTooLarge, LimitExceeded, TimeLimitExceeded

# A node holding n values counts 1 + n // 64: about 500 bytes each, 1 GB at the default.
DEFAULT_MAX_NODES = 2_000_000
DEFAULT_MAX_LENGTH = 10_000_000  # characters of expression text
DEFAULT_MAX_DEPTH = 1_000_000  # levels of nested parentheses


@dataclass(frozen=True)
class Limits:
    """What one command may use. None switches a limit off."""

    max_nodes: int | None = DEFAULT_MAX_NODES
    max_length: int | None = DEFAULT_MAX_LENGTH
    max_depth: int | None = DEFAULT_MAX_DEPTH
    timeout: float | None = None  # seconds of wall time


def check_expression_size(text: str, limits: Limits) -> None:
    """Refuse an expression longer or deeper than the limits, before any work on it."""
    if limits.max_length is not None and len(text) > limits.max_length:
        raise LimitExceeded(
            f"the expression is {len(text)} characters long, more than the limit of "
            f"{limits.max_length} (--max-length)"
        )
    if limits.max_depth is not None and text.count("(") > limits.max_depth:
        depth = nesting_depth(text)
        if depth > limits.max_depth:
            raise LimitExceeded(
                f"the expression nests parentheses {depth} deep, more than the limit of "
                f"{limits.max_depth} (--max-depth)"
            )


def nesting_depth(text: str) -> int:
    """The deepest nesting of parentheses (unbalanced ones are the parser's business)."""
    import numpy as np

    codes = np.frombuffer(text.encode("utf-32-le", "replace"), dtype=np.uint32)
    steps = (codes == ord("(")).astype(np.int64) - (codes == ord(")"))
    return int(np.cumsum(steps).max(initial=0))


def check_graph_size(size: int, limits: Limits) -> None:
    """Fail before evaluating when the forward pass alone needs more nodes than allowed."""
    if limits.max_nodes is not None and size > limits.max_nodes:
        raise GraphTooLarge(limits.max_nodes)


# Each order of derivatives records a graph some steady factor larger than the last (2.2 to 3
# for the functions here). Once the last STEADY_LEVELS factors agree within STEADY_SPREAD, the
# sizes still to come are extrapolated with the smallest of them, and the computation is refused
# when they would pass the limit by FORECAST_MARGIN. Over 300 random expressions up to order 8,
# this forecast was never more than 1.11 times what the computation then recorded: a margin
# of 1.25 keeps it from refusing what would have fitted (tests/test_limits.py checks that).
STEADY_LEVELS = 3
STEADY_SPREAD = 1.1
FORECAST_MARGIN = 1.25


class Growth:
    """Watches the levels of a higher-order computation and stops it early, with a forecast,
    when steady growth shows it would pass the node limit (see `forecast`).

    `levels` is how many levels will record a graph. Call `level_done()` after each; it does
    nothing when no node limit is in force.
    """

    def __init__(self, order: int, levels: int):
        from .core import Config

        self.budget = Config.node_budget
        self.order = order
        self.levels = levels
        self.done = 0
        self.sizes: list[int] = []
        self.used = 0 if self.budget is None else self.budget[1] - self.budget[0]

    def level_done(self) -> None:
        self.done += 1
        if self.budget is None:
            return
        used = self.budget[1] - self.budget[0]
        self.sizes.append(used - self.used)
        self.used = used
        limit = self.budget[1]
        expected = forecast(self.sizes, self.levels - self.done, FORECAST_MARGIN * limit - used)
        if expected is not None:
            ratio = self.sizes[-1] / self.sizes[-2]
            total = used + expected
            about = f"about {total:,.0f}" if total < 1e15 else "more than 10^15"
            raise GraphTooLarge(
                limit,
                f"order {self.order} would need {about} graph nodes "
                f"(the graph has grown {ratio:.1f} times with each order)",
            )


def forecast(sizes: list[int], levels: int, room: float) -> float | None:
    """The nodes that `levels` more levels would record, when they surely exceed `room`.

    `sizes` are the nodes each level so far recorded. None when the growth is not steady yet,
    or when the extrapolation stays within `room`.
    """
    last = sizes[-STEADY_LEVELS - 1 :]
    if levels <= 0 or len(last) <= STEADY_LEVELS or 0 in last:
        return None
    ratios = [b / a for a, b in zip(last, last[1:])]
    ratio = min(ratios)
    if max(ratios) > STEADY_SPREAD * ratio:
        return None
    expected = _total(sizes[-1], ratio, levels)
    return expected if expected > room else None


def _total(size: int, ratio: float, levels: int) -> float:
    """size * (ratio + ratio^2 + ... + ratio^levels), or inf when that overflows."""
    if ratio == 1:
        return float(size * levels)
    try:
        return size * ratio * (ratio**levels - 1) / (ratio - 1)
    except OverflowError:
        return math.inf


@contextlib.contextmanager
def enforce(limits: Limits):
    """Hold the graph-size limit and the time limit over the body of the `with`."""
    from .core import using_config

    budget = None if limits.max_nodes is None else [limits.max_nodes, limits.max_nodes]
    with using_config("node_budget", budget), time_limit(limits.timeout):
        yield


@contextlib.contextmanager
def time_limit(seconds: float | None):
    """Raise TimeLimitExceeded in the body once `seconds` of wall time have passed.

    It interrupts whatever Python code runs, the parser included, so it works only in the
    main thread: a SIGALRM timer on POSIX, a watchdog thread elsewhere.
    """
    if seconds is None:
        yield
        return
    import signal  # here: most commands run with no time limit, and start-up counts
    import threading

    if not (seconds > 0 and math.isfinite(seconds)):
        raise LimitExceeded(f"--timeout must be a positive number of seconds, not {seconds}")
    if threading.current_thread() is not threading.main_thread():
        raise LimitExceeded("a time limit can only be set in the main thread")
    with _alarm(seconds) if hasattr(signal, "setitimer") else _watchdog(seconds):
        yield


@contextlib.contextmanager
def _alarm(seconds: float):
    import signal

    def expired(signum, frame):
        raise TimeLimitExceeded(seconds)

    def unraisable(info):
        # Raised where Python can only print it (a __del__, a gc callback): stay quiet, the
        # timer fires again in 50 ms somewhere it can propagate.
        if not isinstance(info.exc_value, TimeLimitExceeded):
            previous_hook(info)

    previous = signal.getsignal(signal.SIGALRM)
    previous_hook = sys.unraisablehook
    sys.unraisablehook = unraisable
    signal.signal(signal.SIGALRM, expired)
    try:
        # Below a microsecond setitimer would disarm instead. The timer fires again every
        # 50 ms: code that swallows the exception (a gc callback, say) cannot run on forever.
        signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-6), 0.05)
        yield
    finally:
        # The timer may fire once more while this runs: catch that and finish the cleanup.
        while True:
            try:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, signal.SIG_DFL if previous is None else previous)
                break
            except TimeLimitExceeded:
                continue
        sys.unraisablehook = previous_hook


@contextlib.contextmanager
def _watchdog(seconds: float):
    """`_alarm` where there is no setitimer (Windows): a thread has SIGINT's handler, ours
    for the duration, run in the main thread. It interrupts Python code, not a long C call."""
    import _thread
    import signal
    import threading

    lock = threading.Lock()
    stopped = threading.Event()
    fired = False

    def watch():
        nonlocal fired
        wait = seconds
        while not stopped.wait(wait):
            with lock:  # never once the cleanup below has begun
                if stopped.is_set():
                    return
                fired = True
                _thread.interrupt_main()
            wait = 0.05  # and again, as _alarm's timer, in case the exception was swallowed

    def expired(signum, frame):
        if fired:
            raise TimeLimitExceeded(seconds)
        if previous is not signal.SIG_IGN:  # a real Ctrl-C does what it did before
            (previous if callable(previous) else signal.default_int_handler)(signum, frame)

    # Our own handler: interrupt_main alone does nothing where SIGINT is ignored.
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, expired)
    try:
        # In here: a short deadline can pass while start() waits for the thread to run.
        threading.Thread(target=watch, name="dezero-timeout", daemon=True).start()
        yield
    finally:
        # An interrupt the thread made just before it stopped is taken by signal.signal,
        # which runs pending handlers first: it raises here, not later under the old handler.
        while True:
            try:
                with lock:
                    stopped.set()
                signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)
                break
            except TimeLimitExceeded:
                continue
