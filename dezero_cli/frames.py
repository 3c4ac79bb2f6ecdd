"""Tables of other libraries (a pandas DataFrame, an Arrow Table or RecordBatch): the variables'
columns read as float64, and result columns added, in the table's own kind.

Neither library is imported unless a table of its kind is given. What a cell means:

* a number (a float, integer or boolean column) is that number as float64, NaN and inf
  included, as batch takes `nan` written in a cell;
* text is read as batch reads a CSV cell (`1e400` or `abc` is that row's error);
* a missing cell, as the library marks it (pandas: `isna`, so also NaN in a float column;
  Arrow: null), is that row's error: `no value for variable 'x'`.

The result columns are batch's: `value`, `grad_NAME` (and `d2f/dxdy`... for higher orders),
`error`. A number that is not finite is missing (NaN in pandas, null in Arrow), as it is an
empty cell in batch's CSV and a null in its Parquet; `error` is missing where the row is good.
"""

from __future__ import annotations

import math

import numpy as np

from .errors import DezeroError, ValueProblem
from .values import parse_value


class Table:
    """A table being read and extended: its kind, its rows, and the errors of its rows."""

    def __init__(self, table):
        kind = type(table).__module__.split(".")[0]
        if kind == "pandas" and type(table).__name__ == "DataFrame":
            self.kind = "pandas"
        elif kind == "pyarrow" and type(table).__name__ in ("Table", "RecordBatch"):
            self.kind = "arrow"
        else:
            raise ValueProblem(
                f"a table is a pandas DataFrame or an Arrow Table or RecordBatch, not "
                f"{type(table).__module__}.{type(table).__qualname__}"
            )
        self.table = table
        self.names = [str(name) for name in table.columns] if self.kind == "pandas" else None
        if self.names is None:
            self.names = list(table.schema.names)
        self.n = len(table) if self.kind == "pandas" else table.num_rows
        self.errors: dict[int, str] = {}

    def check_names(self, variables, added: list[str]) -> None:
        """ValueProblem for a variable without a column, or a column named as a result."""
        missing = [name for name in variables if name not in self.names]
        if missing:
            raise ValueProblem(
                f"no column for variable {missing[0]!r}: the table has "
                + (", ".join(repr(name) for name in self.names) or "no columns")
            )
        taken = [name for name in added if name in self.names]
        if taken:
            raise ValueProblem(
                f"the table has a column {taken[0]!r}, the name of a result column "
                f"({', '.join(added)}): rename it"
            )

    def numbers(self, name: str) -> np.ndarray:
        """The column `name` as float64; a missing or unreadable cell is its row's error."""
        if self.kind == "pandas":
            return self._pandas(name)
        return self._arrow(name)

    def _pandas(self, name: str) -> np.ndarray:
        import pandas as pd

        column = self.table[name]
        missing = column.isna().to_numpy()
        if pd.api.types.is_bool_dtype(column.dtype) or pd.api.types.is_numeric_dtype(column.dtype):
            numbers = column.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            numbers = self._cells(column.tolist(), name, missing)
        self._missing(missing, name)
        return numbers

    def _arrow(self, name: str) -> np.ndarray:
        import pyarrow as pa

        column = self.table.column(name)
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        if pa.types.is_dictionary(column.type):
            column = column.dictionary_decode()
        kind = column.type
        missing = np.asarray(column.is_null(), dtype=bool)
        if pa.types.is_floating(kind) or pa.types.is_integer(kind) or pa.types.is_boolean(kind):
            filled = column.cast(pa.float64()).fill_null(0.0)
            numbers = np.array(filled.to_numpy(zero_copy_only=False), dtype=np.float64)
        elif (
            pa.types.is_string(kind)
            or pa.types.is_large_string(kind)
            or pa.types.is_decimal(kind)
            or pa.types.is_null(kind)
        ):
            texts = column.cast(pa.string()).to_pylist()
            numbers = self._cells(texts, name, missing)
        else:
            raise ValueProblem(
                f"column {name!r} holds {kind} values, not numbers or text: a variable's "
                "column must hold one or the other"
            )
        self._missing(missing, name)
        return numbers

    def _cells(self, cells: list, name: str, missing: np.ndarray) -> np.ndarray:
        """Cells of any kind, one at a time: text as batch reads a cell, numbers as they are."""
        numbers = np.zeros(len(cells))
        for i, cell in enumerate(cells):
            if missing[i] or i in self.errors:
                continue
            try:
                if isinstance(cell, str):
                    value = parse_value(cell, name)
                    if value.ndim:
                        raise ValueProblem(f"value of {name} must be one number, got {cell!r}")
                    numbers[i] = value
                elif isinstance(cell, (int, float, np.number, np.bool_)):  # bool is an int
                    numbers[i] = float(cell)
                else:
                    raise ValueProblem(f"value of {name} is not a number: {cell!r}")
            except OverflowError:
                self.errors[i] = f"value of {name} is too large for float64: {cell!r}"
            except DezeroError as exc:
                self.errors[i] = exc.message
        return numbers

    def _missing(self, missing: np.ndarray, name: str) -> None:
        for i in np.flatnonzero(missing).tolist():
            self.errors.setdefault(i, f"no value for variable {name!r}")

    def with_columns(self, columns: dict[str, np.ndarray]):
        """The table with `columns` (float64, NaN where not evaluated) and `error` added."""
        errors = [self.errors.get(i) for i in range(self.n)]
        if self.kind == "pandas":
            import pandas as pd

            out = self.table.copy(deep=False)
            for name, numbers in columns.items():
                out[name] = np.where(np.isfinite(numbers), numbers, math.nan)
            # object, None where good, whatever pandas would infer from the messages: an empty
            # table (Dask's meta) gets the same dtype as a full one
            out["error"] = pd.Series(errors, index=out.index, dtype=object)
            return out
        import pyarrow as pa

        arrays = [self.table.column(j) for j in range(self.table.num_columns)]
        fields = list(self.table.schema)
        for name, numbers in columns.items():
            finite = np.isfinite(numbers)
            arrays.append(pa.array(numbers, pa.float64(), mask=None if finite.all() else ~finite))
            fields.append(pa.field(name, pa.float64()))
        arrays.append(pa.array(errors, pa.string()))
        fields.append(pa.field("error", pa.string()))
        schema = pa.schema(fields, metadata=self.table.schema.metadata)
        if isinstance(self.table, pa.RecordBatch):
            return pa.RecordBatch.from_arrays(arrays, schema=schema)
        return pa.Table.from_arrays(arrays, schema=schema)
