"""The Text-to-SQL domain: execution-verified SQL synthesis, questions, chain-of-thought and training prompts."""

from operators.domains import DomainSpec

DOMAIN = DomainSpec(
    name="sql",
    description="Text-to-SQL: execution-checked SQL, question synthesis, chain-of-thought voting, training prompts",
    requires=("sqlglot",),
    extra="sql",
)
