"""DeZero's engine: the graph and its backward walk (core), the rule table (operators and
functions, with elementary, piecewise and special), higher-order partials (higher) and DOT text
(dot). It knows nothing of the expression language.
"""

# Fill the rule table whatever part is imported first.
from . import elementary, functions, piecewise, special  # noqa: F401
