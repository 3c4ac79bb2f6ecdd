"""Parquet in and out, through pyarrow, a slice of rows at a time.

Reading: the file's row groups are read as slices of at most SLICE_ROWS rows, pages as they
are needed, so memory stays bounded whatever the row-group size. A variable's column is read
natively: a float column as it is (nan and inf taken as written, as in every spelling), an
integer column as the nearest float64 (as the same digits in a CSV cell are read; beyond 2**53
that may differ from the integer), a text column cell by cell as CSV cells are, a decimal
column as its exact decimal text. A null is that row's error. Errors name the row: `row N`,
the N-th data row.

Writing: the input columns as they came, then `value`, the derivatives as batch names them,
and `error` (null when the row is good); a number that is not finite is null, as it is an
empty cell in CSV. One row group per slice (per block of a text input), each flushed as it is
written; a run cut short (Ctrl-C) still writes the file's footer, so the rows written so far
are a valid Parquet file.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .cells import column
from .job import BatchError
from .names import output_columns

SLICE_ROWS = 1 << 16  # rows per slice: with 2 float64 columns and results, a few MB
_READ_BUFFER = 1 << 20  # bytes read at a time within a column chunk


class Input:
    """A Parquet file being read: its column names, and its rows a slice at a time."""

    def __init__(self, source):
        try:
            seekable = source.seekable()
        except (AttributeError, OSError, ValueError):
            seekable = False
        if not seekable:
            raise BatchError(
                "Parquet input must be a file: it is read from its end, not as a stream"
            )
        try:
            self.file = pq.ParquetFile(source, pre_buffer=False, buffer_size=_READ_BUFFER)
        except (pa.ArrowException, OSError) as exc:
            raise BatchError(f"the input is not a Parquet file ({exc})") from None
        self.schema = self.file.schema_arrow
        self.names = list(self.schema.names)
        self.rows = self.file.metadata.num_rows

    def check_variables(self, index: dict[str, int]) -> None:
        """BatchError for a variable's column that holds neither numbers nor text."""
        for name, j in index.items():
            kind = self.schema.field(j).type
            if _numbers_kind(kind) is None:
                raise BatchError(
                    f"column {name!r} holds {kind} values, not numbers or text: "
                    "a variable's column must hold one or the other"
                )

    def slices(self, size: int = SLICE_ROWS):
        """Slices of at most `size` rows, in order, each a Slice."""
        try:
            for batch in self.file.iter_batches(batch_size=size, use_threads=False):
                if batch.num_rows:
                    yield Slice(batch)
        except (pa.ArrowException, OSError) as exc:
            raise BatchError(f"cannot read the Parquet input ({exc})") from None

    def output_schema(self, labels) -> pa.Schema:
        """The input's columns as they are, then batch's own (without the input's metadata:
        a pandas index description, say, would not describe the new columns)."""
        return pa.schema([*self.schema, *_result_fields(labels)])


def _numbers_kind(kind: pa.DataType) -> str | None:
    """How a column of this type is read as numbers: float, int, text, or None (it is not)."""
    if pa.types.is_floating(kind):
        return "float"
    if pa.types.is_integer(kind):
        return "int"
    if pa.types.is_dictionary(kind):
        return _numbers_kind(kind.value_type)
    if (
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_string_view(kind)
        or pa.types.is_decimal(kind)
        or pa.types.is_null(kind)
    ):
        return "text"
    return None


class Slice:
    """Rows of a Parquet file: its columns as Arrow arrays, and the errors of its rows."""

    def __init__(self, batch: pa.RecordBatch):
        self.batch = batch
        self.n = batch.num_rows
        self.errors: dict[int, str] = {}

    def numbers(self, j: int, name: str, where: str, first: int, label=None) -> np.ndarray:
        """Column `j` as float64; a null or a text that is not a number is its row's error.
        `label` names the column where a row has no value (`variable 'NAME'` if None)."""
        array = self.batch.column(j)
        if pa.types.is_dictionary(array.type):
            array = array.dictionary_decode()
        kind = _numbers_kind(array.type)
        if array.null_count:
            label = label or f"variable {name!r}"
            missing = np.flatnonzero(np.asarray(array.is_null()))
            for i in missing.tolist():
                self.errors.setdefault(i, f"{where} {first + i}: no value for {label}")
        if kind == "float":
            return array.cast(pa.float64()).to_numpy(zero_copy_only=False).copy()
        if kind == "int":  # numpy's conversion rounds to nearest, as reading the digits does
            return array.fill_null(0).to_numpy().astype(np.float64)
        if pa.types.is_null(array.type):
            return np.zeros(self.n)
        texts = array.cast(pa.string()).fill_null("0")
        native = _native()
        if native is not None:
            return native.cast_arrow(texts, name, where, first, self.errors)
        return column(texts.to_pylist(), name, first, self.errors, where)

    def cell(self, j: int, i: int) -> str:
        """One cell as text (for an error): a number as Python writes it."""
        return str(self.batch.column(j)[i].as_py())

    def inputs(self, count: int) -> list[pa.Array]:
        """The first `count` rows' input columns, as they came."""
        return [c if count == self.n else c.slice(0, count) for c in self.batch.columns]


def _native():
    try:
        from . import native
    except ImportError:
        return None
    return native


def text_schema(header: list[str], labels) -> pa.Schema:
    """The schema of a text input's output: its columns as text, then batch's own."""
    return pa.schema([*(pa.field(name, pa.string()) for name in header), *_result_fields(labels)])


def _result_fields(labels) -> list[pa.Field]:
    *numbers, error = output_columns(labels)
    return [*(pa.field(name, pa.float64()) for name in numbers), pa.field(error, pa.string())]


class Writer:
    """Writes each block or slice of results as a row group of the Parquet output."""

    delim = None  # no text: a native table is never asked for its lines

    def __init__(self, sink, schema: pa.Schema):
        self.sink = sink
        self.schema = schema
        self.stream = _Stream(sink)
        # Dictionaries suit repeated text; for float columns they only cost time.
        text = [f.name for f in schema if not pa.types.is_floating(f.type)]
        try:
            self.writer = pq.ParquetWriter(
                self.stream, schema, compression="zstd", use_dictionary=text
            )
        except (pa.ArrowException, OSError) as exc:
            raise BatchError(f"cannot write Parquet with these columns ({exc})") from None

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb) -> None:
        # Always the footer: a run cut short leaves the row groups written as a valid file.
        if kind is None:
            self.writer.close()
            self.sink.flush()
        else:
            with contextlib.suppress(Exception):
                self.writer.close()
                self.sink.flush()

    def write(self, inputs: list, numbers: list[np.ndarray], errors: dict, count: int) -> None:
        """Rows 0..count-1: the input columns, the numbers (nan and inf as null), the errors."""
        arrays = [_text(c) for c in inputs]
        for a in numbers:
            a = a[:count]
            finite = np.isfinite(a)
            arrays.append(pa.array(a, pa.float64(), mask=None if finite.all() else ~finite))
        if errors:
            arrays.append(pa.array([errors.get(i) for i in range(count)], pa.string()))
        else:
            arrays.append(pa.nulls(count, pa.string()))
        self.writer.write_batch(pa.record_batch(arrays, schema=self.schema))
        self.sink.flush()


def _text(column) -> pa.Array:
    """A column of input: an Arrow array as it is; cells of text (Python's or polars') as text."""
    if isinstance(column, pa.Array):
        return column
    if isinstance(column, list):
        return pa.array(column, pa.string())
    return column.to_arrow().cast(pa.string())  # a polars Series


class _Stream:
    """The binary sink as pyarrow writes to it: bytes, and where it is."""

    closed = False

    def __init__(self, sink):
        self.sink = sink
        self.position = 0

    def write(self, data) -> int:
        data = bytes(data)
        self.sink.write(data)
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        pass
