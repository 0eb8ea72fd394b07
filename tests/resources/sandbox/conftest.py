"""One sandbox client for the sandbox tests; they skip, with bubblewrap's own complaint, where it cannot run."""

import pytest

from operators.errors import DataflowError
from operators.sandbox.protocol import SandboxLimits
from resources.sandbox.client import SandboxClient

LIMITS = SandboxLimits(cpu_s=2, wall_s=6, memory_mb=512, max_output_bytes=64 * 1024)


@pytest.fixture(scope="session")
def sandbox() -> SandboxClient:
    try:
        return SandboxClient(LIMITS, workers=2)
    except DataflowError as error:
        pytest.skip(f"no bubblewrap sandbox here: {error}")
