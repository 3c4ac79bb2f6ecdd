"""Resource limits, so that no input makes a command run out of memory or run without end.

Graph size is counted by the engine itself (`Function.__call__` spends from `node_budget`), so
the limit also holds for the graphs that higher orders build. The expression's size is checked
before parsing. The time limit interrupts whatever Python code is running, in any thread.
Every limit is held per context: threads that evaluate at once each have their own.
"""

from __future__ import annotations

import _thread
import contextlib
import math
import sys
from contextvars import ContextVar
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
    """Refuse an expression longer or deeper than the limits, before any work on it. Length is
    in characters, not counting whitespace around the expression (as for standard input)."""
    if limits.max_length is not None and len(text) > limits.max_length:
        length = len(text.strip())  # whitespace around the expression does not count
        if length > limits.max_length:
            raise LimitExceeded(
                f"the expression is {length} characters long, more than the limit of "
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


# [nodes left, limit] while a graph-size limit is in force, else None. A node whose value holds
# n elements counts 1 + n // 64, so the limit bounds memory.
node_budget: ContextVar[list[int] | None] = ContextVar("node_budget", default=None)


def spend_nodes(budget: list[int], ys) -> None:
    """Count a recorded node (whose output is `ys`) against `budget`; raise past the limit."""
    # What a node costs in memory: its objects, about as much as 64 float64 values.
    budget[0] -= 1 + getattr(ys[0] if type(ys) is tuple else ys, "size", 1) // 64
    if budget[0] < 0:
        raise GraphTooLarge(budget[1])


@contextlib.contextmanager
def counting_nodes(limit: int | None = None):
    """Hold a node budget of `limit` (None: unlimited, but counted) over the body of the
    `with`; yields a function that tells how many nodes have been recorded so far."""
    start = sys.maxsize if limit is None else limit
    budget = [start, start]
    token = node_budget.set(budget)
    try:
        yield lambda: start - budget[0]
    finally:
        node_budget.reset(token)


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
        self.budget = node_budget.get()
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
    if limits.max_nodes is None:
        budget = contextlib.nullcontext()
    else:
        budget = counting_nodes(limits.max_nodes)
    with budget, time_limit(limits.timeout):
        yield


@contextlib.contextmanager
def time_limit(seconds: float | None):
    """Raise TimeLimitExceeded in the body once `seconds` of wall time have passed.

    It interrupts whatever Python code runs, the parser included, in whichever thread runs
    the body: a SIGALRM timer in the main thread on POSIX (it also interrupts a blocking
    read), a watchdog thread elsewhere.
    """
    if seconds is None:
        yield
        return
    import signal  # here: most commands run with no time limit, and start-up counts
    import threading

    if not (seconds > 0 and math.isfinite(seconds)):
        raise LimitExceeded(f"--timeout must be a positive number of seconds, not {seconds}")
    main = threading.current_thread() is threading.main_thread()
    with _alarm(seconds) if main and hasattr(signal, "setitimer") else _watchdog(seconds):
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
    """`_alarm` for any thread, and where there is no setitimer (Windows): a watchdog thread
    raises TimeLimitExceeded asynchronously in the thread that runs the body. Like a signal
    handler, it interrupts Python code between bytecodes, not a long call into C."""
    import ctypes
    import threading
    import time

    target = ctypes.c_ulong(threading.get_ident())
    set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
    # A class, as the C API wants: raised with no arguments, it carries the message all the same.
    expired = type(
        "TimeLimitExceeded",
        (TimeLimitExceeded,),
        {"__init__": lambda self: TimeLimitExceeded.__init__(self, seconds)},
    )
    lock = threading.Lock()
    stopped = threading.Event()
    started = threading.Event()  # Thread.start() has returned: nothing of threading's to hit
    deadline = time.monotonic() + seconds

    def watch():
        started.wait()
        wait = max(deadline - time.monotonic(), 0.0)
        while not stopped.wait(wait):
            if COLLECTING[0]:  # raised in a gc callback, it would break that callback's state
                wait = 0.001
                continue
            with lock:  # never once the cleanup below has begun
                if stopped.is_set():
                    return
                set_async_exc(target, ctypes.py_object(expired))
            wait = 0.05  # and again, as _alarm's timer, in case the exception was swallowed

    watch_collections()
    try:
        # The deadline may pass while start() waits for the thread to run: then it is raised
        # here, once start() is done, and never inside threading's own code.
        threading.Thread(target=watch, name="dezero-timeout", daemon=True).start()
        started.set()
        if time.monotonic() >= deadline:
            raise expired()
        yield
    finally:
        # An exception the thread set just before it stopped may still be pending: it is
        # raised here, inside the cleanup, or withdrawn once the thread can set no more.
        while True:
            try:
                with lock:
                    stopped.set()
                set_async_exc(target, None)
                break
            except expired:
                continue


# Whether a garbage collection, its callbacks included, is running in this process. The
# watchdog waits for it to end: other libraries' gc callbacks (Dask's, say) keep state across
# their "start" and "stop" calls, which an exception raised in between would leave broken.
COLLECTING = [0]


def _collection_starts(phase: str, info: dict) -> None:
    if phase == "start":
        COLLECTING[0] = 1


def _collection_ends(phase: str, info: dict) -> None:
    if phase == "stop":
        COLLECTING[0] = 0


COLLECTING_LOCK = _thread.allocate_lock()  # watchdogs start in several threads at once


def watch_collections() -> None:
    """Put our two gc callbacks first and last, around any registered since."""
    import gc

    with COLLECTING_LOCK:
        for callback in (_collection_starts, _collection_ends):
            if callback in gc.callbacks:
                gc.callbacks.remove(callback)
        gc.callbacks.insert(0, _collection_starts)
        gc.callbacks.append(_collection_ends)


def value_nodes(n: int) -> int:
    """What a value of n numbers counts against --max-nodes, as a node holding them does."""
    return 1 + n // 64
