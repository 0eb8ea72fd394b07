"""What operators see of a retriever: the ``Retriever`` protocol (resources.retriever implements it)."""
