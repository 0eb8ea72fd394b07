"""Shared fixtures: a private copy of the sample shards, a Delta root and a Dagster instance per test."""

import shutil
from pathlib import Path

import dagster as dg
import pytest

from dataflow_assets.general.demo import SAMPLE_DATA


@pytest.fixture
def shards(tmp_path: Path) -> Path:
    """A copy of the bundled sample shards that a test may change."""
    target = tmp_path / "shards"
    shutil.copytree(SAMPLE_DATA, target)
    return target


@pytest.fixture
def delta_root(tmp_path: Path) -> Path:
    return tmp_path / "delta"


@pytest.fixture
def instance():
    with dg.instance_for_test() as test_instance:
        yield test_instance
