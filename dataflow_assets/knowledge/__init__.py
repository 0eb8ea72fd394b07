"""The knowledge domain: documents to clean chunks, QA pairs and a factuality check (the ``knowledge`` group)."""
