"""Ray as an engine for marked steps: the ``ray`` resource (``RayEngine``) and what runs a row-local step on a Ray
cluster with a two-phase Delta write (see ``docs/ray.md``). ``ray`` itself is imported only when a step uses it."""

from resources.engines import EngineSpec
from resources.ray.resource import RayEngine

ENGINE = EngineSpec(name="ray", default_resource=RayEngine.from_env, description="Ray cluster for marked steps")
