"""What operators see of a text embedder: the ``Embedder`` protocol (resources.embedder implements it)."""
