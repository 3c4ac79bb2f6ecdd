"""JSON Lines as batch reads and writes them: every line judged alone, nothing dropped.

A number that float64 cannot hold (`1e400`, `1e-400`) or Python cannot read (an integer of more
than 4,300 digits) is read as a `RawNumber`, its text as written: a variable's value of that
kind is refused, as everywhere else (values.literal_problem), and a field passed through is
written back exactly as it came in; so is any other integer, read exactly by Python's int. A key
given twice in one object is an error of that record, not a value silently dropped.
"""

from __future__ import annotations

import json
from itertools import chain

from ..values import literal_problem


class RecordError(Exception):
    """Why one record cannot be used; it becomes that record's `error`."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Duplicate(RecordError):
    """A record with a key given twice in one object: an error, with every value kept, the
    record's fields (the last value of the key) and the message (all of them)."""

    def __init__(self, obj, key: str, values: list):
        shown = ", ".join(dumps(v) for v in values)
        super().__init__(f"the key {key!r} is given {len(values)} times in one object: {shown}")
        self.obj = obj


class RawNumber:
    """A JSON number kept as written: one that float64 cannot hold, or Python cannot read."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __eq__(self, other) -> bool:
        return isinstance(other, RawNumber) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __repr__(self) -> str:
        return f"RawNumber({self.text!r})"


def _float(text: str):
    x = float(text)
    if x != 0.0 and x - x == 0.0:  # finite and not zero: faithful (the common case)
        return x
    return RawNumber(text) if literal_problem(text, x) else x


def _int(text: str):
    # Only for a line Python's own reading refused: an integer of more than 4,300 digits.
    try:
        return int(text)
    except ValueError:
        return RawNumber(text)


def _constant(name: str):
    raise RecordError(f'{name} is not JSON: write the value as a string such as "nan"')


_twice: list[tuple[str, list]] = []  # keys given twice in the object being read, with values


def _object(pairs: list) -> dict:
    obj = dict(pairs)
    if len(obj) < len(pairs):
        seen: set[str] = set()
        key = next(k for k, _ in pairs if k in seen or seen.add(k))
        _twice.append((key, [v for k, v in pairs if k == key]))
    return obj


# The scanner alone (decode() adds two regex matches per line), integers read by Python's int;
# for a line it cannot take, the decoder, with json.loads's messages and huge integers as text.
_scan = json.JSONDecoder(
    parse_float=_float, parse_constant=_constant, object_pairs_hook=_object
).scan_once
_decoder = json.JSONDecoder(
    parse_float=_float, parse_int=_int, parse_constant=_constant, object_pairs_hook=_object
)


def load(line: str):
    """The JSON value of one line, or the RecordError saying why it has none."""
    try:  # the common case: one object, nothing around it, no key twice
        obj, end = _scan(line, 0)
        if end == len(line) and not _twice:
            return obj
    except Exception:  # judged again below, with the messages
        pass
    return _load_slowly(line)


def load_block(lines: list) -> list:
    """`load` of each line; a line that is already a RecordError stays one."""
    return [load(line) if type(line) is str else line for line in lines]


_FAST_MOST = 4300  # longer lines go to json: Python reads no integer of more digits


def fast_loader():
    """`load`, faster: msgspec reads a line where its reading is surely json's, and `load`
    every other line (so the same value, or the same error in the same words). None where
    msgspec is not installed.

    msgspec refuses NaN, 1e400, lone surrogates and malformed text, as json (with our hooks)
    does, but it reads `1e-400` as 0.0 and keeps the last value of a key given twice: a
    line with a zero, a nested object or a \\u escape is read by json, and so is one whose
    colons outside strings outnumber its keys (a key given twice).
    """
    try:
        import msgspec
    except ImportError:
        return None
    decode = msgspec.json.Decoder().decode
    failed = (msgspec.DecodeError, ValueError)

    def load_fast(line: str):
        if len(line) <= _FAST_MOST and "\\u" not in line:
            try:
                obj = decode(line)
            except failed:
                return load(line)
            if type(obj) is dict:
                # The common record: as many colons as keys (so no key twice, no colon in a
                # string), no list and no object inside, no zero (nor 0 or false, to be quick).
                if (
                    line.count(":") == len(obj)
                    and "[" not in line
                    and line.count("{") == 1
                    and 0.0 not in obj.values()
                ):
                    return obj
                if _as_json_reads(obj, line):
                    return obj
        return load(line)

    return load_fast


def fast_block_loader():
    """`load_block`, faster: msgspec reads every line of a block, then checks of the whole
    block show that its reading of each line is surely json's (those of fast_loader, in bulk);
    a block they do not clear is read line by line. None where msgspec is not installed."""
    load_fast = fast_loader()
    if load_fast is None:
        return None
    import msgspec

    decode = msgspec.json.Decoder().decode
    failed = (msgspec.DecodeError, ValueError, TypeError)  # TypeError: a RecordError line

    def load_block_fast(lines: list) -> list:
        try:
            objs = list(map(decode, lines))
        except failed:
            objs = None
        if objs is None or not _plain_records(lines, objs):
            return [load_fast(line) if type(line) is str else line for line in lines]
        if 0.0 in chain.from_iterable(map(dict.values, objs)):  # 0, false or a float zero
            for k, obj in enumerate(objs):
                values = obj.values()
                if 0.0 in values and any(type(v) is float and v == 0.0 for v in values):
                    objs[k] = load(lines[k])  # maybe an underflow such as 1e-400
        return objs

    return load_block_fast


def _plain_records(lines: list[str], objs: list) -> bool:
    """Whether every line is a plain record read as json reads it, but for float zeros (maybe
    an underflow): an object, no key twice (as many colons as keys in the whole block, and
    never fewer in a line), no list and no object inside, no \\u escape, nothing too long."""
    if not objs or set(map(type, objs)) != _DICT:
        return False
    text = "\n".join(lines)
    return (
        text.count(":") == sum(map(len, objs))
        and text.count("{") == len(objs)
        and "[" not in text
        and "\\u" not in text
        and max(map(len, lines)) <= _FAST_MOST
    )


_DICT = {dict}


def _as_json_reads(obj: dict, line: str) -> bool:
    """Whether `obj`, msgspec's reading of `line` (no \\u escape in it), is surely json's."""
    colons = line.count(":") - len(obj)  # a colon outside strings ends a key: no key twice
    for key, value in obj.items():
        colons -= key.count(":")
        kind = type(value)
        if kind is float:
            if value == 0.0:  # maybe an underflow: json's hook refuses 1e-400
                return False
        elif kind is str:
            colons -= value.count(":")
        elif kind is list:
            for item in value:
                kind = type(item)
                if kind is float:
                    if item == 0.0:
                        return False
                elif kind is str:
                    colons -= item.count(":")
                elif kind is not int and kind is not bool and item is not None:
                    return False  # nested
        elif kind is dict:
            return False
    return colons == 0


def _load_slowly(line: str):
    _twice.clear()
    if not line.strip():
        return RecordError("blank line")
    try:
        obj = _decoder.decode(line)  # exactly json.loads, with its messages
        if _twice:
            return Duplicate(obj, *_twice[0])
        return obj
    except RecordError as exc:
        return exc
    except json.JSONDecodeError as exc:
        return RecordError(f"not valid JSON ({exc.msg} at column {exc.colno})")
    except RecursionError:
        return RecordError("not valid JSON (nested too deep)")
    except ValueError as exc:  # not expected: numbers are read by our own hooks
        return RecordError(f"not valid JSON ({exc})")
    finally:
        _twice.clear()


def _not_json(value):
    raise TypeError(type(value).__name__)


# The JSON text of a value, as json.dumps gives it but without NaN, from an encoder built once
# (json.dumps builds one per call).
if json.encoder.c_make_encoder is not None:
    _chunks = json.encoder.c_make_encoder(
        None, _not_json, json.encoder.encode_basestring_ascii, None, ": ", ", ", False, False, False
    )

    def _encode(value) -> str:
        return "".join(_chunks(value, 0))

else:  # Python without the json accelerator
    _encode = json.JSONEncoder(allow_nan=False).encode


def dumps(record) -> str:
    """The JSON text of `record`, as json.dumps writes it, a RawNumber as its text."""
    try:
        return _encode(record)
    except (TypeError, RecursionError):  # a RawNumber somewhere, or deep nesting: rare
        return _dumps_raw(record)


def _dumps_raw(value) -> str:
    """json.dumps's text of `value` with RawNumbers written as they were read.

    A loop over an explicit stack: a record can nest as deep as json.loads allows.
    """
    out: list[str] = []
    stack: list = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, _Text):
            out.append(item)
        elif isinstance(item, RawNumber):
            out.append(item.text)
        elif isinstance(item, dict):
            parts: list = [_Text("}")]
            for i, (key, v) in enumerate(reversed(item.items())):
                parts.append(v)
                parts.append(_Text(_encode(key) + ": "))
                if i < len(item) - 1:
                    parts.append(_Text(", "))
            parts.append(_Text("{"))
            stack.extend(parts)
        elif isinstance(item, list):
            parts = [_Text("]")]
            for i, v in enumerate(reversed(item)):
                parts.append(v)
                if i < len(item) - 1:
                    parts.append(_Text(", "))
            parts.append(_Text("["))
            stack.extend(parts)
        else:
            out.append(_encode(item))
    return "".join(out)


class _Text(str):
    """Text already in JSON form, on _dumps_raw's stack."""

    __slots__ = ()
