"""The knowledge domain: documents cut into passages with their provenance, cleaned, turned into QA and checked."""

from operators.domains import DomainSpec

DOMAIN = DomainSpec(
    name="knowledge",
    description="Knowledge extraction: chunk documents with provenance, clean chunks, synthesize and check QA",
    requires=("pypdfium2", "trafilatura", "docx"),
    extra="knowledge",
)
