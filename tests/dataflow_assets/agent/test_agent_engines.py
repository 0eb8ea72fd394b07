"""Which engines the agent offers: those the definitions build from the environment that can be built here; the
others are left out with the reason, and so are the operators that need them."""

from __future__ import annotations

import json
from pathlib import Path

from dataflow_assets.agent.engines import probe_engines
from dataflow_assets.agent.retrieve import pipeline_operators


def test_an_engine_that_cannot_be_built_is_left_out_with_its_operators(tmp_path, monkeypatch):
    monkeypatch.delenv("DATAFLOW_CLASSIFIER_MODEL", raising=False)
    engines = probe_engines(tmp_path / "delta", ["classifier", "retriever", "embedder"])
    assert set(engines.usable) == {"retriever", "embedder"}
    assert "DATAFLOW_CLASSIFIER_MODEL" in engines.left_out["classifier"]
    left_out = {row["operator"]: row for row in engines.excluded()}
    assert left_out["classifier_score"]["engine"] == "classifier"
    assert "DATAFLOW_CLASSIFIER_MODEL" in left_out["classifier_score"]["why"]
    offered = {info.name for info in pipeline_operators(set(engines.usable))}
    assert "build_index" in offered  # retriever + embedder
    assert {"classifier_score", "code_execution", "sql_executable", "word_count"} & offered == {"word_count"}


def test_the_database_engine_is_the_one_the_environment_configures(tmp_path, monkeypatch):
    """The dry run's child gets the databases resolved here (absolute SQLite paths), reads the SQLite files, and
    needs the network only for a server."""
    monkeypatch.chdir(tmp_path)
    Path("shop.db").touch()
    monkeypatch.setenv("DATAFLOW_SQL_DATABASES", json.dumps({"shop": "sqlite:///shop.db"}))
    engines = probe_engines(tmp_path / "delta", ["database"])
    access = engines.usable["database"]
    assert access.files == (str(tmp_path / "shop.db"),) and not access.network
    assert json.loads(access.env["DATAFLOW_SQL_DATABASES"]) == {"shop": [f"sqlite:///{tmp_path / 'shop.db'}"]}
    assert engines.identities["database"].startswith("shop=sqlite:")
    monkeypatch.setenv("DATAFLOW_SQL_DATABASES", json.dumps({"crm": "postgresql://reader@127.0.0.1:5432/crm"}))
    assert probe_engines(tmp_path / "delta", ["database"]).usable["database"].network
    monkeypatch.setenv("DATAFLOW_SQL_DATABASES", "{not json")
    assert "DATAFLOW_SQL_DATABASES is not JSON" in probe_engines(tmp_path / "delta", ["database"]).left_out["database"]
