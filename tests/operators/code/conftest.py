"""The code operators' sandbox: built from its resource, as a user outside Dagster builds it; tests that need it
skip with bubblewrap's own complaint where it cannot run."""

import pytest

from operators.errors import DataflowError
from resources.sandbox.resource import SandboxResource


@pytest.fixture(scope="session")
def sandbox():
    try:
        return SandboxResource(cpu_s=3, wall_s=8, memory_mb=512).build_client()
    except DataflowError as error:
        pytest.skip(f"no bubblewrap sandbox here: {error}")
