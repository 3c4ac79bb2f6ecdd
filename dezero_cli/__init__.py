"""dezero: differentiate expressions from the shell with DeZero's define-by-run engine.

The path from text to answer, one layer per folder:
    language (text -> Program) -> engine (graph, backward) -> api (Result)
    -> render (text, JSON) -> commands (one per command) -> cli (entry point)
docs/design.md has the whole map.
"""
