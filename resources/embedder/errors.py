"""The embedder's errors, in the project's family."""

from operators.errors import DataflowError


class EmbedderConfigurationError(DataflowError):
    """The embedder is misconfigured (model path, key, address, model name): no text can be embedded."""


class EmbedderCallError(DataflowError):
    """A batch could not be embedded, retries included; the batches done before it are cached."""
