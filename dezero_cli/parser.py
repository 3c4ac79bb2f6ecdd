"""Text -> parse tree, with Lark's LALR parser over `grammar/expression.lark`.

Building the LALR tables costs tens of milliseconds, so they are saved once per user in a
private cache directory, keyed by a hash of the grammar and the Lark version. Lark itself is
imported only when this module parses: text that parses is compiled by `lalr.py` without it.
"""

from __future__ import annotations

import os
import re
import sys
from typing import TYPE_CHECKING

from .errors import ExpressionSyntaxError

if TYPE_CHECKING:
    import lark

GRAMMAR_NAME = "expression.lark"
_HERE = os.path.dirname(os.path.realpath(__file__))
# Inside a wheel the grammar is packaged next to the code; in a checkout it is at the top level.
# (Plain os.path: pathlib would add milliseconds to every start.)
GRAMMAR_PATHS = (
    os.path.join(_HERE, "grammar", GRAMMAR_NAME),
    os.path.join(os.path.dirname(_HERE), "grammar", GRAMMAR_NAME),
)

_parser: lark.Lark | None = None


def grammar_text() -> str:
    for path in GRAMMAR_PATHS:
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                return f.read()
    raise FileNotFoundError(f"grammar {GRAMMAR_NAME} is missing from the installation")


def _import_lark():
    """Lark, imported on first use."""
    if "lark" in sys.modules:
        return sys.modules["lark"]
    # Lark imports interegular, when installed, only to check grammars for collisions: work
    # that our parser never needs. Keep it out of the import.
    if "interegular" not in sys.modules:
        sys.modules["interegular"] = None  # type: ignore[assignment]
        try:
            import lark
        finally:
            del sys.modules["interegular"]
    import lark

    return lark


def build_parser(text: str, **options) -> lark.Lark:
    lark = _import_lark()
    return lark.Lark(text, parser="lalr", lexer="contextual", maybe_placeholders=True, **options)


def cache_dir() -> str:
    if os.environ.get("DEZERO_CACHE_DIR"):
        return os.environ["DEZERO_CACHE_DIR"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "dezero")


def open_private(path) -> object | None:
    """Open a cache file for reading, or None unless this user owns it and nobody else can
    change it: only such a file is trusted to unpickle."""
    f = open(path, "rb")  # noqa: SIM115 (returned to the caller, who closes it)
    st = os.fstat(f.fileno())
    if hasattr(os, "getuid") and (st.st_uid != os.getuid() or st.st_mode & 0o022):
        f.close()
        return None
    return f


def save_private(path, write) -> None:
    """Write a cache file with `write(f)` in a private directory, atomically: a concurrent
    reader sees all of it or nothing. A read-only home only costs rebuilding on each start."""
    import tempfile

    directory = os.path.dirname(path)
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".cache-")
        try:
            with os.fdopen(fd, "wb") as f:
                write(f)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        pass


def _load_cached(path) -> lark.Lark | None:
    try:
        f = open_private(path)
        if f is None:
            return None
        with f:
            return _import_lark().Lark.load(f)
    except Exception:
        return None


def get_parser() -> lark.Lark:
    """The LALR parser, loaded from the per-user cache or built (and cached) on first use."""
    global _parser
    if _parser is None:
        import hashlib
        from pathlib import Path

        lark = _import_lark()
        text = grammar_text()
        key = f"{text}\0{lark.__version__}\0{sys.version_info[:2]}".encode()
        path = Path(cache_dir()) / f"parser-{hashlib.sha256(key).hexdigest()[:24]}.pickle"
        _parser = _load_cached(path)
        if _parser is None:
            _parser = build_parser(text)
            save_private(path, _parser.save)
    return _parser


def parse(text: str) -> lark.Tree:
    """Parse an expression; raise ExpressionSyntaxError with a column and a hint."""
    if not text.strip():
        raise ExpressionSyntaxError("empty expression", text, 0)
    parser = get_parser()
    lark = _import_lark()
    try:
        return parser.parse(text)
    except lark.exceptions.UnexpectedInput as exc:
        raise _explain(exc, text) from None


_TOKEN_NAMES = {
    "NUMBER": "number",
    "NAME": "name",
    "POW": "'^'",
    "LPAR": "'('",
    "RPAR": "')'",
    "COMMA": "','",
    "PLUS": "'+'",
    "MINUS": "'-'",
    "STAR": "'*'",
    "SLASH": "'/'",
}


def _explain(exc: lark.exceptions.UnexpectedInput, text: str) -> ExpressionSyntaxError:
    """Turn Lark's error into one sentence a person can act on."""
    lark = _import_lark()
    if isinstance(exc, lark.exceptions.UnexpectedCharacters):
        col = exc.pos_in_stream
        char = text[col]
        if char == "." and col + 1 < len(text) and text[col + 1].isdigit():
            return _malformed_number(text, col)
        shown = repr(char) if char.isprintable() else f"U+{ord(char):04X}"
        return ExpressionSyntaxError(f"unexpected character {shown}", text, col)
    token = exc.token
    if token.type == "$END":
        end = len(text.rstrip())
        if text.count("(") > text.count(")"):
            return ExpressionSyntaxError("missing ')' at the end of the expression", text, end)
        return ExpressionSyntaxError("the expression ends too early", text, end)
    col = token.start_pos
    before = text[:col].rstrip()
    prev_end = len(before)
    # A number's last character is a digit or its point: `1..2` is one malformed number too.
    glued_to_digit = prev_end == col and before[-1:] != "" and before[-1] in "0123456789."
    if glued_to_digit and (
        token.type == "NUMBER"
        and token.startswith(".")
        or token.type == "NAME"
        and token[0] in "eE"
    ):
        return _malformed_number(text, col)  # 1.2.3, 1e
    if (
        token.type in ("NAME", "NUMBER", "LPAR")
        and before[-1:]
        and (before[-1].isalnum() or before[-1] in "._)")
    ):
        called = re.search(r"(?<![A-Za-z0-9_.])[A-Za-z_][A-Za-z0-9_]*$", before)
        if called and token.type != "LPAR":
            from .functions import FUNCTIONS  # only on this error path; parsing never needs it

            if called[0] in FUNCTIONS:  # `sin x`: a call without parentheses
                name = called[0]
                return ExpressionSyntaxError(
                    f"{name!r} is a function: call it as {name}(...)", text, called.start()
                )
        left = before.split()[-1] if before.split() else before
        left = left[-12:]
        return ExpressionSyntaxError(
            f"implicit multiplication is not supported: write {left}*{token.value}"
            if token.type != "LPAR"
            else f"implicit multiplication is not supported: write {left}*(...)",
            text,
            col,
        )
    if token.type == "RPAR" and text[:col].count("(") <= text[:col].count(")"):
        return ExpressionSyntaxError("unmatched ')'", text, col)
    what = _TOKEN_NAMES.get(token.type, repr(token.value))
    if token.type in ("NUMBER", "NAME"):
        what = f"{what} {token.value!r}"
    return ExpressionSyntaxError(f"unexpected {what}", text, col)


def _malformed_number(text: str, col: int) -> ExpressionSyntaxError:
    start = col
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in ".+-"):
        if text[start - 1] in "+-" and (start < 2 or text[start - 2] not in "eE"):
            break
        start -= 1
    end = col
    while end < len(text) and (
        text[end].isalnum() or text[end] == "." or text[end] in "+-" and text[end - 1] in "eE"
    ):
        end += 1
    return ExpressionSyntaxError(f"malformed number {text[start:end]!r}", text, start)
