"""What LLM-driven operators see of a language model: the ``LLM`` protocol, results, and prompt templates."""
