"""LaTeX: the LaTeX half of Printer, variable names and numbers as LaTeX, and partials' labels."""

from __future__ import annotations

import itertools
import re

from ..engine.operators import COMPARISONS
from .nodes import NUM, POW, PROD, SUM, VAR
from .text import (
    AND,
    ATOM,
    COMPARE,
    NOT,
    OR,
    POWER,
    PRODUCT,
    SUM_,
    UNARY,
    flat,
    joined,
    number_text,
)

_TEX_FUNCTIONS = {"exp", "log", "sin", "cos", "tan", "sinh", "cosh", "tanh", "sec", "csc", "cot"}
_TEX_RELATIONS = {"<": "<", "<=": r"\leq", ">": ">", ">=": r"\geq", "==": "=", "!=": r"\neq"}
_GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega",
    "Gamma", "Delta", "Theta", "Lambda", "Xi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
}  # fmt: skip


class TexParts:
    """The LaTeX half of Printer (printer.py), which mixes it in: the parts of one node as
    LaTeX, and products written by juxtaposition and fractions."""

    def _latex_parts(self, i: int) -> tuple[int, list]:
        n = self.dag.nodes[i]
        kind = n[0]
        if kind == VAR:
            return ATOM, [_tex_name(n[1])]
        if kind == NUM:
            text = tex_number(number_text(n[1]))
            prec = UNARY if text[0] == "-" else (PRODUCT if r"\cdot" in text else ATOM)
            return prec, [text]
        if kind == SUM:
            return SUM_, self._sum_parts(n, " + ", " - ")
        if kind == PROD:
            return self._product_parts(n[1], n[2], n[3])
        if kind == POW:
            return POWER, [(n[1], ATOM), "^{", (n[2], 0), "}"]
        name, args = n[1], n[2]
        if name in COMPARISONS:
            return COMPARE, [(args[0], SUM_), f" {_TEX_RELATIONS[name]} ", (args[1], SUM_)]
        if name == "and":
            return AND, [(args[0], AND), r" \wedge ", (args[1], NOT)]
        if name == "or":
            return OR, [(args[0], OR), r" \vee ", (args[1], AND)]
        if name == "not":
            return NOT, [r"\neg ", (args[0], NOT)]
        if name == "sqrt":
            return ATOM, [r"\sqrt{", (args[0], 0), "}"]
        if name == "abs":
            return ATOM, [r"\left|", (args[0], 0), r"\right|"]
        head = "\\" + name if name in _TEX_FUNCTIONS else r"\operatorname{" + name + "}"
        return ATOM, [head + r"\left(", *joined([(a, 0) for a in args], ", "), r"\right)"]

    def _tex_product(self, sign: list, top: list, bottom: list) -> tuple[int, list]:
        def juxtaposed(items: list) -> list:
            out: list = []
            for j, item in enumerate(items):
                if j:
                    out.append(r" \cdot " if self._leading_digit(item) else " ")
                out += flat([item])
            return out

        if bottom:
            numerator = juxtaposed(top) if top else ["1"]
            parts = [*sign, r"\frac{", *numerator, "}{", *juxtaposed(bottom), "}"]
            return (UNARY if sign else PRODUCT), parts
        parts = sign + juxtaposed(top)
        if sign:
            return UNARY, parts
        if len(top) > 1:
            return PRODUCT, parts
        return (POWER if isinstance(top[0], list) else ATOM), parts

    def _leading_digit(self, item) -> bool:
        """Whether `item` starts with a digit when written, so that juxtaposition would
        run two numbers together."""
        while True:
            if isinstance(item, str):
                return item[:1].isdigit()
            if isinstance(item, list):
                item = item[0]
                continue
            n = self.dag.nodes[item[0]]
            if n[0] == NUM:
                return number_text(n[1])[:1].isdigit()
            if n[0] == POW:
                item = (n[1], ATOM)
                continue
            return False


def tex_number(text: str) -> str:
    if text == "pi":
        return r"\pi"
    if text in ("(0/0)", "(1/0)", "(-1/0)"):
        return {"(0/0)": r"\mathrm{NaN}", "(1/0)": r"\infty", "(-1/0)": r"-\infty"}[text]
    mantissa, e, exponent = text.partition("e")
    if not e or not exponent:
        return text
    power = f"10^{{{int(exponent)}}}"
    if mantissa in ("1", "-1"):
        return ("-" if mantissa == "-1" else "") + power
    return f"{mantissa} \\cdot {power}"


def _tex_name(name: str) -> str:
    if len(name) == 1:
        return name
    if name in _GREEK:
        return "\\" + name
    match = re.fullmatch(r"([A-Za-z])_?([0-9]+)", name)
    if match:
        return f"{match[1]}_{{{match[2]}}}"
    return r"\mathit{" + name.replace("_", r"\_") + "}"


def tex_label(names: tuple[str, ...], partial: bool, output: int | None = None) -> str:
    """The LaTeX label of a partial: `\\frac{d f}{d x}`, or with several variables (`partial`)
    `\\frac{\\partial^{2} f}{\\partial x \\partial y}`; of an output of a vector result,
    `\\frac{d f_{0}}{d x}`."""
    d = r"\partial" if partial else "d"
    k = len(names)
    parts = []
    for name, group in itertools.groupby(names):
        n = len(list(group))
        parts.append(f"{d} {_tex_name(name)}" + (f"^{{{n}}}" if n > 1 else ""))
    f = "f" if output is None else f"f_{{{output}}}"
    top = f"{d}^{{{k}}} {f}" if k > 1 else f"{d} {f}"
    return rf"\frac{{{top}}}{{{' '.join(parts)}}}"
