"""The math reasoning domain: answer extraction and checking, question checks, voting, contamination, synthesis."""

from operators.domains import DomainSpec

DOMAIN = DomainSpec(
    name="math",
    description="Math reasoning data: synthesize and verify problems, grade and vote on answers, decontaminate",
    requires=("math_verify", "sympy"),
    extra="math",
)
