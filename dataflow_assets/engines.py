"""The engines the shipped definitions and the CLI give to LLM steps, configured from the environment.

``DATAFLOW_LLM_BACKEND`` (local | openai | vllm, default local: the embedded SmolLM2 model),
``DATAFLOW_LLM_MODEL``, ``DATAFLOW_LLM_BASE_URL`` and ``DATAFLOW_LLM_API_KEY_ENV`` (the name of the variable
holding the key, default ``OPENAI_API_KEY``). Every other option can be set per run in the Dagster UI's launchpad.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from resources.llm.resource import LLMResource


def llm_resource(data_root: Path | str) -> LLMResource:
    env = os.environ
    return LLMResource(
        backend=env.get("DATAFLOW_LLM_BACKEND", "local"),
        model=env.get("DATAFLOW_LLM_MODEL", ""),
        base_url=env.get("DATAFLOW_LLM_BASE_URL") or None,
        api_key_env=env.get("DATAFLOW_LLM_API_KEY_ENV", "OPENAI_API_KEY"),
        cache_path=str(Path(data_root).parent / "llm_cache.sqlite"),
    )


def engine_resources(data_root: Path | str) -> dict[str, Any]:
    """Resources by the engine names operators declare (``Operator.engines``)."""
    return {"llm": llm_resource(data_root)}
