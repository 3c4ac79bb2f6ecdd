"""Resource limits and unusable input: each gives one `error:` line and its documented exit code."""

from __future__ import annotations

import io
import math
import signal
import sys
import threading
import time

import numpy as np
import pytest
from test_conformance import make_cases

from dezero_cli import api
from dezero_cli.api import derivatives
from dezero_cli.engine.core import Config, Variable
from dezero_cli.engine.functions import Tanh
from dezero_cli.errors import GraphTooLarge, TimeLimitExceeded
from dezero_cli.limits import (
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_LENGTH,
    DEFAULT_MAX_NODES,
    Limits,
    _watchdog,
    counting_nodes,
    enforce,
    forecast,
    nesting_depth,
    node_budget,
    time_limit,
)


def nested(n: int, name: str = "sin") -> str:
    return f"{name}(" * n + "x" + ")" * n


def one_error(outcome, code: int = 2) -> str:
    """The message of the single `error:` line, after checking the exit code and the streams."""
    assert outcome.code == code, outcome
    assert outcome.stdout == ""
    lines = outcome.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), outcome.stderr
    return lines[0][len("error: ") :]


def test_defaults_are_the_documented_ones(dezero):
    assert (DEFAULT_MAX_NODES, DEFAULT_MAX_LENGTH, DEFAULT_MAX_DEPTH) == (
        2_000_000,
        10_000_000,
        1_000_000,
    )
    assert Limits() == Limits(2_000_000, 10_000_000, 1_000_000, None)
    help_text = " ".join(dezero("grad", "--help").stdout.split())
    for option, default in [
        ("--max-nodes", "2000000"),
        ("--max-length", "10000000"),
        ("--max-depth", "1000000"),
        ("--timeout", "none"),
    ]:
        assert option in help_text
        assert f"[default: {default}]" in help_text


# A first-order gradient records exactly one node per function call of the forward pass:
# the backward pass builds no graph. So an expression with n calls needs n nodes.
@pytest.mark.parametrize("n", [1, 7, 50])
def test_node_limit_is_exact_at_the_boundary(n):
    text = nested(n)
    with enforce(Limits(max_nodes=n)):
        r = api.grad(text, {"x": 0.5})
    assert float(r.grad["x"]) != 0
    with pytest.raises(GraphTooLarge) as info, enforce(Limits(max_nodes=n - 1)):
        api.grad(text, {"x": 0.5})
    assert info.value.limit == n - 1


def test_a_node_holding_a_vector_counts_by_its_size():
    x = np.arange(640.0)  # 1 + 640 // 64 = 11 per node
    with enforce(Limits(max_nodes=3 * 11)):
        api.grad(nested(3), {"x": x})
    with pytest.raises(GraphTooLarge), enforce(Limits(max_nodes=3 * 11 - 1)):
        api.grad(nested(3), {"x": x})


def test_node_limit_counts_the_graphs_that_higher_orders_build():
    # tanh's derivatives by double backprop: the recorded backward graphs count too.
    def third_derivative():
        x = Variable(np.array(0.5), "x")
        y = Tanh()(x)
        for _ in range(3):
            x.grad = None
            y.backward(create_graph=True)
            y = x.grad
        return float(y.data)

    with counting_nodes() as recorded:
        third_derivative()
        used = recorded()
    assert used > 3  # far more than the single forward node
    t, s2 = np.tanh(0.5), 1 / np.cosh(0.5) ** 2
    with enforce(Limits(max_nodes=used)):
        assert third_derivative() == pytest.approx(s2 * (4 * t * t - 2 * s2), rel=1e-12)
    with pytest.raises(GraphTooLarge), enforce(Limits(max_nodes=used - 1)):
        third_derivative()


def nodes_recorded(text: str, point: dict, order: int) -> int:
    """The nodes that `derivatives` records at `order` when nothing limits it."""
    with counting_nodes() as recorded:
        derivatives(text, point, order)
        return recorded()


def test_a_hopeless_order_is_refused_early_with_a_forecast(dezero):
    # tanh's graph grows about 2.7 times per order: order 16 needs about 2.7 million nodes.
    with pytest.raises(GraphTooLarge) as info, counting_nodes(DEFAULT_MAX_NODES) as recorded:
        try:
            derivatives("tanh(x)", {"x": 0.5}, 16)
        finally:
            spent = recorded()
    assert spent < DEFAULT_MAX_NODES / 10  # stopped long before the limit itself
    assert info.value.forecast is not None
    message = one_error(dezero("grad", "tanh(x)", "--x", "0.5", "--order", "16"))
    assert message == (
        "order 16 would need about 2,718,014 graph nodes (the graph has grown 2.8 times with "
        "each order), more than the limit of 2000000 (--max-nodes): lower the order, or raise "
        "the limit with --max-nodes N"
    )
    # The same forecast for the graph command, which keeps its last level too.
    message = one_error(dezero("graph", "tanh(x)", "--x", "0.5", "--order", "16"))
    assert message.startswith("order 16 would need about ")


def test_the_forecast_is_right_where_it_can_be_checked():
    # Under a limit of 20,000 nodes: order 11 records 16,697 and fits; order 12 would record
    # 47,036, and is refused before it has spent a third of the limit (the margin is 25%).
    assert nodes_recorded("tanh(x)", {"x": 0.5}, 11) == 16_697
    assert nodes_recorded("tanh(x)", {"x": 0.5}, 12) == 47_036
    with enforce(Limits(max_nodes=20_000)):
        derivatives("tanh(x)", {"x": 0.5}, 11)
    with pytest.raises(GraphTooLarge) as info, counting_nodes(20_000) as recorded:
        try:
            derivatives("tanh(x)", {"x": 0.5}, 12)
        finally:
            spent = recorded()
    # The growth speeds up a little with the order, so the forecast errs low: it refuses
    # only what surely does not fit.
    assert info.value.forecast == (
        "order 12 would need about 36,588 graph nodes (the graph has grown 2.6 times with each "
        "order)"
    )
    assert spent < 20_000 / 3


def test_a_huge_order_is_refused_at_once(dezero):
    started = time.perf_counter()
    message = one_error(dezero("grad", "sigmoid(x)", "--x", "1", "--order", "100"))
    assert message.startswith("order 100 would need more than 10^15 graph nodes (the graph has")
    assert time.perf_counter() - started < 5  # not a timing test: the alternative is hours


def test_forecast_arithmetic():
    # steady: ratios 3, 3, 3; two more levels record 270 * (3 + 9) = 3240 nodes
    assert forecast([10, 30, 90, 270], 2, room=3239) == 3240
    assert forecast([10, 30, 90, 270], 2, room=3240) is None  # fits
    assert forecast([5, 5, 5, 5], 1000, room=4999) == 5000  # constant growth
    assert forecast([30, 90, 270], 2, room=0) is None  # too few levels to call it steady
    assert forecast([10, 30, 90, 300], 2, room=0) is None  # ratios 3, 3, 3.33: not within 10%
    assert forecast([10, 30, 0, 0], 2, room=0) is None  # partials that vanish
    assert forecast([10, 30, 90, 270], 0, room=0) is None  # nothing left to record
    assert forecast([1, 3, 9, 27], 10**6, room=1e300) == math.inf


# The forecast extrapolates from the levels so far: it must never refuse what fits. Over
# seeded random expressions (those of the conformance suite), with the limit set to exactly
# what each computation records, every one completes, and one node less always fails.
@pytest.mark.parametrize("case", make_cases(60)[::2], ids=lambda case: case.text)
def test_the_forecast_never_refuses_what_fits(case):
    order = 7 if len(case.names) == 1 else 5
    needed = nodes_recorded(case.text, case.point, order)
    with enforce(Limits(max_nodes=needed)):
        derivatives(case.text, case.point, order)
    if needed:  # (an expression such as +(x) records nothing at all)
        with pytest.raises(GraphTooLarge), enforce(Limits(max_nodes=needed - 1)):
            derivatives(case.text, case.point, order)


def test_limits_are_restored_after_the_block():
    with pytest.raises(GraphTooLarge), enforce(Limits(max_nodes=0)):
        api.grad("sin(x)", {"x": 1.0})
    assert node_budget.get() is None
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert float(api.grad(nested(100), {"x": 1.0}).value) > 0  # no limit outside `enforce`


def test_eval_builds_no_graph_so_only_grad_has_max_nodes(dezero):
    assert dezero("eval", "sin(cos(x))", "--x", "1", "--max-nodes", "1").code == 2
    ok = dezero("grad", "sin(cos(x))", "--x", "1", "--max-nodes", "2")
    assert ok.code == 0 and ok.stdout.startswith("f = ")


@pytest.mark.parametrize("command", ["grad", "check", "graph"])
def test_every_graph_command_has_the_limits(command, dezero):
    outcome = dezero(command, "sin(cos(x))", "--x", "1", "--max-nodes", "1")
    assert one_error(outcome).startswith("the computation needs more than 1 graph nodes")
    outcome = dezero(command, "-", "--x", "1", "--timeout", "0.001", stdin=nested(30_000).encode())
    assert one_error(outcome, 124) == "stopped after the time limit of 0.001 s (--timeout)"


def test_max_nodes_on_the_command_line(dezero):
    message = one_error(dezero("grad", "sin(cos(x))", "--x", "1", "--max-nodes", "1"))
    assert message == (
        "the computation needs more than 1 graph nodes (the limit, --max-nodes); "
        "raise it with --max-nodes N"
    )
    assert dezero("grad", "sin(cos(x))", "--x", "1", "--max-nodes", "0").code == 0  # 0: no limit


def test_max_length_boundary(dezero):
    text = "x+" * 10 + "x"  # 21 characters
    assert dezero("eval", text, "--x", "1", "--max-length", "21").stdout == "f = 11.0\n"
    message = one_error(dezero("eval", text, "--x", "1", "--max-length", "20"))
    assert (
        message == "the expression is 21 characters long, more than the limit of 20 (--max-length)"
    )


def test_max_length_stops_reading_standard_input_early(dezero):
    message = one_error(dezero("grad", "-", "--max-length", "100", stdin=b"x+" * 1_000_000))
    assert message == (
        "the expression on standard input is longer than the limit of 100 characters (--max-length)"
    )


def test_max_depth_boundary(dezero):
    assert dezero("grad", nested(30), "--x", "0.1", "--max-depth", "30").code == 0
    message = one_error(dezero("grad", nested(31), "--x", "0.1", "--max-depth", "30"))
    assert message == (
        "the expression nests parentheses 31 deep, more than the limit of 30 (--max-depth)"
    )


@pytest.mark.parametrize(
    ("text", "depth"),
    [("x", 0), ("(x)", 1), ("((x))+(x)", 2), ("(()(()))", 3), (")))(", 0), ("é(((", 3)],
)
def test_nesting_depth(text, depth):
    assert nesting_depth(text) == depth


@pytest.mark.parametrize("command", ["grad", "eval"])
def test_timeout_stops_a_long_computation_with_exit_124(command, dezero):
    # Parsing and evaluating 30,000 nested calls takes far longer than a millisecond.
    outcome = dezero(
        command, "-", "--x", "0.5", "--timeout", "0.001", stdin=nested(30_000).encode()
    )
    assert one_error(outcome, 124) == "stopped after the time limit of 0.001 s (--timeout)"
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) == signal.SIG_DFL


@pytest.mark.parametrize("seconds", ["1e-300", "2.3912e-209", "1e-7"])
def test_a_vanishing_timeout_fires_inside_the_command_and_leaves_no_timer(seconds, dezero):
    # Found by fuzzing: the alarm fired before the cleanup was armed and went on firing.
    outcome = dezero("eval", "x", "--x", "1", "--timeout", seconds)
    assert outcome.code == 124
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) == signal.SIG_DFL


def test_a_generous_timeout_changes_nothing(dezero):
    outcome = dezero("grad", "square(exp(square(x)))", "--x", "0.5", "--timeout", "60")
    assert outcome.stdout == "f = 1.648721270700128\ndf/dx = 3.297442541400256\n"


@pytest.mark.parametrize("value", ["0", "-1", "abc", "inf", "nan"])
def test_bad_timeouts_are_usage_errors(value, dezero):
    message = one_error(dezero("eval", "x", "--x", "1", "--timeout", value))
    if value == "nan":  # passes Click's range check (comparisons with nan are false)
        assert message == "--timeout must be a positive number of seconds, not nan"
    else:
        assert message.startswith("Invalid value for '--timeout'")


def test_an_alarm_inside_a_finalizer_is_not_printed_and_fires_again(monkeypatch):
    import gc

    class Slow:
        def __del__(self):
            end = time.perf_counter() + 0.03
            while time.perf_counter() < end:  # the alarm goes off in here: unraisable
                pass

    printed = []  # what Python would print as "Exception ignored in ..."
    monkeypatch.setattr(sys, "unraisablehook", printed.append)
    with pytest.raises(TimeLimitExceeded), time_limit(0.01):
        Slow()
        gc.collect()
        while True:  # ... and again 50 ms later, here, where it propagates
            pass
    assert printed == []
    assert sys.unraisablehook == printed.append


def test_time_limit_raises_our_error_in_every_thread():
    with pytest.raises(TimeLimitExceeded), time_limit(0.01):
        while True:
            pass
    outcomes = {}

    def worker(name, seconds):
        try:
            with time_limit(seconds):
                spin(5.0)
            outcomes[name] = "finished"
        except TimeLimitExceeded as exc:
            outcomes[name] = exc.message

    threads = [threading.Thread(target=worker, args=(f"t{i}", 0.1 * (i + 1))) for i in range(3)]
    for thread in threads:
        thread.start()
    spin(0.1)  # the main thread is never interrupted by the others' limits
    for thread in threads:
        thread.join()
    assert outcomes == {
        f"t{i}": f"stopped after the time limit of {0.1 * (i + 1):g} s (--timeout)"
        for i in range(3)
    }


def test_graphs_built_in_threads_at_once_keep_their_own_settings_and_limits():
    # Each thread builds graphs under its own node limit and no_grad setting; the results are
    # exactly those of the same work done alone.
    import concurrent.futures

    from dezero_cli.engine.core import no_grad

    def work(i):
        point = {"x": 0.25 + i / 10, "y": 1.5 - i / 20}
        results = []
        for _ in range(30):
            with enforce(Limits(max_nodes=40 + i)):
                results.append(api.derivatives("sin(x*y) + exp(x)/y", point, 2))
            with no_grad():
                assert Config.enable_backprop is False
                results.append(api.evaluate("x^y", point))
            assert Config.enable_backprop is True
            with pytest.raises(GraphTooLarge), enforce(Limits(max_nodes=3)):
                api.grad(nested(10), {"x": point["x"]})
        return [
            (float(r.value), r.grad and {k: float(g) for k, g in r.grad.items()}) for r in results
        ]

    alone = [work(i) for i in range(8)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(work, range(8)))
    assert together == alone


# The watchdog: the time limit outside the main thread, and where signal.setitimer does not
# exist (Windows). A thread raises TimeLimitExceeded asynchronously in the limited thread.


def spin(seconds: float) -> None:
    """Pure Python work (the watchdog interrupts bytecode, not a long call into C)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def test_watchdog_stops_python_code():
    before = signal.getsignal(signal.SIGINT)
    start = time.perf_counter()
    with pytest.raises(TimeLimitExceeded) as info, _watchdog(0.2):
        spin(5.0)
    assert time.perf_counter() - start < 2.5  # not 5 s: stopped (the bound is loose on purpose)
    assert info.value.message == "stopped after the time limit of 0.2 s (--timeout)"
    assert isinstance(info.value, TimeLimitExceeded)
    assert signal.getsignal(signal.SIGINT) is before


def test_watchdog_never_fires_inside_a_gc_callback(monkeypatch):
    # A library's gc callback that times its collections (as Dask's does): the deadline passes
    # while it runs, and the exception waits until the collection is over.
    import gc

    calls = []

    def slow_callback(phase, info):
        calls.append(phase)
        spin(0.2)
        calls.append(phase + " done")

    printed = []  # what Python would print as "Exception ignored in ..."
    monkeypatch.setattr(sys, "unraisablehook", printed.append)
    gc.callbacks.append(slow_callback)
    try:
        with pytest.raises(TimeLimitExceeded), _watchdog(0.05):
            gc.collect()
            spin(5.0)
    finally:
        gc.callbacks.remove(slow_callback)
    assert printed == []
    assert calls == ["start", "start done", "stop", "stop done"]


def test_watchdog_that_does_not_fire_leaves_nothing_behind():
    with _watchdog(0.2):
        spin(0.01)
    spin(0.5)  # well past the deadline: no exception arrives
    assert "dezero-timeout" not in [thread.name for thread in threading.enumerate()]


def test_watchdog_firing_as_the_body_ends_lets_nothing_out():
    # Deadlines that pass just as the body ends, many times: the exception is either raised in
    # the body or withdrawn by the cleanup, never raised after the block.
    stopped = finished = escaped = 0
    for i in range(200):
        try:
            with _watchdog(0.001 + (i % 7) * 1e-4):
                spin(0.001)
            finished += 1
        except TimeLimitExceeded:
            stopped += 1
        try:
            spin(0.002)  # an exception that escaped the block would be raised here
        except TimeLimitExceeded:
            escaped += 1
    assert stopped + finished == 200
    try:
        spin(0.2)
    except TimeLimitExceeded:
        escaped += 1
    assert escaped == 0


def test_watchdog_whose_deadline_passes_as_it_starts_cleans_up(monkeypatch):
    start = threading.Thread.start

    def slow_start(thread):  # the process was busy elsewhere: the deadline passes in here
        start(thread)
        spin(0.2)

    monkeypatch.setattr(threading.Thread, "start", slow_start)
    with pytest.raises(TimeLimitExceeded), _watchdog(0.01):
        pass
    try:
        spin(0.2)
        fired_again = False
    except TimeLimitExceeded:
        fired_again = True
    assert not fired_again  # the thread was stopped: it fires no more


def test_watchdog_leaves_a_real_keyboard_interrupt_alone():
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt), _watchdog(5.0):
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt), _watchdog(5.0):
        signal.raise_signal(signal.SIGINT)  # Ctrl-C, through the usual handler
        spin(1.0)
    assert signal.getsignal(signal.SIGINT) is before


def test_watchdog_works_where_ctrl_c_is_ignored():
    # A background job started from a script ignores SIGINT: the watchdog does not need it.
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with pytest.raises(TimeLimitExceeded), _watchdog(0.1):
            spin(5.0)
        with _watchdog(5.0):
            signal.raise_signal(signal.SIGINT)  # still ignored
            spin(0.01)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)


def test_timeout_through_the_cli_without_setitimer(monkeypatch, dezero):
    # Where signal.setitimer does not exist (Windows), the watchdog stops the command.
    monkeypatch.delattr(signal, "setitimer")
    argv = ["grad", "-", "--x", "0.5", "--timeout", "0.5"]
    # 300,000 nested calls: about 3 s of parsing, building and backward without a limit.
    outcome = dezero(*argv, stdin=nested(300_000).encode())
    assert outcome == (124, "", "error: stopped after the time limit of 0.5 s (--timeout)\n")


# Standard input that cannot be used.
@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        (b"sin(x\xff)", "the expression on standard input is not UTF-8 (byte 5)"),
        (b"", "standard input is empty: expected an expression"),
        (b" \n\t\n", "standard input is empty: expected an expression"),
        (None, "standard input is closed: give the expression as an argument"),
    ],
)
def test_unusable_standard_input(stdin, message, dezero):
    for command in ("grad", "eval"):
        assert one_error(dezero(command, "-", "--x", "1", stdin=stdin)) == message


class Directory(io.RawIOBase):
    """Standard input that cannot be read, as a directory given with `< DIR`."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer):
        raise IsADirectoryError(21, "Is a directory")


def test_standard_input_that_fails_to_read(dezero):
    # (A real directory cannot stand in: Python refuses to start with one as descriptor 0.)
    outcome = dezero("grad", "-", stdin=Directory())
    assert outcome == (2, "", "error: cannot read standard input: Is a directory\n")
