"""A record's fields: the values of its variables and uncertainties, read as every spelling
of a value is, and the JSON text of the fields it passes through (with an error, if any)."""

from __future__ import annotations

import functools
import math
from json.encoder import encode_basestring_ascii

import numpy as np

from .. import api
from ..api import Program
from ..errors import ExpressionSyntaxError
from ..values import literal_problem
from .jsonlines import Duplicate, RawNumber, RecordError, dumps
from .names import SD_SUFFIX, uncertainty_columns

MISSING = object()  # a variable the record has no field for
FLOAT = {float}
_STR = {str}
_INT = {int}


def field_texts(column: list) -> list[str]:
    """The JSON text of each value of a column, as dumps writes it; in bulk where the column
    is of one common kind."""
    kinds = set(map(type, column))
    if kinds == _STR:
        return list(map(encode_basestring_ascii, column))
    if kinds == _INT:
        return list(map(int.__repr__, column))
    if kinds == FLOAT:
        return list(map(float.__repr__, column))
    return list(map(dumps, column))


def plain_numbers(column: list) -> list:
    """A column of values as floats where every one is a JSON number float64 holds (an integer
    as json_value reads it); else the column as it is."""
    kinds = set(map(type, column))
    if kinds == FLOAT or not kinds <= _NUMBER:
        return column
    try:
        return list(map(float, column))
    except OverflowError:  # an integer of 309 digits or more: judged alone
        return column


_NUMBER = {float, int}


def skipped(program: Program, own_expr: bool) -> frozenset:
    """The fields of a record that are not written back as they came: its variables, and its
    `expr` in records mode (with --expr, a record's own `expr` is passed, and clashes)."""
    return frozenset((*program.variables, "expr") if own_expr else program.variables)


def json_value(v, name: str):
    """A record's value for a variable: a number, a list of numbers, or text parse_value reads.

    The same rule as for every spelling of a value: a number float64 cannot hold is refused.
    """
    if v is MISSING:
        raise RecordError(f"no value for variable {name!r}")
    if type(v) is int:
        try:
            return float(v)
        except OverflowError:  # an integer of 309 digits or more
            raise RecordError(f"value of {name} is outside the float64 range") from None
    if isinstance(v, RawNumber):
        return raw_number(v, name)
    if isinstance(v, str):
        x = api.parse_value(v, name)
        return float(x) if x.ndim == 0 else x
    if isinstance(v, list) and v and all(type(x) in (int, float, RawNumber) for x in v):
        texts = (x.text if type(x) is RawNumber else repr(x) for x in v)
        return api.parse_value(",".join(texts), name)
    raise RecordError(f"value of {name} is not a number or a list of numbers: {dumps(v)}")


def raw_number(v: RawNumber, name: str) -> float:
    """A number kept as written, as a value: refused, unless float64 holds it after all."""
    x = float(v.text)
    if not literal_problem(v.text, x):
        return x
    if math.isinf(x):
        raise RecordError(f"value of {name} is outside the float64 range")
    raise RecordError(f"value of {name} is too small for float64 (it would become 0)")


@functools.lru_cache(maxsize=4096)
def sd_fields(variables: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(variable, NAME_sd field) for each field that may give a variable's uncertainty: those
    of names.uncertainty_columns for a record that had every one of them."""
    return tuple(uncertainty_columns(variables, {name + SD_SUFFIX for name in variables}).items())


def record_sd(obj: dict, program: Program) -> dict[str, float]:
    """The standard uncertainties a record gives in NAME_sd fields (names.uncertainty_columns),
    read as values are; one number each (api refuses a bad one)."""
    sd = {}
    for name, field_name in sd_fields(program.variables):
        if field_name not in obj:
            continue
        v = obj[field_name]
        if type(v) is not float:  # a plain float is taken as it is, as for values
            v = json_value(v, field_name)
        if type(v) is not float:
            raise RecordError(f"{field_name} must be one number, not {np.size(v)}")
        sd[name] = v
    return sd


def error_record(exc, line_no: int, obj) -> str:
    """The input record's own fields, and an `error` naming the line and the problem.

    A record's own `error` field cannot stand beside ours: its value goes into the message.
    """
    message = exc.message
    if isinstance(exc, ExpressionSyntaxError):
        message += f" (column {exc.column + 1})"
    if isinstance(obj, Duplicate):
        obj = obj.obj
    record = dict(obj) if isinstance(obj, dict) else {}
    if "error" in record:
        message += f' (the record\'s own "error" was {dumps(record.pop("error"))})'
    record["error"] = f"line {line_no}: {message}"
    return dumps(record)
