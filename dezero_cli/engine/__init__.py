"""DeZero's engine: the graph and its backward walk (core), the rule table (functions),
higher-order partials (higher) and DOT text (dot). It knows nothing of the expression language."""
