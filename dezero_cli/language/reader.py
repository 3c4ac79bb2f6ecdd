"""Text -> records: what the parse loop's reduce callbacks collect, in postfix order.

Each callback appends a record (a number, a name, a call, an operator, the end of a statement)
and returns where its sub-expression starts, so that the resolver can find a call's arguments
and a definition's two sides without a tree.
"""

from __future__ import annotations

from .parse import parse


def read(text: str) -> list[tuple]:
    """The records of `text` in postfix order (raises ExpressionSyntaxError if it does not parse):

        ("number", text, position)           ("name", text, position)
        ("call", name, position, arguments)   arguments: [(start, position)] of each one
        ("op", rule, written, position)       ("result", (start, position))
        ("result", (start, position of '['), number of elements)   a vector result
        ("define", (start, position) of the left side, of the right side, position of =)

    where `start` is the index of the first record of a sub-expression.
    """
    records: list[tuple] = []

    def leaf(kind):
        def reduce(children):
            _, value, position = children[0]
            records.append((kind, value, position))
            return (len(records) - 1, position)

        return reduce

    def call(children):
        _, name, position = children[0]
        arguments = children[2] if len(children) == 4 else []
        records.append(("call", name, position, arguments))
        return (arguments[0][0] if arguments else len(records) - 1, position)

    def arguments(children):
        if len(children) == 1:
            return [children[0]]
        children[0].append(children[2])
        return children[0]

    def binary(rule):
        def reduce(children):
            left, (_, written, position), _ = children
            records.append(("op", rule, written, position))
            return left

        return reduce

    def prefix(rule):
        def reduce(children):
            (_, written, position), operand = children
            if rule is not None:
                records.append(("op", rule, written, position))
            return (operand[0], position)

        return reduce

    def statement(kind):
        def reduce(children):
            if kind == "result":
                records.append(("result", children[0]))
            elif kind == "vector":  # [e1, e2, ...]: the elements' records, one after another
                elements = children[1]
                records.append(("result", (elements[0][0], children[0][2]), len(elements)))
            else:
                records.append(("define", children[0], children[2], children[1][2]))

        return reduce

    callbacks = {
        "number": leaf("number"),
        "name": leaf("name"),
        "call": call,
        "args": arguments,
        "group": lambda children: (children[1][0], children[0][2]),
        "neg": prefix("neg"),
        "pos": prefix(None),
        "not_": prefix("not_"),
        "result": statement("result"),
        "vector": statement("vector"),
        "define": statement("define"),
    }
    for rule in ("add", "sub", "mul", "div", "pow", "compare", "and_", "or_"):
        callbacks[rule] = binary(rule)
    parse(text, callbacks)
    return records
