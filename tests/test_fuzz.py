"""Fuzz every command of the table in fuzz_harness: arbitrary text, near misses, odd values.

Bounded for CI; `python tests/bench/fuzz_long.py --examples 20000` runs the same longer.
"""

from __future__ import annotations

import pytest
from fuzz_harness import COMMANDS, GENERATORS, Input, check, inputs, long_inputs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,  # the same cases on every run: CI stays reproducible
)


@pytest.mark.parametrize("name", sorted(COMMANDS))
@FUZZ
@given(case=inputs())
def test_any_input_gives_a_result_or_one_error(name, case, dezero):
    check(dezero, COMMANDS[name], case)


@pytest.mark.parametrize("name", ["grad", "eval"])
@settings(FUZZ, max_examples=8)
@given(case=long_inputs())
def test_very_long_input(name, case, dezero):
    check(dezero, COMMANDS[name], case)


@pytest.mark.parametrize("name", sorted(GENERATORS))
@settings(FUZZ, max_examples=40)
@given(data=st.data())
def test_batch_generators(name, data, dezero):
    command, strategy = GENERATORS[name]
    check(dezero, command, data.draw(strategy()))


# Cases the fuzzer found or that stand for a class of input, kept as plain regressions.
REGRESSIONS = [
    Input("sin(x)", (("--x", "\udcff"),)),  # an undecodable byte from the shell
    Input("x\udcff", (("--x", "1"),)),
    Input("\x00", ()),
    Input("x", (("--\x00", "1"), ("--x", "1"))),
    Input("x", (("--x=", "1e400"),)),
    Input("x", (("--x", "1"), ("--x", "2"))),
    Input("(" * 5000 + "x" + ")" * 5000, (("--x", "1"),)),
    Input("-" * 20000 + "x", (("--x", "1"),)),
    Input("2" + "^2" * 3000, ()),
    Input("x" + "+x" * 20000, (("--x", "1,2,3"),)),
    Input(None, (("--x", "1"),), b"\xff\xfe\x00"),
    Input(None, (("--x", "1"),), b""),
    Input(None, (("--x", "1"),), "sin(x)".encode("utf-16")),
    Input("x", (("--max-nodes", "-1"),)),
    Input("x", (("--timeout", "1e999"),)),
    Input("x", (("--timeout", "2.3912e-209"), ("--x", "1"))),  # the alarm outlived the command
    Input("", (("--x", "0\x1f"),)),  # str.strip() takes \x1f, float() did not: exit 3
    Input(None, (), b"\r\x00"),  # batch: csv.Error from a stray carriage return: exit 3
    Input("x+y", (("--x", "1\r2"), ("--y", "1"))),
    Input("", (("--x", "\ud800"),)),  # a lone surrogate: invalid UTF-8 in a batch file
    Input("", (("--", "\r"),)),  # Click quoted the stray argument raw: a second stderr line
    Input("x", (("--", "\x1b[31m"),)),
]


@pytest.mark.parametrize("case", REGRESSIONS, ids=lambda c: repr(c)[:50])
@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_regressions(name, case, dezero):
    check(dezero, COMMANDS[name], case)
