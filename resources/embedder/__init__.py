"""Text embeddings: sentence-transformers on the CPU (all-MiniLM-L6-v2 shipped in a PyPI package, the default) or
an OpenAI-compatible ``/v1/embeddings`` endpoint, behind one client with a content cache, batching, retries and
progress, and the Dagster resource that configures it. Importing this package loads neither torch nor a model."""

from resources.embedder.resource import EmbedderResource
from resources.engines import EngineSpec

ENGINE = EngineSpec(
    name="embedder", default_resource=EmbedderResource.from_env, description="Text embeddings for embedding steps"
)
