"""LLM serving: backends (OpenAI-compatible HTTP, vLLM in-process, embedded llama.cpp) behind one client with a
cache, retries, rate limits and schema validation, and the Dagster resource that configures it."""
