"""End to end with the embedded model (SmolLM2 through llama.cpp, grammar-constrained JSON): its plan may be
poor, but it names only registry operators and real columns, and the module it yields compiles and runs."""

from __future__ import annotations

import pytest

from dataflow_assets.agent.api import build_pipeline
from dataflow_assets.agent.validate import validate_module

pytestmark = [pytest.mark.llm, pytest.mark.slow]


def test_the_embedded_model_yields_a_pipeline_that_compiles_and_runs(tmp_path, docs_folder):
    from resources.llm.resource import LLMResource

    llm = LLMResource(cache_path=str(tmp_path / "cache.sqlite")).build_client()
    report = build_pipeline(
        "remove html tags from the body", input=docs_folder, name="docs", llm=llm, out=tmp_path, max_rounds=1
    )
    assert report.plan, report.to_markdown()
    assert all(step["keys"].get("input_key", "body") == "body" for step in report.plan)
    assert report.ok, report.to_markdown()
    assert validate_module(tmp_path / "dataflow_assets" / "agent_built" / "docs.py") == []
    assert report.dry_run["ok"] and report.dry_run["steps"][0]["rows_out"] == 4


def test_the_local_backend_takes_any_gguf_path_with_its_own_chat_template(tmp_path):
    import shutil

    from resources.llm.backends.llama_cpp_backend import default_model_path
    from resources.llm.resource import LLMResource

    model = tmp_path / "models" / "my-model.gguf"
    model.parent.mkdir()
    shutil.copy(default_model_path(), model)
    client = LLMResource(model=str(model), cache_enabled=False).build_client()
    assert client.model_id == "llama.cpp:my-model.gguf"
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    [result] = client.generate(["Answer ok=true"], json_schema=schema, max_tokens=20)
    assert result.ok and isinstance(result.parsed["ok"], bool)
