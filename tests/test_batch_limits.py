"""`dezero batch` under the limits, which hold per record: a record that meets one gets an
error of its own, and the batch goes on."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dezero_cli import api
from dezero_cli.batch import rows as rows_lib
from dezero_cli.batch.rows import Guard, grad_rows
from dezero_cli.errors import GraphTooLarge, TimeLimitExceeded
from dezero_cli.limits import Limits, enforce

pytestmark = pytest.mark.usefixtures("batch_path")  # each test on both paths

NODES_2 = (
    "the computation needs more than 2 graph nodes (the limit, --max-nodes); "
    "raise it with --max-nodes N"
)


def points(n: int) -> str:
    return "x,y\n" + "".join(f"{i / 1000},{i % 5 - 2}\n" for i in range(n))


def test_help_lists_the_limits(dezero):
    code, out, _ = dezero("batch", "--help", stdin=b"")
    assert code == 0
    for option in ("--max-nodes", "--max-length", "--max-depth", "--timeout"):
        assert option in out


def test_a_record_over_the_node_limit_fails_alone_and_the_batch_goes_on(dezero):
    text = points(3)
    code, out, err = dezero("batch", "--expr", "sin(cos(x))*y", "--max-nodes", "2", stdin=text)
    assert code == 1
    assert out.splitlines() == [
        "x,y,value,grad_x,grad_y,error",
        *(f'{x},{y},,,,"line {i + 2}: {NODES_2}"' for i, (x, y) in enumerate(
            line.split(",") for line in text.splitlines()[1:])),
    ]  # fmt: skip
    assert err == "error: 3 of 3 records failed, the first on line 2 (see the error field)\n"


@pytest.mark.parametrize("order", ["1", "2", "3"])
def test_rows_that_fit_one_by_one_give_the_same_output_as_without_a_limit(order, dezero):
    # One graph over all 5,000 rows is far over a limit of 400 nodes (a node of n values counts
    # 1 + n // 64), a single row is far under it: the rows are evaluated in pieces that fit,
    # and the output is the same, byte for byte.
    expr = "sin(x)*exp(-x*y)/(1+y^2)"
    text = points(5000)
    columns = {"x": np.arange(5000) / 1000, "y": np.arange(5000) % 5 - 2.0}
    with pytest.raises(GraphTooLarge), enforce(Limits(max_nodes=400)):
        grad_rows(expr, columns, 5000, None, int(order))
    with enforce(Limits(max_nodes=400)):
        grad_rows(expr, {k: c[:1] for k, c in columns.items()}, 1, None, int(order))
    _, free, _ = dezero("batch", "--expr", expr, "--order", order, "--max-nodes", "0", stdin=text)
    code, limited, err = dezero(
        "batch", "--expr", expr, "--order", order, "--max-nodes", "400", stdin=text
    )
    assert (code, err) == (0, "")
    assert limited == free
    assert len(limited.splitlines()) == 5001


def test_pieces_are_learned_from_the_first_evaluation():
    # The guard halves a piece that meets a limit, and starts later chunks at the size that fit.
    sizes = []
    real = rows_lib.grad_rows

    def grad_rows(program, columns, n, wrt, order):
        sizes.append(n)
        if n > 300:
            raise GraphTooLarge(1)
        return real(program, columns, n, wrt, order)

    guard = Guard(Limits(max_nodes=None), evaluate=grad_rows)
    program = api.as_program("x*y")
    columns = {"x": np.arange(1000.0), "y": np.ones(1000)}
    rows, done = guard.rows(program, columns, 1000, ("x", "y"), 1)
    assert done == 1000
    np.testing.assert_array_equal(rows.value, np.arange(1000.0))
    np.testing.assert_array_equal(rows.grad["x"], np.ones(1000))
    assert sizes == [1000, 500, 250, 250, 250, 250]  # the second half starts at 250
    sizes.clear()
    guard.rows(program, columns, 1000, ("x", "y"), 1)
    assert sizes == [250, 250, 250, 250]


def test_a_record_that_meets_a_limit_alone_fails_with_the_rest_of_its_expression():
    calls = []
    real = rows_lib.grad_rows

    def grad_rows(program, columns, n, wrt, order):
        calls.append(n)
        if program.text == "slow(x)" or n > 1:
            raise TimeLimitExceeded(0.5)
        return real(program, columns, n, wrt, order)

    guard = Guard(Limits(), evaluate=grad_rows)
    program = api.as_program("x*y")
    columns = {"x": np.arange(3.0), "y": np.ones(3)}
    rows, done = guard.rows(program, columns, 3, ("x", "y"), 1)
    assert done == 3  # each row alone fits
    assert calls == [3, 2, 1, 1, 1]
    assert rows.value.tolist() == [0.0, 1.0, 2.0]
    # once a single row has met the limit, the expression's other rows are not tried
    guard.hopeless["x*y"] = "stopped after the time limit of 0.5 s (--timeout)"
    calls.clear()
    assert guard.rows(program, columns, 3, ("x", "y"), 1) == (None, 0)
    assert calls == []


def test_records_mode_over_the_node_limit_fails_only_that_expression(dezero):
    big = "+".join(["sin(x)"] * 10)  # 19 nodes
    lines = [
        {"expr": "x*y", "x": 2, "y": 3},
        {"expr": big, "x": 1},
        {"expr": "sin(x)", "x": 0},
        {"expr": big, "x": 2},
    ]
    text = "".join(json.dumps(r) + "\n" for r in lines)
    code, out, err = dezero("batch", "--max-nodes", "5", stdin=text)
    assert code == 1
    message = NODES_2.replace("2 graph", "5 graph")
    assert [json.loads(line) for line in out.splitlines()] == [
        {"expr": "x*y", "inputs": {"x": 2.0, "y": 3.0}, "value": 6.0,
         "grad": {"x": 3.0, "y": 2.0}, "warnings": []},
        {"expr": big, "x": 1, "error": f"line 2: {message}"},
        {"expr": "sin(x)", "inputs": {"x": 0.0}, "value": 0.0, "grad": {"x": 1.0},
         "warnings": []},
        {"expr": big, "x": 2, "error": f"line 4: {message}"},
    ]  # fmt: skip
    assert err == "error: 2 of 4 records failed, the first on line 2 (see the error field)\n"


def test_records_mode_timeout_per_record(dezero):
    # A record whose expression takes far longer than the limit to read (200,000 terms) gets
    # the time-limit error; the records around it are unaffected.
    slow = "+".join(["x"] * 200_000)
    lines = [{"expr": "x+1", "x": 1}, {"expr": slow, "x": 1}, {"expr": "2*x", "x": 1}]
    text = "".join(json.dumps(r) + "\n" for r in lines)
    code, out, err = dezero("batch", "--timeout", "0.01", stdin=text)
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 1
    assert records[0]["value"] == 2.0 and records[2]["value"] == 2.0
    assert records[1] == {
        "expr": slow,
        "x": 1,
        "error": "line 2: stopped after the time limit of 0.01 s (--timeout)",
    }
    assert err == "error: 1 of 3 records failed, the first on line 2 (see the error field)\n"


def test_records_mode_timeout_with_vector_values(dezero):
    # Vector values are evaluated one record at a time, under the same limits.
    slow = "+".join(["sin(x)"] * 20_000)
    code, out, _ = dezero(
        "batch", "--timeout", "0.01", stdin=json.dumps({"expr": slow, "x": [1, 2]}) + "\n"
    )
    assert code == 1
    assert json.loads(out)["error"] == "line 1: stopped after the time limit of 0.01 s (--timeout)"


def test_records_mode_size_limits_per_record(dezero):
    lines = [{"expr": "((x))", "x": 1}, {"expr": "x+x+x+x", "x": 1}, {"expr": "(x)", "x": 1}]
    text = "".join(json.dumps(r) + "\n" for r in lines)
    code, out, _ = dezero("batch", "--max-depth", "1", "--max-length", "5", stdin=text)
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 1
    assert records[0]["error"] == (
        "line 1: the expression nests parentheses 2 deep, more than the limit of 1 (--max-depth)"
    )
    assert records[1]["error"] == (
        "line 2: the expression is 7 characters long, more than the limit of 5 (--max-length)"
    )
    assert records[2]["value"] == 1.0


def test_points_mode_expression_over_a_size_limit_is_a_usage_error(dezero):
    code, out, err = dezero("batch", "--expr", "x+x+x", "--max-length", "4", stdin="x\n1\n")
    assert (code, out) == (2, "")
    assert err == (
        "error: the expression is 5 characters long, more than the limit of 4 (--max-length)\n"
    )


def test_points_mode_timeout_counts_per_record_not_per_batch(dezero):
    # 40,000 rows of a cheap expression take longer than 0.2 s in all, far less each.
    code, out, err = dezero(
        "batch", "--expr", "x*y + sin(x)", "--timeout", "0.2", stdin=points(40_000)
    )
    assert (code, err) == (0, "")
    assert len(out.splitlines()) == 40_001


def test_a_line_longer_than_the_limit_allows_is_never_held_whole(dezero):
    # --max-length 3 allows lines of 6 * 3 bytes plus 1 MiB; the long line is read past, the
    # lines around it are unaffected, in both modes.
    cap = 6 * 3 + (1 << 20)
    message = f"the line is longer than {cap} bytes, the most --max-length allows"
    long_cell = "9" * (cap + 1)
    code, out, _ = dezero(
        "batch", "--expr", "x+1", "--max-length", "3", stdin=f"x\n1\n{long_cell}\n2\n"
    )
    assert code == 1
    assert out == f'x,value,grad_x,error\n1,2.0,1.0,\n,,,"line 3: {message}"\n2,3.0,1.0,\n'
    at_cap = "0" * (cap - 1) + "1"  # exactly `cap` bytes: read, and the number 1
    code, out, _ = dezero(
        "batch", "--expr", "x+1", "--max-length", "3", "--no-grad", stdin=f"x\n{at_cap}\n"
    )
    assert (code, out) == (0, f"x,value,error\n{at_cap},2.0,\n")
    records = [
        {"expr": "x+1", "x": 1},
        {"expr": "x+1", "x": 1, "pad": "a" * cap},
        {"expr": "x*2", "x": 1},
    ]
    text = "".join(json.dumps(r) + "\n" for r in records)
    code, out, _ = dezero("batch", "--max-length", "3", stdin=text)
    assert code == 1
    assert [json.loads(line).get("error") for line in out.splitlines()] == [
        None,
        f"line 2: {message}",
        None,
    ]


def test_a_header_line_longer_than_the_limit_allows_is_a_usage_error(dezero):
    header = "x" + "," * (6 * 3 + (1 << 20))
    code, out, err = dezero("batch", "--expr", "x+1", "--max-length", "3", stdin=header + "\n1\n")
    assert (code, out) == (2, "")
    assert err == f"error: the header line (line 1) is longer than {6 * 3 + (1 << 20)} bytes\n"
