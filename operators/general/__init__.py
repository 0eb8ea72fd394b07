"""Domain-free operators: generic filters, evaluators, refiners and generators any pipeline uses."""

from operators.domains import DomainSpec

DOMAIN = DomainSpec(name="general", description="Domain-free operators: expressions, dedup, prompted LLM steps")
