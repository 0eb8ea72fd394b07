"""The text domain: pre-training filters (Gopher, C4, FineWeb, DataFlow's rules), refiners, dedup, SFT synthesis."""

from operators.domains import DomainSpec

DOMAIN = DomainSpec(
    name="text",
    description="Pre-training filtering and SFT synthesis for natural-language text",
    requires=("py3langid",),
)
