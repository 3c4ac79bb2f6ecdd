"""grad and eval --format table, csv and tsv: one row per point, columns named as batch names
them, every digit for programs, rounded alike (and said so) only on a terminal that is too
narrow."""

from __future__ import annotations

import csv
import io

import pytest
from test_cli_honesty import on_terminal


def ok(outcome, stdout: str, stderr: str = "") -> None:
    assert (outcome.code, outcome.stdout, outcome.stderr) == (0, stdout, stderr)


def test_csv_of_a_range(dezero):
    ok(
        dezero("grad", "sin(x)*y", "--x", "0:1:0.25", "--y", "2", "--format", "csv"),
        "x,y,value,grad_x,grad_y\n"
        "0.0,2.0,0.0,2.0,0.0\n"
        "0.25,2.0,0.4948079185090459,1.9378248434212895,0.24740395925452294\n"
        "0.5,2.0,0.958851077208406,1.7551651237807455,0.479425538604203\n"
        "0.75,2.0,1.3632775200466682,1.4633777377476418,0.6816387600233341\n"
        "1.0,2.0,1.682941969615793,1.0806046117362795,0.8414709848078965\n",
    )


def test_tsv_with_higher_orders(dezero):
    ok(
        dezero("grad", "x^3", "--x", "-1:1:0.5", "--order", "3", "--format", "tsv"),
        "x\tvalue\tgrad_x\td2f/dx2\td3f/dx3\n"
        "-1.0\t-1.0\t3.0\t-6.0\t6.0\n"
        "-0.5\t-0.125\t0.75\t-3.0\t6.0\n"
        "0.0\t0.0\t0.0\t0.0\t6.0\n"
        "0.5\t0.125\t0.75\t3.0\t6.0\n"
        "1.0\t1.0\t3.0\t6.0\t6.0\n",
    )


def test_eval_table_piped_is_aligned_text_with_every_digit(dezero):
    ok(
        dezero("eval", "x/3", "--x", "1:3:1", "--format", "table"),
        "  x               value\n"
        "1.0  0.3333333333333333\n"
        "2.0  0.6666666666666666\n"
        "3.0                 1.0\n",
    )


def test_quiet_leaves_out_the_header(dezero):
    ok(dezero("eval", "2*x", "--x", "1,2", "--format", "csv", "-q"), "1.0,2.0\n2.0,4.0\n")
    ok(dezero("eval", "2*x", "--x", "1,2", "--format", "table", "-q"), "1.0  2.0\n2.0  4.0\n")


def test_a_number_that_is_not_finite_is_an_empty_cell_as_in_batch(dezero):
    outcome = dezero("grad", "1/x", "--x", "-1:1:1", "--format", "csv")
    assert outcome.code == 0
    assert outcome.stdout == "x,value,grad_x\n-1.0,-1.0,-1.0\n0.0,,\n1.0,1.0,-1.0\n"
    assert outcome.stderr.startswith("warning: ")
    # Read for people, the table says what it is.
    table = dezero("grad", "1/x", "--x", "-1:1:1", "--format", "table").stdout
    assert table.splitlines()[2].split() == ["0.0", "inf", "-inf"]


def test_scalars_give_one_row(dezero):
    ok(dezero("grad", "x*y", "--x", "2", "--y", "3", "--format", "csv"),
       "x,y,value,grad_x,grad_y\n2.0,3.0,6.0,3.0,2.0\n")  # fmt: skip
    ok(dezero("eval", "2", "--format", "csv"), "value\n2.0\n")


def test_the_grid_order_in_a_table(dezero):
    ok(
        dezero("eval", "x*y", "--x", "1:2:1", "--y", "0:1:0.5", "--grid", "--format", "csv"),
        "x,y,value\n1.0,0.0,0.0\n1.0,0.5,0.5\n1.0,1.0,1.0\n2.0,0.0,0.0\n2.0,0.5,1.0\n2.0,1.0,2.0\n",
    )


@pytest.mark.parametrize("order", [None, "2", "3"])
def test_columns_are_batchs_and_the_rows_join(order, dezero):
    """The same points through batch and through a table: the same column names, and the same
    numbers, so that the two join on the inputs."""
    expr = "x^4 - 2*x^2 + x*y"
    extra = [] if order is None else ["--order", order]
    table = dezero("grad", expr, "--x", "-1:1:0.5", "--y", "2", "--format", "csv", *extra).stdout
    points = "x,y\n" + "".join(f"{x},2\n" for x in ("-1.0", "-0.5", "0.0", "0.5", "1.0"))
    batch = dezero("batch", "--expr", expr, *extra, stdin=points).stdout
    batch_rows = list(csv.DictReader(io.StringIO(batch)))
    table_rows = list(csv.DictReader(io.StringIO(table)))
    assert list(batch_rows[0]) == [*table_rows[0], "error"]
    for b, t in zip(batch_rows, table_rows, strict=True):
        assert {k: v for k, v in b.items() if k not in ("y", "error")} == {
            k: v for k, v in t.items() if k != "y"
        }


def test_a_reduction_has_no_row_per_point(dezero):
    outcome = dezero("grad", "sum(x)", "--x", "0:1:0.5", "--format", "csv")
    assert (outcome.code, outcome.stdout, outcome.stderr) == (
        2,
        "",
        "error: a table has one row per point, but sum() mixes a vector's elements: give "
        "numbers, or use --format text or json\n",
    )
    assert dezero("grad", "sum(x)", "--x", "2", "--format", "csv").code == 0


def test_check_and_diff_keep_their_formats(dezero):
    assert dezero("check", "x", "--x", "1", "--format", "csv").code == 2
    assert dezero("diff", "x", "--format", "table").code == 2


# ---- On a terminal ----------------------------------------------------------------------------

TABLE = """\
┏━━━━━━┳━━━━━━━━━━┳━━━━━━━━┳━━━━━━━━━┓
┃    x ┃    value ┃ grad_x ┃ d2f/dx2 ┃
┡━━━━━━╇━━━━━━━━━━╇━━━━━━━━╇━━━━━━━━━┩
│  0.0 │      0.0 │    0.0 │     0.0 │
│ 0.25 │ 0.015625 │ 0.1875 │     1.5 │
│  0.5 │    0.125 │   0.75 │     3.0 │
│ 0.75 │ 0.421875 │ 1.6875 │     4.5 │
│  1.0 │      1.0 │    3.0 │     6.0 │
└──────┴──────────┴────────┴─────────┘
"""


def test_a_terminal_shows_a_table_with_every_digit_that_fits():
    argv = ["grad", "x^3", "--x", "0:1:0.25", "--order", "2", "--format", "table"]
    code, screen, _, err = on_terminal(*argv, columns=60, env={"NO_COLOR": "1"})
    assert (code, screen, err) == (0, TABLE, b"")


def test_a_narrow_terminal_rounds_all_numbers_alike_keeping_the_exponent():
    argv = ["grad", "x/3e10", "--x", "1:3:1", "--format", "table"]
    code, screen, _, _ = on_terminal(*argv, columns=44, env={"NO_COLOR": "1"})
    assert code == 0
    lines = screen.splitlines()
    # The points keep every digit: rounded, one could read as another point.
    assert lines[3:6] == [
        "│ 1.0 │ 3.333333333e-11 │ 3.333333333e-11 │",
        "│ 2.0 │ 6.666666667e-11 │ 3.333333333e-11 │",
        "│ 3.0 │ 1.000000000e-10 │ 3.333333333e-11 │",
    ]
    assert " ".join(lines[7:]) == (
        "results rounded to 10 significant digits to fit; every digit with --format csv, or piped"
    )


def test_digits_rounds_the_terminal_table_only(dezero):
    argv = ["eval", "x/3", "--x", "1:2:1", "--format", "table", "--digits", "3"]
    code, screen, _, _ = on_terminal(*argv, columns=80, env={"NO_COLOR": "1"})
    assert code == 0 and "│ 1.0 │ 0.333 │" in screen and "rounded" not in screen
    assert "0.3333333333333333" in dezero(*argv).stdout  # piped: every digit


def test_a_table_wider_than_the_terminal_at_3_digits_is_plain_text_and_says_so():
    argv = ["grad", "x^3*y", "--x", "0:1:0.5", "--y", "0.1", "--order", "2", "--format", "table"]
    code, screen, _, err = on_terminal(*argv, columns=60, env={"NO_COLOR": "1"})
    assert code == 0
    assert err.decode() == (
        "warning: the table needs 95 columns, more than the terminal's 60: its rows wrap "
        "(--format csv for programs)\n"
    )
