"""Fuzz every command of fuzz_harness.COMMANDS with the syntax of "See the derivative":
vector results `[e1, ...]` (and lists where none may go), values with uncertainties, good and
bad, NAME_sd columns, and --trace on graphs too large to trace. The property is the harness's:
a result, or one `error:` line and a documented status; never a traceback."""

from __future__ import annotations

import pytest
from fuzz_harness import COMMANDS, Input, check, see_derivative_inputs
from hypothesis import HealthCheck, given, settings

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)


@pytest.mark.parametrize("name", sorted(COMMANDS))
@FUZZ
@given(case=see_derivative_inputs())
def test_vectors_uncertainties_and_traces_give_a_result_or_one_error(name, case, dezero):
    check(dezero, COMMANDS[name], case)


REGRESSIONS = [
    Input("[x, [y]]", (("--x", "1"), ("--y", "2"))),
    Input("sin([x])", (("--x", "1"),)),
    Input("[]", ()),
    Input("[x", (("--x", "1"),)),
    Input("[x, y]", (("--x", "1±0.1"), ("--y", "1,2,3"))),
    Input("[sum(x), y]", (("--x", "1,2"), ("--y", "1,2,3"))),
    Input("x*y + 0*sum(x)", (("--x", "1,2"), ("--y", "2±0.1"))),
    Input("x", (("--x", "1,2±0.1"),)),
    Input("x", (("--x", "1±-1"),)),
    Input("x", (("--x", "±"),)),
    Input("x", (("--x", "1"), ("--x_sd", "-1"))),
    Input("x" + "+x" * 6000, (("--x", "1"),)),
    Input("sin(x)", (("--x", ",".join(["1"] * 1001)),)),
    Input("[x, 1]", (("--x", "nan±1"),)),
]


@pytest.mark.parametrize("case", REGRESSIONS, ids=lambda c: repr(c)[:50])
@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_regressions(name, case, dezero):
    check(dezero, COMMANDS[name], case)
