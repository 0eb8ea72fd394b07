"""The ``ray`` resource's configuration, without starting Ray: which steps run on it, what it says it is, and the
runtime environment that brings the project's code and the polars thread count to the workers."""

import json
from pathlib import Path

import operators
import resources
import tests
from resources.ray import RayEngine


def test_steps_run_on_ray_unless_the_run_config_leaves_them_out():
    assert RayEngine().runs("text_pretrain", "rules")
    chosen = RayEngine(steps=["rules", "sft/rewrite"])
    assert chosen.runs("text_pretrain", "rules") and chosen.runs("sft", "rewrite")
    assert not chosen.runs("text_pretrain", "refined") and not chosen.runs("other", "rewrite")
    assert not RayEngine(steps=[]).runs("text_pretrain", "rules")


def test_identity_names_the_cluster_or_the_local_bounds():
    assert RayEngine(address="ray://head:10001").identity == "ray:ray://head:10001"
    assert RayEngine(num_cpus=2).identity == "ray:local(num_cpus=2)"


def test_workers_get_the_project_packages_and_one_polars_thread_per_cpu():
    env = RayEngine(cpus_per_task=2, env_vars={"HF_HOME": "/data/hf"}).runtime_env((tests,))
    root = Path(operators.__file__).parent.parent
    assert env["py_modules"] == sorted(str(root / p) for p in ("dataflow_assets", "operators", "resources", "tests"))
    assert env["env_vars"] == {"POLARS_MAX_THREADS": "2", "HF_HOME": "/data/hf"}
    assert "py_modules" not in RayEngine(ship_code=False).runtime_env((resources,))
    json.dumps(env)  # a runtime env travels as JSON


def test_from_env_reads_address_cpus_and_steps(monkeypatch, tmp_path):
    monkeypatch.setenv("DATAFLOW_RAY_ADDRESS", "10.0.0.5:6379")
    monkeypatch.setenv("DATAFLOW_RAY_NUM_CPUS", "8")
    monkeypatch.setenv("DATAFLOW_RAY_STEPS", "rules, refined")
    engine = RayEngine.from_env(tmp_path)
    assert (engine.address, engine.num_cpus, engine.steps) == ("10.0.0.5:6379", 8, ["rules", "refined"])
    monkeypatch.delenv("DATAFLOW_RAY_STEPS")
    assert RayEngine.from_env(tmp_path).steps is None


def test_a_job_address_makes_ray_steps_ray_jobs(monkeypatch, tmp_path):
    monkeypatch.setenv("DATAFLOW_RAY_JOB_ADDRESS", "http://head:8265")
    engine = RayEngine.from_env(tmp_path)
    assert engine.job_address == "http://head:8265" and engine.identity == "ray-job:http://head:8265"
    monkeypatch.delenv("DATAFLOW_RAY_JOB_ADDRESS")
    assert RayEngine.from_env(tmp_path).job_address is None
