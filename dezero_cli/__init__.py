"""dezero: differentiate expressions from the shell with DeZero's define-by-run engine.

The path from text to answer, one module per step:
    parser (text -> tree) -> compiler (tree -> Program) -> core (graph, backward)
    -> api (Result) -> render (text, JSON) -> cli
"""
