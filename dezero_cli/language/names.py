"""Calls that will not run: the message for an unknown function, with its suggestion (other
names of registered functions, and the functions of other tools that dezero does not have, for
which none is made), and the check of a call's number of arguments."""

from __future__ import annotations

from ..engine.functions import FUNCTIONS
from ..errors import ArityError


def check_arity(name: str, cls, n: int, text: str, position: int) -> None:
    """Raise ArityError unless `cls` takes `n` arguments (`arity` is a count, or (least, most)
    with most None for no upper bound)."""
    arity = cls.arity
    least, most = arity if isinstance(arity, tuple) else (arity, arity)
    if least <= n and (most is None or n <= most):
        return
    if least == most:
        wanted = f"{least} argument" + ("s" if least != 1 else "")
    elif most is None:
        wanted = f"at least {least} arguments"
    else:
        wanted = f"{least} to {most} arguments"
    raise ArityError(f"{name}() takes {wanted}, got {n}", text, position)


# Functions that mathematics and other tools have and dezero does not: each is a function of
# its own, so a registered name a letter away (`cos` for `cot`, `cosh` for `coth`) is never
# suggested for it. A name registered later is simply found first.
OTHER_FUNCTIONS = frozenset(["cot", "coth", "csc", "csch", "lg", "mod", "sec", "sinc", "trunc"])
# Other names of registered functions (numpy's and ISO's for the inverse ones, too).
ALIASES = {
    "power": "pow",
    "logistic": "sigmoid",
    "expit": "sigmoid",
    "fabs": "abs",
    "cosine": "cos",
    "tangent": "tan",
    "arcsin": "asin",
    "arccos": "acos",
    "arctan": "atan",
    "arctan2": "atan2",
    "arcsinh": "asinh",
    "arccosh": "acosh",
    "arctanh": "atanh",
    "arsinh": "asinh",
    "arcosh": "acosh",
    "artanh": "atanh",
    "psi": "digamma",
    "gammaln": "lgamma",
    "maximum": "max",
    "minimum": "min",
}


def unknown_message(name: str) -> str:
    suggestion = _meant_function(name)
    hint = f"did you mean {suggestion}?" if suggestion else "run 'dezero functions' for the list"
    return f"unknown function {name!r}: {hint}"


def _meant_function(name: str) -> str | None:
    """The registered function NAME stands for: the same in other letter case, a known other
    name of it, or a near miss (1 edit, 2 from 6 letters on); never when NAME is another
    function (a known one, or a registered name with digits after it)."""
    from ..spelling import closest

    lower = name.lower()
    if lower in FUNCTIONS:
        return lower
    if ALIASES.get(lower) in FUNCTIONS:
        return ALIASES[lower]
    if lower in OTHER_FUNCTIONS or lower.rstrip("0123456789") in FUNCTIONS:  # log2, ln2
        return None
    return closest(lower, sorted(FUNCTIONS), 1 if len(lower) < 6 else 2)
