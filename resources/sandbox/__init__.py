"""The code sandbox: bubblewrap isolation around a harness that proves tests ran to the end, as a Dagster
resource (``SandboxResource``) and a plain client (``SandboxResource().build_client()``) for use outside Dagster."""

from resources.engines import EngineSpec
from resources.sandbox.resource import SandboxResource

ENGINE = EngineSpec(
    name="sandbox",
    default_resource=SandboxResource.from_env,
    description="Isolated execution of untrusted Python (bubblewrap) for code steps",
)
