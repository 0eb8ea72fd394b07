"""LLM serving: backends (OpenAI-compatible HTTP, vLLM in-process, embedded llama.cpp) behind one client with a
cache, retries, rate limits and schema validation, and the Dagster resource that configures it."""

from resources.engines import EngineSpec
from resources.llm.resource import LLMResource

ENGINE = EngineSpec(name="llm", default_resource=LLMResource.from_env, description="LLM serving for LLM steps")
