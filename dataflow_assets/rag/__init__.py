"""The rag domain: agentic RAG question synthesis over documents (the ``agentic_rag`` group)."""
