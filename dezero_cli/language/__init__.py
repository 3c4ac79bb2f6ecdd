"""The expression language: LALR tables generated from grammar/expression.lark, the parse loop
with its error messages, and Program, the compiled form that builds a graph when it runs."""
