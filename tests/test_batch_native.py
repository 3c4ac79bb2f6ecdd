"""The native path of batch (polars, msgspec) gives the Python path's bytes, whatever the input.

A corpus of messy inputs goes through both paths, through the real entry and through
`batch.run` with blocks small enough to split it many ways; so do random tables, cell by cell.
Then the pieces: polars' casts against values.parse_value, its spelling of numbers against
repr, msgspec's reading of a line against json's; and when the native path is taken at all.
"""

from __future__ import annotations

import io
import json
import math
import struct
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dezero_cli import api, batch
from dezero_cli.batch import cells
from dezero_cli.batch.job import PATH_VARIABLE

pytestmark = pytest.mark.requires_module("polars", extra="fast")

EXPR = "x*y + sin(x)/(1 + y^2)"

# Cells our value rule refuses or reads otherwise than a native cast does, and spellings of
# every kind: each must come out the same on both paths.
NUMBERS = [
    "1e400", "-1e400", "1e-400", "infinity", "INFINITY", "Inf", "-inf", "nan", "NaN", "+nan",
    "0x10", "1_000", "+1", "-0.0", "-0", "0", "0.0", "0e5", "5e-324", "1e-320", "1e308",
    "1.7976931348623159e308", "2.4703282292062327e-324", " 1", "1 ", "\t2", "", "abc", "1d5",
    "e5", "1e", "1.", ".5", "1E5", "\u0663", "\uff11", "1.5e-7", "0.00001", "123456789e10",
    "9007199254740993",
]  # fmt: skip


def _rows(cells_x, cells_y, ids=True) -> str:
    head = "id,x,y\n" if ids else "x,y\n"
    body = "".join(
        (f"r{i}," if ids else "") + f"{x},{y}\n" for i, (x, y) in enumerate(zip(cells_x, cells_y))
    )
    return head + body


CLEAN = _rows([repr(0.25 * i - 3) for i in range(60)], [repr(1.5 - 0.05 * i) for i in range(60)])
EDGES = _rows(NUMBERS, ["2"] * len(NUMBERS)) + _rows(["3"] * len(NUMBERS), NUMBERS)[7:]
CORPUS: dict[str, bytes] = {
    "clean": CLEAN.encode(),
    "edge numbers": EDGES.encode(),
    "quotes": (CLEAN + 'r90,"1",2\n"r,91",3,4\nr92,5,6\n').encode(),
    "crlf": CLEAN.replace("\n", "\r\n").encode(),
    "ragged": (CLEAN + "r90,1\nr91,1,2,3\nr92,4,5\n,,\n").encode(),
    "empty cells": (CLEAN + ",1,2\nr91,,2\nr92,1,\n").encode(),
    "blank lines": (CLEAN + "\n\nr93,1,2\n   \n").encode(),
    "nul": (CLEAN + "r90,1\x00,2\nr91\x00,1,2\n").encode(),
    "no trailing newline": CLEAN.rstrip("\n").encode(),
    "bom first": b"\xef\xbb\xbf" + CLEAN.encode(),
    "bom mid-stream": (CLEAN + "\ufeffr90,1,2\nr91,\ufeff1,2\n").encode(),
    "bare cr": (CLEAN + "r90,1,2\rr91,3,4\n").encode(),
    "invalid utf-8": CLEAN.encode() + b"r90,\xff,2\nr91,1,2\n",
    "non-ascii text": (CLEAN + "\u00e9t\u00e9,1,2\n\U0001f600,3,4\nit's,x,1\n").encode(),
    "tiny and huge results": _rows(
        ["1e-7", "3e-5", "1e-300", "1e200", "-2e-6"], ["1e-9"] * 5
    ).encode(),
    "nonfinite results": _rows(
        ["1e300", "-1e300", "nan", "inf"], ["1e300", "0", "1", "2"]
    ).encode(),
    "tabs and commas": (CLEAN + "a\tb,1,2\n").encode(),
}


def _run(data: bytes, path: str, fmt_in="csv", fmt_out="csv", block=1 << 20, **options):
    program = api.as_program(options.pop("expr", EXPR))
    options = batch.BatchOptions(expr=program, block_bytes=block, path=path, **options)
    sink = io.StringIO()
    stats = batch.run(io.BytesIO(data), sink, fmt_in, fmt_out, options)
    return sink.getvalue(), (stats.records, stats.failed, stats.first_error, stats.warnings)


def _tsv(data: bytes) -> bytes:
    return data.replace(b",", b"\t")


@pytest.fixture
def native_tables(monkeypatch):
    """How many blocks the native path took (parse gave a table)."""
    from dezero_cli.batch import native

    taken = []
    real = native.parse

    def parse(*args):
        table = real(*args)
        taken.append(table is not None)
        return table

    monkeypatch.setattr(native, "parse", parse)
    return taken


@pytest.mark.parametrize("name", sorted(CORPUS))
@pytest.mark.parametrize(
    "fmt_in, fmt_out", [("csv", "csv"), ("csv", "tsv"), ("tsv", "tsv"), ("tsv", "csv"),
                        ("csv", "jsonl")],
)  # fmt: skip
@pytest.mark.parametrize("block", [1 << 20, 64, 7])
def test_the_corpus_gives_the_same_bytes_on_both_paths(name, fmt_in, fmt_out, block):
    data = CORPUS[name] if fmt_in == "csv" else _tsv(CORPUS[name])
    want = _run(data, "python", fmt_in, fmt_out, block)
    assert _run(data, "native", fmt_in, fmt_out, block) == want


@pytest.mark.parametrize("name", sorted(CORPUS))
@pytest.mark.parametrize(
    "flags", [{"fail_fast": True}, {"order": 2}, {"order": 0}, {"wrt": ("y",)}]
)
def test_the_corpus_with_options_gives_the_same_bytes(name, flags):
    for block in (1 << 20, 50):
        want = _run(CORPUS[name], "python", block=block, **flags)
        assert _run(CORPUS[name], "native", block=block, **flags) == want


def test_the_native_path_takes_the_blocks_it_can_read_exactly(native_tables):
    _run(CORPUS["clean"], "native")
    _run(CORPUS["crlf"], "native")
    _run(CORPUS["edge numbers"], "native")
    _run(CORPUS["empty cells"], "native")
    assert native_tables == [True, True, True, True]
    native_tables.clear()
    for name in ("quotes", "ragged", "nul", "bom mid-stream", "bare cr", "invalid utf-8"):
        _run(CORPUS[name], "native")
    assert native_tables == [False] * 6  # the Python path, which names each row's problem


@pytest.mark.parametrize("name", ["clean", "edge numbers", "quotes", "invalid utf-8"])
@pytest.mark.parametrize("args", [[], ["--fail-fast"], ["--output-format", "jsonl"]])
def test_the_entry_point_gives_the_same_outcome_on_both_paths(name, args, dezero):
    argv = ["batch", "--expr", EXPR, *args]
    want = dezero(*argv, stdin=CORPUS[name], env={PATH_VARIABLE: "python"})
    assert dezero(*argv, stdin=CORPUS[name], env={PATH_VARIABLE: "native"}) == want


def test_lines_at_the_cap_and_over_it_on_both_paths(dezero):
    # The default --max-length allows lines of 61,048,576 bytes: one that long is read (its
    # 61 MB number is too large for float64), one byte more is read past.
    cap = 61_048_576
    at_cap = b"r90," + b"7" * (cap - 6) + b",2\n"
    over = b"r91,2," + b"8" * (cap - 5) + b"\n"
    data = CLEAN.encode() + at_cap + over + b"r92,1,2"
    want = dezero("batch", "--expr", EXPR, stdin=data, env={PATH_VARIABLE: "python"})
    lines = want.stdout.splitlines()
    assert len(lines) == 64
    assert lines[61].startswith("r90,777") and lines[61].endswith(
        ",2,,,,line 62: value of x: " + "7" * 27 + "... is outside the float64 range (largest "
        "about 1.8e308)"
    )
    assert lines[62] == (
        ',,,,,,"line 63: the line is longer than 61048576 bytes, the most --max-length allows"'
    )
    assert lines[63] == "r92,1,2,2.1682941969615794,2.1080604611736278,0.8653646424307365,"
    got = dezero("batch", "--expr", EXPR, stdin=data, env={PATH_VARIABLE: "native"})
    assert got == want


CELL = st.one_of(
    st.sampled_from(NUMBERS),
    st.floats(allow_nan=False).map(repr),
    st.floats(min_value=-1e-3, max_value=1e-3).map(repr),
    st.integers(-(10**20), 10**20).map(str),
    st.text(alphabet="0123456789.eE+-_xinfa \t\"'\r\x00\u00e9,;", max_size=8),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)  # fmt: skip
@given(
    st.lists(st.tuples(CELL, CELL, st.sampled_from(["", "p", "q r"])), min_size=1, max_size=40),
    st.sampled_from(["\n", "\r\n"]),
    st.integers(8, 400),
    st.sampled_from(["csv", "tsv"]),
)
def test_random_tables_give_the_same_bytes_on_both_paths(rows, newline, block, fmt):
    delim = "," if fmt == "csv" else "\t"
    text = f"x{delim}y{delim}note{newline}" + "".join(
        f"{x}{delim}{y}{delim}{note}{newline}" for x, y, note in rows
    )
    data = text.encode()
    for fmt_out in (fmt, "csv" if fmt == "tsv" else "tsv"):
        want = _run(data, "python", fmt, fmt_out, block)
        assert _run(data, "native", fmt, fmt_out, block) == want


# The pieces ------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.lists(CELL, min_size=1, max_size=30))
def test_the_native_cast_reads_cells_as_parse_value_does(texts):
    import polars as pl

    from dezero_cli.batch import native

    python_errors: dict = {}
    native_errors: dict = {}
    want = cells.column(list(texts), "x", 2, python_errors)
    got = native.cast(pl.Series(texts, dtype=pl.String), "x", "line", 2, native_errors)
    assert native_errors == python_errors
    good = [i for i in range(len(texts)) if i not in python_errors]
    assert np.array_equal(got[good], want[good], equal_nan=True)
    assert np.signbit(got[good]).tolist() == np.signbit(want[good]).tolist()  # -0.0


def _bits(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 2**64, size=n, dtype=np.uint64).view(np.float64)


def test_the_native_path_spells_numbers_as_repr():
    import polars as pl

    from dezero_cli.batch import native

    special = [0.0, -0.0, 5e-324, 1e-5, 1.5e-7, 9.999e-5, 1e-4, 0.1, 1e15, 1e16, 1e22, 2.5e-6]
    powers = [10.0**k for k in range(-323, 309)]
    a = np.concatenate([_bits(200_000, 1), special, powers, np.array([math.nan, -math.inf])])
    out = io.BytesIO()
    pl.DataFrame({"n": native.spell(a)}).write_csv(out, include_header=False, null_value="")
    assert out.getvalue().decode().split("\n")[:-1] == [cells.cell(x) for x in a.tolist()]


@pytest.mark.requires_module("msgspec", extra="fast")
def test_msgspec_spells_numbers_as_repr():
    encode = cells.msgspec_encoder()
    assert encode is not None, "msgspec is not installed"
    a = np.concatenate([_bits(100_000, 2), [0.0, -0.0, 1e-5, 1e16, 9999999999999998.0]])
    a = a[np.isfinite(a)]
    a = a[: len(a) // 5 * 5]
    assert cells.number_texts(a.reshape(-1, 5), encode) == [repr(x) for x in a.tolist()]


JSON_VALUE = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(-(2**70), 2**70),
        st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=6),
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                max_size=3),
    max_leaves=8,
)  # fmt: skip
JSON_LINE = st.one_of(
    st.dictionaries(st.text(max_size=4), JSON_VALUE, max_size=5).map(json.dumps),
    st.lists(st.tuples(st.sampled_from(["a", "b", "a:", "expr"]), JSON_VALUE), max_size=5).map(
        lambda pairs: "{" + ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in pairs) + "}"
    ),
    st.sampled_from(['{"x": 1e-400}', '{"x": [1, 1e-400]}', '{"x": 1e400}', '{"x": NaN}',
                     '{"x": "\\ud800"}', '{"a": 1, "a": 2}', '{"a": {"b": 1, "b": 2}}',
                     '{"a": "::", "b": 1}', '{"a:": 1, "a:": 1}', '{"x": -0.0}', "[1]",
                     '{"a": 1} x', '{"a": 1e-5}', "", "  ", '{"a" : 1, "a" : 2}']),
    st.text(max_size=30),
)  # fmt: skip


@pytest.mark.requires_module("msgspec", extra="fast")
@settings(max_examples=500, deadline=None)
@given(JSON_LINE)
def test_msgspec_reads_a_line_as_json_does(line):
    from dezero_cli.batch.jsonlines import dumps, fast_loader, load

    fast = fast_loader()
    assert fast is not None, "msgspec is not installed"
    want, got = load(line), fast(line)
    assert type(got) is type(want)
    if hasattr(want, "message"):
        assert got.message == want.message
    else:  # the same value, keys in the same order, floats bit for bit
        assert dumps(got) == dumps(want)  # a RawNumber as its text
        assert _floats(got) == _floats(want)


@pytest.mark.requires_module("msgspec", extra="fast")
@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(JSON_LINE, st.just(None)), max_size=12))
@example(['{"x": 1e-400, "id": 0}', '{"x": 0.0, "b": false}', '{"x": -0.0}', '{"x": 1E-999}'])
def test_msgspec_reads_a_block_as_json_does(lines):
    from dezero_cli.batch.jsonlines import RecordError, dumps, fast_block_loader, load_block

    lines = [RecordError("unreadable") if line is None else line for line in lines]
    fast = fast_block_loader()
    assert fast is not None, "msgspec is not installed"
    want, got = load_block(lines), fast(lines)
    assert len(got) == len(want)
    for w, g in zip(want, got):
        assert type(g) is type(w)
        if hasattr(w, "message"):
            assert g.message == w.message
        else:
            assert dumps(g) == dumps(w)
            assert _floats(g) == _floats(w)


@pytest.mark.requires_module("msgspec", extra="fast")
@settings(max_examples=200, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(["a", "b", "expr", "x"]), JSON_VALUE), max_size=8))
def test_msgspec_reads_a_block_of_plain_records_as_json_does(objs):
    # Blocks of records with no key twice: most clear the checks of the whole block at once.
    from dezero_cli.batch.jsonlines import dumps, fast_block_loader, load_block

    lines = [json.dumps(obj) for obj in objs]
    want, got = load_block(lines), fast_block_loader()(lines)
    assert [dumps(g) for g in got] == [dumps(w) for w in want]
    assert [_floats(g) for g in got] == [_floats(w) for w in want]


def _floats(value) -> list:
    out, stack = [], [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif type(item) is float:
            out.append(struct.pack("<d", item))
    return out


# When the native path is taken -------------------------------------------------------------------


def test_a_small_input_never_imports_polars(tmp_path, dezero_process):
    src = tmp_path / "small.csv"
    src.write_text(CLEAN)
    outcome, imported = dezero_process.imports("batch", "--expr", EXPR, str(src))
    assert outcome.code == 0
    assert not {"polars", "pyarrow", "msgspec"} & imported


def _big(rows: int = 60_000) -> str:
    return _rows(
        [repr(0.001 * i) for i in range(rows)], [repr(1.0 - 1e-5 * i) for i in range(rows)]
    )


@pytest.mark.parametrize("how", ["file", "pipe"])
def test_a_large_input_takes_the_native_path_with_the_same_bytes(tmp_path, how, dezero_process):
    text = _big()
    assert len(text) > 1 << 20
    args = ["batch", "--expr", EXPR]
    src = tmp_path / "big.csv"
    src.write_text(text)
    env = {PATH_VARIABLE: None}
    if how == "file":
        outcome, imported = dezero_process.imports(*args, str(src), env=env)
    else:
        outcome, imported = dezero_process.imports(*args, stdin=text, env=env)
    assert "polars" in imported
    want = dezero_process(*args, str(src), env={PATH_VARIABLE: "python"})
    assert outcome == want


@pytest.mark.requires_module("msgspec", extra="fast")
def test_records_from_a_large_input_read_with_msgspec_give_the_same_bytes(tmp_path, dezero_process):
    lines = [
        json.dumps({"id": i, "expr": f"x*{i % 7} + y", "x": i / 3, "y": 0.5}) for i in range(30_000)
    ]
    src = tmp_path / "big.jsonl"
    src.write_text("\n".join(lines) + "\n")
    outcome, imported = dezero_process.imports("batch", str(src), env={PATH_VARIABLE: None})
    assert "msgspec" in imported
    assert outcome == dezero_process("batch", str(src), env={PATH_VARIABLE: "python"})


def test_without_polars_batch_works_as_before(monkeypatch):
    monkeypatch.setitem(sys.modules, "polars", None)  # `import polars` fails
    monkeypatch.delitem(sys.modules, "dezero_cli.batch.native", raising=False)
    monkeypatch.delattr(batch, "native", raising=False)  # else `from . import native` finds it
    data = _big().encode()
    assert _run(data, "auto") == _run(data, "python")
    with pytest.raises(batch.BatchError, match=r"needs polars: pip install 'dezero-cli\[fast\]'"):
        _run(data, "native")


def test_a_process_without_the_fast_libraries_gives_the_same_bytes(tmp_path, dezero_process):
    # Modules of these names first on the path, each failing as a missing one does.
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    for name in ("polars", "pyarrow", "msgspec"):
        (blocked / f"{name}.py").write_text(f"raise ImportError('no module named {name}')\n")
    src = tmp_path / "big.csv"
    src.write_bytes(_big().encode() + b'r90,"1",2\nr91,abc,1\n')
    without = {"PYTHONPATH": str(blocked), PATH_VARIABLE: None}
    outcome = dezero_process("batch", "--expr", EXPR, str(src), env=without)
    want = dezero_process("batch", "--expr", EXPR, str(src), env={PATH_VARIABLE: "python"})
    assert outcome == want
    assert outcome.code == 1  # the quoted rows' errors are there
    parquet = dezero_process("batch", "--expr", EXPR, str(src), "-o", str(tmp_path / "o.parquet"),
                             env=without)  # fmt: skip
    assert parquet == (2, "", "error: Parquet needs pyarrow, not installed: "
                       "pip install 'dezero-cli[fast]'\n")  # fmt: skip
    assert not (tmp_path / "o.parquet").exists()
