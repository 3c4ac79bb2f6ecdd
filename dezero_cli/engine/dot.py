"""Computational graphs as Graphviz DOT text.

`get_dot_graph` is pure: it walks from the outputs back through `creator` and `inputs` with an
explicit stack and numbers the nodes in the order it meets them, so the same graph always gives
the same text. Rendering it is a separate step (graphviz.py), the only one that touches files.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .core import Function, Variable


def walk(outputs: Variable | Iterable[Variable]) -> tuple[list[Variable], list[Function]]:
    """Every Variable and Function the outputs depend on, each once, in order of discovery."""
    outputs = [outputs] if isinstance(outputs, Variable) else list(outputs)
    variables: dict[int, Variable] = {}
    functions: dict[int, Function] = {}
    stack = list(reversed(outputs))
    while stack:
        v = stack.pop()
        if id(v) in variables:
            continue
        variables[id(v)] = v
        f = v.creator
        if f is not None and id(f) not in functions:
            functions[id(f)] = f
            stack.extend(reversed(f.inputs))
    return list(variables.values()), list(functions.values())


def count_functions(outputs: Variable | Iterable[Variable]) -> int:
    """The size of the graph behind `outputs`, in Functions."""
    return len(walk(outputs)[1])


def get_dot_graph(outputs: Variable | Iterable[Variable], verbose: bool = False) -> str:
    """DOT text for the graph behind `outputs`: variables as ellipses, functions as boxes.

    A variable shows its name, or its value when it has none; `verbose` adds the value to
    named variables and the shape to vectors.
    """
    variables, functions = walk(outputs)
    vid = {id(v): f"v{i}" for i, v in enumerate(variables)}
    lines = ["digraph g {", '  rankdir="TB";']
    for v in variables:
        # Named (inputs, outputs) orange as in the textbook; constants gray; the rest white.
        color = "orange" if v.name else ("lightgray" if v.creator is None else "white")
        lines.append(
            f'  {vid[id(v)]} [label="{_quote(_variable_label(v, verbose))}", '
            f"color={color}, style=filled]"
        )
    for i, f in enumerate(functions):
        fid = f"f{i}"
        lines.append(
            f'  {fid} [label="{_quote(type(f).__name__)}", color=lightblue, style=filled, '
            "shape=box]"
        )
        for x in f.inputs:
            lines.append(f"  {vid[id(x)]} -> {fid}")
        for ref in f.outputs:
            y = ref()
            if y is not None and id(y) in vid:
                lines.append(f"  {fid} -> {vid[id(y)]}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _variable_label(v: Variable, verbose: bool) -> str:
    data = np.asarray(v.data)
    value = repr(float(data)) if data.ndim == 0 else f"shape {data.shape}"
    if v.name is None:
        return value
    if not verbose:
        return v.name
    return f"{v.name}: {value}" if data.ndim == 0 else f"{v.name}: {value} {data.dtype}"


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
