"""The rag domain: a hybrid retrieval index as an asset, and agentic RAG question synthesis and checks."""

from operators.domains import DomainSpec

DOMAIN = DomainSpec(
    name="rag",
    description="Agentic RAG: hybrid index, atomic and multi-hop QA that needs its documents, retrieval checks",
    requires=("bm25s",),
    extra="rag",
)
