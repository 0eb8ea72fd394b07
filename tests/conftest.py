"""Shared fixtures (a private copy of the sample shards, a Delta root and a Dagster instance per test) and the
test tiers: tests under ``tests/dataflow_assets`` are marked ``dagster`` and those under ``tests/ui`` ``browser``;
a test with none of the tier markers is marked ``fast``, so ``pytest -m fast`` runs the unit tests alone."""

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


TIERS = ("dagster", "llm", "services", "browser", "slow")
MARK_BY_FOLDER = {"dataflow_assets": ("dagster",), "ui": ("browser", "dagster", "slow")}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tests = Path(__file__).parent
    for item in items:
        path = Path(item.fspath)
        parts = path.relative_to(tests).parts if path.is_relative_to(tests) else ()
        for marker in MARK_BY_FOLDER.get(parts[0], ()) if len(parts) > 1 else ():
            item.add_marker(marker)
        if not any(item.get_closest_marker(tier) for tier in TIERS):
            item.add_marker("fast")
