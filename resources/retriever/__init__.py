"""The ``retriever`` engine: hybrid BM25 + dense indexes built by index steps and searched by query steps."""

from resources.engines import EngineSpec
from resources.retriever.resource import RetrieverResource

ENGINE = EngineSpec(
    name="retriever", default_resource=RetrieverResource.from_env, description="Hybrid BM25 + dense passage indexes"
)
