"""Ranges as values: START:STOP:STEP is a vector of points, wherever a vector is taken.

Exact points (each START + i*STEP of the decimals as written, rounded once; STOP itself when
it is one), every bad range with its one error line, the limit counted before any point is
made, and --grid's order.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from dezero_cli import api
from dezero_cli.errors import DezeroError, LimitExceeded
from dezero_cli.values import read_value


def ok(outcome, stdout: str, stderr: str = "") -> None:
    assert (outcome.code, outcome.stdout, outcome.stderr) == (0, stdout, stderr)


def error(outcome) -> str:
    """The message of the one `error:` line of an exit-2 outcome."""
    assert (outcome.code, outcome.stdout) == (2, ""), outcome
    assert outcome.stderr.count("\n") == 1 and outcome.stderr.startswith("error: "), outcome
    return outcome.stderr[len("error: ") : -1]


POINTS = [
    ("0:1:0.25", [0.0, 0.25, 0.5, 0.75, 1.0]),
    # Each point is the decimal START + i*STEP rounded once: 0.3, not 0.30000000000000004.
    ("0:1:0.1", [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]),
    ("0.1:0.7:0.1", [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]),
    ("-3:-1:0.5", [-3.0, -2.5, -2.0, -1.5, -1.0]),
    ("3:1:-0.5", [3.0, 2.5, 2.0, 1.5, 1.0]),
    ("1:1:0.5", [1.0]),  # one point, still a vector
    ("0:1:5", [0.0]),  # STOP not reached: the points up to it
    ("0:1:0.3", [0.0, 0.3, 0.6, 0.9]),  # 1 is 3.33 steps away: not a point
    # 1 is 3.000000000003 steps away, within 1e-9 of a whole number: STOP is the last point.
    ("0:1:0.333333333333", [0.0, 0.333333333333, 0.666666666666, 1.0]),
    ("-0.0:1:0.5", [-0.0, 0.5, 1.0]),
    (" 1 : 2 : .5 ", [1.0, 1.5, 2.0]),
    ("1e15:1.000000000000003e15:1", [1e15, 1e15 + 1, 1e15 + 2, 1e15 + 3]),
    ("2.5e-3:1e-2:2.5e-3", [0.0025, 0.005, 0.0075, 0.01]),
]


@pytest.mark.parametrize(("text", "points"), POINTS)
def test_points_of_a_range(text, points):
    got = api.parse_value(text, "x")
    assert got.ndim == 1 and got.tolist() == points
    assert [math.copysign(1, x) for x in got] == [math.copysign(1, x) for x in points]


def test_points_are_computed_directly_not_accumulated():
    x = api.parse_value("0:100:0.01", "x")
    assert x.size == 10_001 and x[-1] == 100.0
    # Every point is the float64 nearest the decimal i/100: what float() of its text gives.
    assert all(float(f"{i / 100:.2f}") == x[i] for i in range(10_001))
    # Beyond 22 decimals (or 17 digits) the decimals are no exact integers over a power of ten
    # that float64 holds: then point i is START + i*STEP in float64 arithmetic.
    z = api.parse_value("1e-30:5e-30:1e-30", "x")
    assert z.tolist() == [1e-30 + i * 1e-30 for i in range(4)] + [5e-30]


def test_the_kind_of_a_value_is_known_before_its_points_are_made():
    value = read_value("0:1e12:1", "x")
    assert (value.kind, value.size) == ("range", 1_000_000_000_001)
    assert read_value("2", "x").kind == "number"
    assert read_value("1,2", "x").kind == "list"
    assert read_value("0:1", "x", points=5).array().tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]


BAD = [
    ("0:1:0", "the range '0:1:0' for x has a step of 0"),
    (
        "3:1:0.5",
        "the range '3:1:0.5' for x steps up from 3 and never reaches 1: the step needs the other "
        "sign (3:1:-0.5)",
    ),
    (
        "1:3:-0.5",
        "the range '1:3:-0.5' for x steps down from 1 and never reaches 3: the step needs the "
        "other sign (1:3:0.5)",
    ),
    ("0:inf:1", "the range '0:inf:1' for x is not finite: its ends and step must be"),
    ("nan:1:0.1", "the range 'nan:1:0.1' for x is not finite: its ends and step must be"),
    ("0:1:nan", "the range '0:1:nan' for x is not finite: its ends and step must be"),
    ("0:1:", "the range '0:1:' for x has an empty part (START:STOP:STEP)"),
    (":", "the range ':' for x has an empty part (START:STOP:STEP)"),
    ("1:2", "the range '1:2' for x has no step: write START:STOP:STEP (1:2:0.1, say)"),
    ("1:2:3:4", "value of x is not a range START:STOP:STEP: '1:2:3:4'"),
    ("1,2:3", "value of x mixes a list and a range: '1,2:3' (give one or the other)"),
    ("0:a:1", "value of x is not a number: 'a'"),
    ("0:1e400:1", "value of x: 1e400 is outside the float64 range (largest about 1.8e308)"),
    (
        "0:1e9:1e-3",
        "the range '0:1e9:1e-3' for x has 1,000,000,000,001 points, more than the limit "
        "allows: a value of n points counts 1 + n/64 graph nodes, and the limit is 2,000,000 "
        "(--max-nodes)",
    ),
    (
        "1e20:1.00000000000001e20:1",
        "the step of the range '1e20:1.00000000000001e20:1' for x is finer than float64 can tell "
        "apart near 1e+20 (numbers there are 16384 apart): points would repeat",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_a_bad_range_is_one_error_line_and_exit_2(text, message, dezero):
    assert error(dezero("grad", "x", "--x", text)) == message
    assert error(dezero("eval", "x", "-v", f"x={text}")) == message.replace(
        "(--max-nodes)", "(the default of --max-nodes)"
    )


def test_the_limit_counts_a_range_as_a_node_of_its_points_before_making_them(dezero):
    # 64 * 9 points count 1 + 9 = 10 nodes: within --max-nodes 10, and not within 9.
    at_limit = f"0:{64 * 9 - 1}:1"
    assert dezero("eval", "x", "--x", at_limit, "-q").code == 0
    assert "the limit is 9 (--max-nodes)" in error(
        dezero("grad", "x", "--x", at_limit, "--max-nodes", "9")
    )
    # --max-nodes 0 is no limit: the range is made (and fits in memory here).
    assert dezero("grad", "x", "--x", "0:2e6:1", "--max-nodes", "0", "-q").code == 0
    # A range far past memory is refused at once, not allocated.
    with pytest.raises(LimitExceeded):
        api.parse_value("0:1e12:1e-3", "x")


def test_negative_bounds_are_values_not_options(dezero):
    ok(dezero("eval", "x^2", "--x", "-3:-1:1", "-q"), "9.0 4.0 1.0\n")
    ok(dezero("eval", "x^2", "--x=-3:-1:1", "-q"), "9.0 4.0 1.0\n")
    ok(dezero("eval", "x^2", "-v", "x=-3:-1:1", "-q"), "9.0 4.0 1.0\n")
    ok(dezero("eval", "x^2", "-vx=-3:-1:1", "-q"), "9.0 4.0 1.0\n")
    ok(dezero("eval", "-x", "--x", "-1:1:1", "-q"), "1.0 -0.0 -1.0\n")


def test_ranges_work_where_vectors_work(dezero):
    ok(
        dezero("grad", "x*y", "--x", "1:3:1", "--y", "2"),
        "f = [2.0, 4.0, 6.0]\ndf/dx = [2.0, 2.0, 2.0]\ndf/dy = [1.0, 2.0, 3.0]\n",
    )
    assert dezero("grad", "x*y", "--x", "1:3:1", "--y", "2").stdout == (
        dezero("grad", "x*y", "--x", "1,2,3", "--y", "2").stdout
    )
    ok(dezero("eval", "sum(x)", "--x", "0:1:0.1"), "f = 5.5\n")
    check = dezero("check", "sin(x)", "--x", "0:1:0.5")
    assert check.code == 0 and check.stdout.endswith(
        "check passed: 3 of 3 within tolerance (eps 1e-06, rtol 1e-05, atol 1e-08)\n"
    )
    assert dezero("graph", "x^2", "--x", "0:1:0.5").code == 0
    assert error(dezero("diff", "x^2", "--x", "0:1:0.5")) == (
        "diff prints the formula at one point: give x one number, not 3"
    )


def test_ranges_of_one_length_pair_up_elementwise(dezero):
    ok(dezero("eval", "x*y", "--x", "1:3:1", "--y", "0:1:0.5", "-q"), "0.0 1.0 3.0\n")
    assert error(dezero("eval", "x*y", "--x", "1:3:1", "--y", "0:1:0.25")) == (
        "vector values differ in length: x has 3, y has 5"
    )


def test_grid_takes_every_combination_first_variable_slowest(dezero):
    ok(
        dezero("eval", "10*x + y", "--y", "1:2:1", "--x", "0:2:1", "--grid", "--format", "json"),
        '{"schema": 1, "expr": "10*x + y", "inputs": {"x": [0.0, 0.0, 1.0, 1.0, 2.0, 2.0], '
        '"y": [1.0, 2.0, 1.0, 2.0, 1.0, 2.0]}, "value": [1.0, 2.0, 11.0, 12.0, 21.0, 22.0], '
        '"warnings": []}\n',
    )
    # Numbers stay numbers; a list takes part as a range does.
    ok(
        dezero("eval", "x + y + z", "--x", "0,10", "--y", "1:2:1", "--z", "100", "--grid", "-q"),
        "101.0 102.0 111.0 112.0\n",
    )
    # One vector: the same as without --grid.
    ok(dezero("eval", "x + y", "--x", "0:1:1", "--y", "1", "--grid", "-q"), "1.0 2.0\n")


def test_a_grid_past_the_limit_is_refused_before_it_is_made(dezero):
    assert error(dezero("eval", "x*y", "--x", "0:1e5:1", "--y", "0:1e5:1", "--grid")) == (
        "--grid of x (100,001) by y (100,001) has 10,000,200,001 points for each of 2 "
        "variables, more than the limit allows: a value of n points counts 1 + n/64 graph "
        "nodes, and the limit is 2,000,000 (the default of --max-nodes)"
    )


def test_parse_value_is_the_one_entry_and_batch_cells_stay_numbers(dezero):
    assert api.parse_value("2", "x").ndim == 0
    with pytest.raises(DezeroError):
        api.parse_value("0:1:0", "x")
    out = dezero("batch", "--expr", "x", stdin="x\n0:1:0.5\n")
    assert out.code == 1
    assert (
        out.stdout == 'x,value,grad_x,error\n0:1:0.5,,,"line 2: value of x must be one number, '
        "got '0:1:0.5'\"\n"
    )
    assert np.array_equal(api.parse_value("0:2:1", "x"), [0.0, 1.0, 2.0])
