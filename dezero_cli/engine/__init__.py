"""DeZero's engine: the graph and its backward walk (core), the rule table (operators and
functions), higher-order partials (higher) and DOT text (dot). It knows nothing of the
expression language.
"""

from . import functions  # noqa: F401 (fills the rule table whatever part is imported first)
