"""Derivatives as formulas of the expression language, read off the recorded graph.

What `backward(create_graph=True)` records is the derivative's formula: every Function in it
is an operation the language can write. There is no second symbolic engine: the formula is
that graph, read back, simplified locally and printed.

    graph recorded by backward(create_graph=True)
      -> read.py      read_graph: a node for each Variable (at generic_point without values)
      -> dag.py       Dag: each node made once, simplified as it is made (nodes.py: kinds,
                      exact rationals)
      -> printer.py   Printer: text of the language, or LaTeX with tex.py (text.py: what both
                      share), a subexpression used more than once bound to a name
      -> formulas.py  Formulas: what api.diff gives, each partial printed on demand

Only api.diff imports it, when called: no other command loads it. Every walk is a loop: graphs
can be 100,000 deep.
"""

from .dag import Dag
from .formulas import Formulas
from .printer import Printer
from .read import FormulaError, generic_point, read_graph
from .tex import tex_label

__all__ = [
    "Dag",
    "FormulaError",
    "Formulas",
    "Printer",
    "generic_point",
    "read_graph",
    "tex_label",
]
