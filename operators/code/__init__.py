"""The code domain: heuristic and syntax filters for source code, lint and complexity measures, LLM synthesis of
instructions, code and tests, and sandboxed execution that keeps only code whose tests provably pass."""

from operators.domains import DomainSpec

DOMAIN = DomainSpec(
    name="code",
    description="Source-code filtering, instruction/code synthesis and sandboxed test execution",
    requires=("tree_sitter_language_pack", "radon", "lizard", "ruff"),
    extra="code",
)
