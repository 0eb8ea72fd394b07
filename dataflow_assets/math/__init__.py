"""The math domain: the ``reasoning_math`` group (seed problems to graded chain-of-thought training data)."""
