"""What api.diff gives: every partial as a formula, read at one point, printed on demand."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..diagnostics import label
from .dag import Dag
from .printer import Printer
from .tex import tex_label


@dataclass
class Formulas:
    """Each partial derivative as a formula of the language, and the point it was read at."""

    expr: str
    point: dict[str, float]
    generic: bool  # no values were given: the formula holds wherever the expression is smooth
    wrt: tuple[str, ...]
    # Element k - 1: each distinct k-th partial (names in `wrt` order) -> its node in `dag`.
    levels: list[dict[tuple[str, ...], int]]
    dag: Dag
    variables: tuple[str, ...]  # all of the expression's, in order of first use
    warnings: list[str] = field(default_factory=list)
    # A vector result's number of outputs; then each entry of `levels` is a tuple of nodes,
    # one per output, and each formula a list of texts, one per output.
    outputs: int = 0

    def _key(self, names: Iterable[str]) -> tuple[str, ...]:
        rank = {name: i for i, name in enumerate(self.wrt)}
        return tuple(sorted(names, key=rank.__getitem__))

    def formula(self, names: Iterable[str], latex: bool = False) -> str | list[str]:
        """One partial (by the variables differentiated by, in any order) as a complete
        expression, its definitions first: `t1 = exp(x^2); 4*x*t1^2`. For a vector result,
        a list: that partial of each output."""
        key = self._key(names)
        entry = self.levels[len(key) - 1][key]
        if self.outputs:
            return [self._complete(node, latex) for node in entry]
        return self._complete(entry, latex)

    def _complete(self, node: int, latex: bool) -> str:
        definitions, (text,) = Printer(self.dag, latex, self.variables).listing([node])
        if latex:
            return "".join(f"{name} = {body},\\quad " for name, body in definitions) + text
        return "".join(f"{name} = {body}; " for name, body in definitions) + text

    @property
    def grad(self) -> dict[str, str | list[str]]:
        """The first derivative by each variable, as complete expressions."""
        return {name: self.formula((name,)) for name in self.wrt}

    @property
    def derivatives(self) -> list[dict[tuple[str, ...], str | list[str]]]:
        """Element k - 1 maps every k-tuple of variables (all orderings) to its partial."""
        out = []
        for k, level in enumerate(self.levels, start=1):
            texts = {key: self.formula(key) for key in level}
            out.append(
                {key: texts[self._key(key)] for key in itertools.product(self.wrt, repeat=k)}
            )
        return out

    def listing(self, latex: bool = False) -> list[tuple[str, str]]:
        """(left side, right side) lines: the definitions, then each distinct partial by its
        label (`df/dx`, `d2f/dxdy`; `df[0]/dx`, ... for a vector result, order by order and
        output by output), all sharing the definitions."""
        entries = []  # (key, output or None, node)
        for level in self.levels:
            for i in range(self.outputs) if self.outputs else [None]:
                entries += [(key, i, node if i is None else node[i]) for key, node in level.items()]
        definitions, texts = Printer(self.dag, latex, self.variables).listing(
            [node for _, _, node in entries]
        )
        labels = [
            tex_label(key, len(self.wrt) > 1, i) if latex else label(key, i)
            for key, i, _ in entries
        ]
        return definitions + list(zip(labels, texts))
