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

import os
import string
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from conftest import Outcome, run_in_process
from hypothesis import strategies as st

from dezero_cli.engine.functions import FUNCTIONS


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
    # More to hold for this command: (case, argv, stdin, outcome) -> None, asserting.
    verify: Callable | None = None


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
        assert len(errors) == 1, context
        # Before the error line only warnings (batch: those of the rows); after it, its context.
        before = lines[: lines.index(errors[0])]
        assert all(line.startswith("warning: ") for line in before), context
        TALLY.errors[error_kind(errors[0])] += 1
    if command.verify is not None:
        command.verify(case, argv, stdin, outcome)
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
# Every registered function: the generators below draw from the registry, so a new function
# is fuzzed with no edit here.
FUNCTION_NAMES = sorted(FUNCTIONS)
TOKENS = FUNCTION_NAMES + [
    "x", "y", "z", "pi", "e", "0", "1", "2.5", ".5", "1e-3", "1e400", "(", ")", ",", "+", "-",
    "*", "/", "^", "**", " ", "__import__", "x.y", "\t", "\n", "é", "\x00", "1.2.3", "2x",
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
    "max(x, y, 0) - min(x, 1) + clip(x, -1, y) + relu(x - 1) + softplus(-x)",
    "atan2(y, x) * hypot(x, y) + asin(x / 2) + acosh(1 + x^2) + atanh(y / 3)",
    "gamma(x) + lgamma(x) * digamma(y) - polygamma(2, x) + beta(x, y) + erfc(x) / erf(y)",
    "floor(x) + ceil(y) + round(x * y) + cbrt(-x) + log1p(y) + expm1(x) + log2(x) + log10(y)",
]


def arities(name: str) -> list[int]:
    """Numbers of arguments a call of `name` may get: its arity, or for a function that takes
    any number from k on, k to k + 2."""
    arity = FUNCTIONS[name].arity
    least, most = arity if isinstance(arity, tuple) else (arity, arity)
    return list(range(least, (least + 2 if most is None else most) + 1))


# What a static argument (polygamma's n, a number in the text) may be written as: right, and
# the ways it can be wrong.
STATIC_TEXTS = ["0", "1", "2", "3", "10", "171", "1.5", "-1", "x", "1e300", "(2)"]


@st.composite
def valid_expression(draw, depth: int = 4) -> str:
    """A random well-formed expression (bounded depth, so this recursion is bounded too)."""
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(["x", "y", "2", "0.5", "pi", "1e-3", "0"]))
    kind = draw(st.integers(0, 3))
    if kind <= 1:  # a call of any registered function, with an argument count it takes
        f = draw(st.sampled_from(FUNCTION_NAMES))
        n = draw(st.sampled_from(arities(f)))
        static = getattr(FUNCTIONS[f], "static_args", 0)
        args = [draw(st.sampled_from(STATIC_TEXTS)) for _ in range(min(static, n))]
        args += [draw(valid_expression(depth - 1)) for _ in range(n - len(args))]
        return f"{f}({', '.join(args)})"
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
                "1+-", "1±x", "1±1,2", "0:1:0.5±0.1"]  # fmt: skip
# Ranges: good ones (also without a step, which only plot takes), and every kind of bad one.
NUMBERS += [
    "0:1:0.25",
    "-3:-1:0.5",
    "3:1:-0.5",
    "-1:1:0.1",
    "1:1:1",
    "-2:2",
    "1e-300:1e-299:1e-300",
]
VALUE_MISSES += ["1:0:0.5", "0:1:0", "0:inf:1", "nan:1:1", "0:1e9:1e-3", ":", "0:1:", "1:2:3:4",
                 "1,2:3", "1e20:1.00000000000001e20:1", "0:1e400:1", "a:b:c"]  # fmt: skip


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


# --- Batch generators: the classes of "Nothing lost, nothing misleading" ---------------------
#
# Each is a Command with its own strategy (GENERATORS), and a `verify` that checks more than
# the one property: one output record per input line, no output name twice, an input file
# that is never changed, no temporary file left behind.


def _output_records(outcome: Outcome) -> list:
    from dezero_cli.batch.jsonlines import load

    return [load(line) for line in outcome.stdout.splitlines()]


def one_record_per_line(case: Input, argv, stdin, outcome: Outcome, header: int = 0) -> None:
    """Exit 0 or 1: exactly one JSON object out per line in (after `header` lines), no key
    twice in it, each with an error or a result."""
    if outcome.code not in (0, 1):
        return
    lines = stdin.decode("utf-8", "replace").split("\n")
    if lines[-1] == "":
        lines.pop()
    records = _output_records(outcome)
    context = f"argv={argv!r} stdin={stdin!r}\n{outcome}"
    assert len(records) == len(lines) - header, context
    for record in records:
        assert type(record) is dict, context  # not a RecordError: valid, no key twice
        assert "error" in record or {"inputs", "value", "warnings"} <= record.keys(), context


def unique_output_names(case: Input, argv, stdin, outcome: Outcome) -> None:
    """No name twice: the CSV output header, or the keys of any JSON Lines record."""
    if outcome.code not in (0, 1):
        return
    context = f"argv={argv!r} stdin={stdin!r}\n{outcome}"
    if "jsonl" in argv:
        one_record_per_line(case, argv, stdin, outcome, header=1)
    else:
        import csv
        import io

        header = next(csv.reader(io.StringIO(outcome.stdout)))
        assert len(header) == len(set(header)), context


BIG = ["9" * 308, "1" + "0" * 308, "1" + "0" * 400, "9" * 4300, "9" * 4301, "7" * 20000,
       "1e400", "-1e400", "1e-400", "2.4703282292062327e-324", "0." + "0" * 400 + "1",
       "1E+999", "-0.0", "5e-324", "1.7976931348623159e308"]  # fmt: skip


@st.composite
def huge_numbers(draw) -> Input:
    """Records (or CSV rows) with numbers float64 cannot hold: as values, passed through,
    nested, in strings and lists, among ordinary records."""
    number = st.one_of(st.sampled_from(BIG), st.floats(allow_nan=False).map(repr))
    lines = []
    for i in range(draw(st.integers(1, 4))):
        where = draw(st.sampled_from(["value", "pass", "nested", "string", "list", "plain"]))
        n = draw(number)
        body = {
            "value": f'"x":{n}',
            "pass": f'"x":1,"note":{n}',
            "nested": f'"x":1,"m":{{"a":[1,{{"b":{n}}}]}}',
            "string": f'"x":"{n}"',
            "list": f'"x":[1,{n}]',
            "plain": '"x":0.5',
        }[where]
        lines.append(f'{{"id":{draw(st.sampled_from([i, n]))},"expr":"x*2",{body}}}')
    return Input(None, (), ("\n".join(lines) + "\n").encode())


@st.composite
def huge_cells(draw) -> Input:
    """A CSV table whose cells are numbers float64 cannot hold, in variables and others."""
    rows = [
        f"{draw(st.sampled_from(BIG))},{draw(st.sampled_from(BIG + ['1']))}"
        for _ in range(draw(st.integers(1, 4)))
    ]
    return Input(None, (), ("x,note\n" + "\n".join(rows) + "\n").encode())


@st.composite
def split_lines(draw) -> Input:
    """Good records, then some split in two lines, glued on one, cut short, or given a BOM."""
    import json

    lines = [
        json.dumps({"id": i, "expr": draw(st.sampled_from(["x", "x^2", "sin(x)"])), "x": i})
        for i in range(draw(st.integers(1, 6)))
    ]
    for _ in range(draw(st.integers(0, 4))):
        k = draw(st.integers(0, len(lines) - 1))
        how = draw(st.sampled_from(["split", "glue", "comma", "cut", "space", "crlf"]))
        line = lines[k]
        cut = draw(st.integers(0, len(line)))
        if how == "split":
            lines[k : k + 1] = [line[:cut], line[cut:]]
        elif how in ("glue", "comma") and k + 1 < len(lines):
            lines[k : k + 2] = [line + (", " if how == "comma" else "") + lines[k + 1]]
        elif how == "cut":
            lines[k] = line[:cut]
        elif how == "space":
            lines[k] = " " + line + " "
        elif how == "crlf":
            lines[k] = line + "\r"
    text = "\n".join(lines) + "\n"
    if draw(st.booleans()):
        text = "\ufeff" + text
    return Input(None, (), text.encode())


RESERVED = ["value", "error", "grad_x", "grad_q", "d2f/dx2", "df/dx", "expr", "inputs",
            "grad", "derivatives", "warnings", "id", "x", "y", "note"]  # fmt: skip


@st.composite
def name_clashes(draw) -> Input:
    """A CSV header of names drawn from ours, duplicates and variables (x, y)."""
    name = st.one_of(st.sampled_from(RESERVED), st.text("abcdfgrx_/2", min_size=1, max_size=7))
    names = draw(st.lists(name, min_size=1, max_size=6))
    if draw(st.booleans()):
        names += ["x", "y"]
    row = ",".join(str(i + 1) for i in range(len(names)))
    return Input(None, (), (",".join(names) + "\n" + row + "\n" + row + "\n").encode())


@st.composite
def key_clashes(draw) -> Input:
    """JSON Lines records carrying our keys, keys given twice, nested or not."""
    lines = []
    for _ in range(draw(st.integers(1, 4))):
        keys = draw(st.lists(st.sampled_from(RESERVED), max_size=4))
        fields = [f'"{k}":{i}' for i, k in enumerate(keys)]
        if draw(st.booleans()):
            fields.append('"m":{"a":1,"a":2}')
        fields += ['"expr":"x*y"', '"x":1', '"y":2']
        order = draw(st.permutations(fields))
        lines.append("{" + ",".join(order) + "}")
    return Input(None, (), ("\n".join(lines) + "\n").encode())


# How the output names the input file (True: the same file) or another one (False).
ALIASES = {
    "same": True, "absolute": True, "dot": True, "parent": True, "double-slash": True,
    "symlink": True, "symlink-chain": True, "hard-link": True, "dir-symlink": True,
    "other": False, "existing": False, "symlink-other": False, "missing-dir": False,
    "directory": False, "stdout": False,
}  # fmt: skip


@st.composite
def output_aliases(draw) -> Input:
    """An input file and an -o naming it by another name, or naming some other file."""
    kind = draw(st.sampled_from(sorted(ALIASES)))
    fmt = draw(st.sampled_from(["csv", "jsonl"]))
    rows = draw(st.lists(st.tuples(st.sampled_from(NUMBERS), st.sampled_from(NUMBERS))))
    if fmt == "csv":
        header = draw(st.sampled_from(["x,y", "x,y", "a,b", "x,value"]))
        data = header + "\n" + "".join(f'"{x}","{y}"\n' for x, y in rows)
    else:
        expr = draw(st.sampled_from(["x*y", "x*y", "x*"]))
        data = "".join(f'{{"expr":"{expr}","x":"{x}","y":"{y}"}}\n' for x, y in rows)
    return Input(None, (("kind", kind), ("format", fmt)), data.encode())


def _alias_paths(case: Input) -> tuple[str, str, str]:
    """Make a directory holding the input file; the input path and the -o path."""
    import atexit
    import os
    import shutil
    import tempfile

    kind, fmt = dict(case.values)["kind"], dict(case.values)["format"]
    folder = os.path.realpath(tempfile.mkdtemp(prefix="dezero-fuzz-"))
    atexit.register(shutil.rmtree, folder, True)  # input_kept removes it; this if it never ran
    source = os.path.join(folder, f"in.{fmt}")
    with open(source, "wb") as f:
        f.write(case.stdin)
    os.mkdir(os.path.join(folder, "sub"))
    other = os.path.join(folder, f"other.{fmt}")
    if kind in ("existing", "symlink-other"):
        with open(other, "w") as f:
            f.write("old results\n")
    if kind in ("symlink", "symlink-chain"):
        os.symlink(source, os.path.join(folder, "link"))
    if kind == "symlink-chain":
        os.symlink(os.path.join(folder, "link"), os.path.join(folder, "link2"))
    if kind == "symlink-other":
        os.symlink(other, os.path.join(folder, "link"))
    if kind == "hard-link":
        os.link(source, os.path.join(folder, "hard"))
    if kind == "dir-symlink":
        os.symlink(folder, os.path.join(folder, "sub", "up"))
    output = {
        "same": os.path.relpath(source),
        "absolute": source,
        "dot": os.path.join(folder, ".", f"in.{fmt}"),
        "parent": os.path.join(folder, "sub", "..", f"in.{fmt}"),
        "double-slash": folder + "//" + f"in.{fmt}",
        "symlink": os.path.join(folder, "link"),
        "symlink-chain": os.path.join(folder, "link2"),
        "hard-link": os.path.join(folder, "hard"),
        "dir-symlink": os.path.join(folder, "sub", "up", f"in.{fmt}"),
        "other": os.path.join(folder, f"new.{fmt}"),
        "existing": other,
        "symlink-other": os.path.join(folder, "link"),
        "missing-dir": os.path.join(folder, "no", f"new.{fmt}"),
        "directory": os.path.join(folder, "sub"),
        "stdout": "-",
    }[kind]
    return folder, source, output


def batch_alias(case: Input) -> tuple[list[str], bytes | None]:
    if case.expr is not None or not case.values:  # a plain case from inputs(): on stdin
        return ["batch", "--expr", "x*y"], case.stdin
    folder, source, output = _alias_paths(case)
    expr = ["--expr", "x*y"] if dict(case.values)["format"] == "csv" else []
    return ["batch", *expr, source, "-o", output], b""


def input_kept(case: Input, argv, stdin, outcome: Outcome) -> None:
    """The input is never changed, the same file is refused, no temporary file is left, and
    -o FILE holds exactly what standard output would."""
    import os
    import shutil

    if "-o" not in argv:
        return
    source, output = argv[argv.index("-o") - 1], argv[argv.index("-o") + 1]
    folder = os.path.dirname(source)
    kind = dict(case.values)["kind"]
    context = f"argv={argv!r}\n{outcome}"
    try:
        with open(source, "rb") as f:
            assert f.read() == case.stdin, context
        if ALIASES[kind]:
            assert outcome.code == 2 and "is the input file" in outcome.stderr, context
        left = [n for _, _, names in os.walk(folder) for n in names if n.endswith(".tmp")]
        assert not left, context
        if outcome.code == 2 and kind in ("existing", "symlink-other"):
            with open(output) as f:
                assert f.read() == "old results\n", context
        if outcome.code in (0, 1) and output != "-":
            to_stdout = run_in_process(*argv[: argv.index("-o")])
            with open(output, encoding="utf-8") as f:
                assert f.read() == to_stdout.stdout, context
            assert to_stdout.code == outcome.code, context
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _without_expr(case: Input) -> Input:
    """The records as points for --expr: without their own expressions."""
    return Input(None, (), case.stdin.replace(b'"expr":"x*2",', b""))


def _raw_stdin(*args: str) -> Callable:
    def build(case: Input) -> tuple[list[str], bytes | None]:
        return ["batch", *args], case.stdin if case.stdin is not None else b""

    return build


BATCH_CODES = frozenset({0, 1, 2})
GENERATORS = {
    "huge-numbers": (
        Command("huge-numbers", _raw_stdin("--input-format", "jsonl"), BATCH_CODES, False,
                verify=one_record_per_line),
        huge_numbers,
    ),
    "huge-numbers-points": (
        Command("huge-numbers-points", _raw_stdin("--expr", "x*2", "--input-format", "jsonl",
                                                  "--order", "2"),
                BATCH_CODES, False, verify=one_record_per_line),
        lambda: huge_numbers().map(_without_expr),
    ),
    "huge-cells": (
        Command("huge-cells", _raw_stdin("--expr", "x*2", "--output-format", "jsonl"),
                BATCH_CODES, False),
        huge_cells,
    ),
    "split-lines": (
        Command("split-lines", _raw_stdin("--input-format", "jsonl"), BATCH_CODES, False,
                verify=one_record_per_line),
        split_lines,
    ),
    "name-clashes-csv": (
        Command("name-clashes-csv", _raw_stdin("--expr", "x*y"), BATCH_CODES, False,
                verify=unique_output_names),
        name_clashes,
    ),
    "name-clashes-jsonl": (
        Command("name-clashes-jsonl", _raw_stdin("--expr", "x*y", "--output-format", "jsonl"),
                BATCH_CODES, False, verify=unique_output_names),
        name_clashes,
    ),
    "key-clashes": (
        Command("key-clashes", _raw_stdin("--input-format", "jsonl"), BATCH_CODES, False,
                verify=one_record_per_line),
        key_clashes,
    ),
    "output-aliases": (
        Command("output-aliases", batch_alias, BATCH_CODES, False, verify=input_kept),
        output_aliases,
    ),
}  # fmt: skip
# Ranges, --grid and the table formats of grad and eval; plot piped (text) and to files.
PLOT_DIR = os.path.join(tempfile.gettempdir(), f"dezero-fuzz-plot-{os.getpid()}")


def into_plot_dir(build: Callable) -> Callable:
    """`build`, with the folder that plot's -o FILE names made first (and again, if removed)."""

    def make(case: Input) -> tuple[list[str], bytes | None]:
        os.makedirs(PLOT_DIR, exist_ok=True)
        return build(case)

    return make


COMMANDS.update(
    {
        # A plot written to a file prints nothing.
        name: Command(
            name, into_plot_dir(expression_argv(command, *extra)), always_output="-o" not in extra
        )
        for name, command, extra in [
            ("grad-csv", "grad", ("--format", "csv")),
            ("grad-tsv-grid-order2", "grad", ("--format", "tsv", "--grid", "--order", "2")),
            ("eval-table-grid", "eval", ("--format", "table", "--grid")),
            ("plot-text", "plot", ("--order", "2")),
            ("plot-grid-png", "plot", ("--grid", "-o", f"{PLOT_DIR}/plot.png")),
            ("plot-svg", "plot", ("-o", f"{PLOT_DIR}/plot.svg")),
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
