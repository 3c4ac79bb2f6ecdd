"""Fuzzing the command line: the inputs (Hypothesis strategies), the commands, the one property.

The property: whatever the input, `dezero` ends with exit status 0 and some output, or with
exit status 2 (124 for --timeout; or a status the command documents, such as 1 for `check`)
and exactly one `error:` line on standard error; never a traceback, never exit 3 (internal
error).

COMMANDS is a table: to fuzz another command, add one entry saying how to turn an expression
and its values into argv and standard input, and which exit statuses it may end with. Input
formats of other kinds (a batch file) get their own strategy over the same `Input`.
"""

from __future__ import annotations

import string
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from conftest import Outcome
from hypothesis import strategies as st


@dataclass(frozen=True)
class Input:
    """One fuzz case: the expression (or None to pass raw bytes on stdin), values, options."""

    expr: str | None
    values: tuple[tuple[str, str], ...] = ()  # (option text, value text), e.g. ("--x", "0.5")
    stdin: bytes | None = None  # with expr None, EXPR is "-" and this is standard input


@dataclass(frozen=True)
class Command:
    name: str
    build: Callable[[Input], tuple[list[str], bytes | None]]  # the case -> argv, stdin
    exit_codes: frozenset = frozenset({0, 2, 124})  # 124: the fuzzer may give a tiny --timeout
    always_output: bool = True  # batch on an empty input has no record to write
    verdicts: frozenset = frozenset()  # statuses that are a result on stdout, not an error


def expression_argv(command: str, *extra: str) -> Callable:
    """`dezero COMMAND EXPR [EXTRA] --NAME VALUE...`, EXPR `-` reading the case's bytes."""

    def build(case: Input) -> tuple[list[str], bytes | None]:
        argv = [command, "-" if case.expr is None else case.expr, *extra]
        for option, value in case.values:
            argv += [option, value] if "=" not in option else [option + value]
        return argv, case.stdin if case.expr is None else b""

    return build


def batch_points(*extra: str, delimiter: str = ",") -> Callable:
    """`dezero batch --expr EXPR` over a table whose columns are the case's options and values
    (CSV; TSV with a tab as `delimiter`, which needs `--input-format tsv` in `extra`)."""

    def build(case: Input) -> tuple[list[str], bytes | None]:
        if case.expr is None:
            return ["batch", "--expr", "x+y", *extra], case.stdin
        names = [option.lstrip("-").rstrip("=") for option, _ in case.values]
        header = delimiter.join(names) or "x"
        row = delimiter.join(value for _, value in case.values)
        data = f"{header}\n{row}\n{row}\n".encode("utf-8", "surrogatepass")  # any bytes
        return ["batch", "--expr", case.expr, *extra], data

    return build


def batch_records(*extra: str) -> Callable:
    """`dezero batch` over JSON Lines records made of the expression and values."""

    def build(case: Input) -> tuple[list[str], bytes | None]:
        import json

        if case.expr is None:
            return ["batch", "--input-format", "jsonl", *extra], case.stdin
        record = {"expr": case.expr, **{o.lstrip("-").rstrip("="): v for o, v in case.values}}
        line = json.dumps(record)
        return ["batch", "--input-format", "jsonl", *extra], f"{line}\n\n{line}\n".encode()

    return build


# Small limits, so that records meet them: each such record must get an error of its own.
BATCH_LIMITS = ("--max-nodes", "4", "--max-depth", "3", "--max-length", "60", "--timeout", "5")


COMMANDS = {
    "grad": Command("grad", expression_argv("grad")),
    "grad-json": Command("grad-json", expression_argv("grad", "--format", "json")),
    "grad-order2": Command("grad-order2", expression_argv("grad", "--order", "2")),
    "eval": Command("eval", expression_argv("eval")),
    "eval-quiet": Command("eval-quiet", expression_argv("eval", "-q")),
    "check": Command(
        "check", expression_argv("check"), frozenset({0, 1, 2, 124}), verdicts=frozenset({1})
    ),
    "graph": Command("graph", expression_argv("graph", "--order", "1")),
    "batch-csv": Command("batch-csv", batch_points(), frozenset({0, 1, 2}), False),
    "batch-tsv": Command(
        "batch-tsv",
        batch_points("--input-format", "tsv", delimiter="\t"),
        frozenset({0, 1, 2}),
        False,
    ),
    "batch-jsonl": Command("batch-jsonl", batch_records(), frozenset({0, 1, 2}), False),
    "batch-csv-limits": Command(
        "batch-csv-limits", batch_points(*BATCH_LIMITS), frozenset({0, 1, 2, 124}), False
    ),
    "batch-jsonl-limits": Command(
        "batch-jsonl-limits",
        batch_records("--order", "2", *BATCH_LIMITS),
        frozenset({0, 1, 2}),
        False,
    ),
}


@dataclass
class Tally:
    """What a fuzz run saw: inputs per command, exit statuses, kinds of error message."""

    tried: Counter = field(default_factory=Counter)
    codes: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)


TALLY = Tally()


def check(dezero: Callable[..., Outcome], command: Command, case: Input) -> Outcome:
    """Run one case with `dezero` (the in-process runner of conftest) and assert the property;
    record it in TALLY."""
    argv, stdin = command.build(case)
    outcome = dezero(*argv, stdin=stdin)
    TALLY.tried[command.name] += 1
    TALLY.codes[(command.name, outcome.code)] += 1
    context = f"argv={argv!r} stdin={stdin!r}\n{outcome}"
    assert outcome.code in command.exit_codes, context
    assert "Traceback" not in outcome.stderr + outcome.stdout, context
    lines = outcome.stderr.splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    others = [line for line in lines if not line.startswith(("error: ", "warning: ", "  "))]
    assert not others, context  # anything else on stderr is a stray message
    if outcome.code == 0 or outcome.code in command.verdicts:
        assert (outcome.stdout or not command.always_output) and not errors, context
    else:
        assert len(errors) == 1 and lines[0] == errors[0], context
        TALLY.errors[error_kind(errors[0])] += 1
    return outcome


def error_kind(line: str) -> str:
    """The message with its particulars (quoted text, numbers) blanked, to count kinds."""
    words = []
    for word in line[len("error: ") :].split():
        if any(c in word for c in "'\"") or any(c.isdigit() for c in word):
            word = "_"
        words.append(word)
    return " ".join(words[:8])


# --- Strategies ---------------------------------------------------------------------------

# Every code point, surrogates included (a shell passes undecodable bytes as those).
ANY_CHAR = st.characters(exclude_categories=())
TOKENS = [
    "x", "y", "z", "sin", "cos", "exp", "log", "pow", "sqrt", "abs", "tanh", "sigmoid", "pi",
    "e", "0", "1", "2.5", ".5", "1e-3", "1e400", "(", ")", ",", "+", "-", "*", "/", "^", "**",
    " ", "__import__", "x.y", "\t", "\n", "é", "\x00", "1.2.3", "2x",
    "[", "]", "[x, y]", ";", "±", "+-",
]  # fmt: skip
VALID = [
    "square(exp(square(x)))",
    "x^4 - 2*x^2",
    "sin(x)*exp(-x^2/2) + log(1+x^2)",
    "x*y + sin(x)/(1+y^2)",
    "pow(x, y) - -x ** -2 ^ 3",
    "tanh(sigmoid(abs(x - .5e1)))",
    "sqrt(cosh(x)) / sinh(y + pi) * e",
    "2^3^2 + ((x))",
    "[x*y, x + sin(y)]",
    "r = x^2 + y^2; [sqrt(r), r, 1]",
]


@st.composite
def valid_expression(draw, depth: int = 4) -> str:
    """A random well-formed expression (bounded depth, so this recursion is bounded too)."""
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(["x", "y", "2", "0.5", "pi", "1e-3", "0"]))
    kind = draw(st.integers(0, 3))
    if kind == 0:
        f = draw(st.sampled_from(["sin", "exp", "log", "sqrt", "tanh", "abs", "sigmoid"]))
        return f"{f}({draw(valid_expression(depth - 1))})"
    if kind == 1:
        return f"pow({draw(valid_expression(depth - 1))}, {draw(valid_expression(depth - 1))})"
    if kind == 2:
        return "-" + draw(valid_expression(depth - 1))
    op = draw(st.sampled_from(["+", "-", "*", "/", "^", "**"]))
    return f"({draw(valid_expression(depth - 1))}){op}{draw(valid_expression(depth - 1))}"


@st.composite
def near_miss(draw) -> str:
    """A valid expression with a few random deletions, insertions and duplications."""
    text = draw(st.one_of(st.sampled_from(VALID), valid_expression()))
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(text)))
        edit = draw(st.integers(0, 3))
        if edit == 0 and text:
            j = draw(st.integers(i, min(len(text), i + 3)))
            text = text[:i] + text[j:]
        elif edit == 1:
            text = text[:i] + draw(st.sampled_from(TOKENS)) + text[i:]
        elif edit == 2:
            text = text[:i] + draw(st.sampled_from(string.printable)) + text[i:]
        else:
            j = draw(st.integers(i, len(text)))
            text = text[:i] + text[i:j] * 2 + text[j:]
    return text


def long_text() -> st.SearchStrategy[str]:
    """Very long inputs: a repeated fragment, valid or not, up to tens of thousands of chars."""
    fragment = st.one_of(st.sampled_from(TOKENS + VALID), st.text(ANY_CHAR, max_size=5))
    return st.builds(lambda f, n, tail: f * n + tail, fragment, st.integers(100, 5000),
                     st.sampled_from(["", ")", "(", "x", "+"]))  # fmt: skip


NUMBERS = ["0.5", "-1", "-1e-3", "1,2,3", "nan", "-inf", "1e400", "1e-400", "-0.0", ".5", "5.",
           "2±0.1", "2+-0.1", "-1e-3±0", "nan±1"]  # fmt: skip
VALUE_MISSES = ["", ",", "1,", ",1", "1.2.3", "1e", "--1", "0x1", "1_0", "١", "1 2", "inf,x",
                "1±", "±1", "1±-1", "1±nan", "1+-inf", "1,2±0.1", "1±1e400", "1±0.1±0.2",
                "1+-", "1±x", "1±1,2"]  # fmt: skip


def value_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(NUMBERS),
        st.floats().map(repr),
        st.sampled_from(NUMBERS + VALUE_MISSES),
        st.text(ANY_CHAR, max_size=20),
        st.lists(st.sampled_from(NUMBERS + VALUE_MISSES), min_size=1, max_size=4).map(",".join),
    )


def option_name() -> st.SearchStrategy[str]:
    """Option texts: the usual --NAME, plus the odd ones (--NAME=, -v, clashes, junk)."""
    name = st.one_of(st.sampled_from(["x", "y", "z", "x_1", "_"]), st.text(ANY_CHAR, max_size=6))
    return st.one_of(
        name.map(lambda n: "--" + n),
        name.map(lambda n: f"--{n}="),
        st.sampled_from(["-v", "--var", "--format", "--wrt", "-q", "--", "---", "--=", "-", "--h"]),
        st.sampled_from(["--timeout", "--max-nodes", "--max-length", "--max-depth"]),
    )


def values() -> st.SearchStrategy[tuple]:
    plain = st.tuples(st.sampled_from(["--x", "--y", "--z"]), value_text())
    odd = st.tuples(option_name(), value_text())
    return st.lists(st.one_of(plain, plain, odd), max_size=4).map(tuple)


def expressions() -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(ANY_CHAR, max_size=60),
        near_miss(),
        valid_expression(),
    )


def inputs() -> st.SearchStrategy[Input]:
    """Expressions in argv with values; sometimes the expression as bytes on stdin instead."""
    in_argv = st.builds(Input, expressions(), values())
    on_stdin = st.builds(
        lambda data, vals: Input(None, vals, data),
        st.one_of(
            st.binary(max_size=80),
            st.one_of(near_miss(), valid_expression()).map(lambda s: s.encode()),
        ),
        values(),
    )
    # Every variable given a number (any float64, or a list): evaluation itself is fuzzed.
    numbers = st.one_of(
        st.floats().map(repr),
        st.lists(st.floats(), min_size=1, max_size=3).map(lambda xs: ",".join(map(repr, xs))),
        st.sampled_from(NUMBERS),
    )
    evaluated = st.builds(
        lambda text, x, y, z: Input(text, (("--x", x), ("--y", y), ("--z", z))),
        st.one_of(valid_expression(), near_miss(), st.sampled_from(VALID)),
        numbers,
        numbers,
        numbers,
    )
    return st.one_of(in_argv, in_argv, on_stdin, evaluated, evaluated)


def long_inputs() -> st.SearchStrategy[Input]:
    return st.builds(Input, long_text(), st.just((("--x", "0.5"), ("--y", "2"))))


# `dezero diff`, in each format and with --order (kept apart from the table above, so that
# commands added there and here merge without touching each other's lines).
COMMANDS.update(
    {
        name: Command(name, expression_argv("diff", *extra))
        for name, extra in [
            ("diff", ()),
            ("diff-json-order2", ("--format", "json", "--order", "2")),
            ("diff-latex", ("--format", "latex")),
        ]
    }
)


# See the derivative: vector results, uncertainties (VALUE±SD, NAME_sd columns) and --trace.
COMMANDS.update(
    {
        name: Command(name, expression_argv("grad", *extra))
        for name, extra in [
            ("grad-trace", ("--trace",)),
            ("grad-trace-json", ("--trace", "--format", "json")),
            ("grad-trace-order2", ("--trace", "--order", "2")),
        ]
    }
)
COMMANDS["eval-json"] = Command("eval-json", expression_argv("eval", "--format", "json"))


@st.composite
def vector_expression(draw) -> str:
    """`[e1, e2, ...]`, sometimes after definitions; sometimes a list where none may go (nested,
    an argument, part of an expression, empty), which must be one error with a caret."""
    elements = draw(st.lists(valid_expression(3), min_size=1, max_size=4))
    vector = "[" + ", ".join(elements) + "]"
    kind = draw(st.integers(0, 5))
    if kind == 0:
        return f"r = {draw(valid_expression(2))}; {vector.replace('x', 'r', 1)}"
    if kind == 1:  # a list nested, or as an argument, or inside an expression
        misplaced = [f"[{vector}]", f"sin({vector})", f"x + {vector}", f"{vector} * 2",
                     f"[x, {vector}]", "[]", f"{vector};x"]  # fmt: skip
        return draw(st.sampled_from(misplaced))
    return vector


def uncertain_value() -> st.SearchStrategy[str]:
    """A value with an uncertainty, good or bad."""
    number = st.one_of(st.floats().map(repr), st.sampled_from(NUMBERS))
    sign = st.sampled_from(["±", "+-", " ± ", "±±", "+ -"])
    return st.builds(lambda v, s, sd: v + s + sd, number, sign, number)


def see_derivative_inputs() -> st.SearchStrategy[Input]:
    """Vector results and uncertain values together, with x_sd given as a value of its own
    too (a column of batch's table); and huge graphs, which --trace must refuse."""
    value = st.one_of(uncertain_value(), st.sampled_from(NUMBERS + VALUE_MISSES))
    expression = st.one_of(vector_expression(), valid_expression(), near_miss())
    evaluated = st.builds(
        lambda text, x, y, sd: Input(text, (("--x", x), ("--y", y), ("--x_sd", sd))),
        expression,
        value,
        value,
        st.sampled_from(["0.1", "0", "-1", "nan", "", "abc", "1e400"]),
    )
    huge = st.builds(
        lambda n, vector: Input(("[x, " if vector else "") + "x" + "+x" * n
                                + ("]" if vector else ""), (("--x", "1±0.1"),)),
        st.integers(3000, 12000),
        st.booleans(),
    )  # fmt: skip
    return st.one_of(evaluated, evaluated, evaluated, huge)
