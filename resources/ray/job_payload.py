"""What travels between a Ray step's Dagster process and the Ray job that runs it (``resources.ray.jobs``).

The step's work goes out as a Pipes extra (in the job's environment), its result comes back as Pipes custom
messages (lines of the job's log). Both are pickled with Ray's cloudpickle, as Ray itself ships a step to its
workers: a bound step, pinned slice, polars schemas and frames have no JSON form. The result is cut into lines of at
most ``CHUNK_CHARS`` characters, well under the 20,000 characters per read in which Ray streams a job's log, so that
no message line is read in two halves.
"""

from __future__ import annotations

import base64
import zlib
from dataclasses import dataclass, replace
from typing import Any

from ray import cloudpickle

from resources.ray.batches import EngineRecipe
from resources.ray.execute import RayRun, RayStep

WORK_EXTRA = "dataflow/ray_work"
RESULT_KEY = "dataflow/ray_result"
ERROR_KEY = "dataflow/ray_error"
CHUNK_CHARS = 8_000


@dataclass(frozen=True)
class JobWork:
    """Everything the job's driver needs to run the step."""

    engine: dict[str, Any]
    """The ``ray`` resource's configuration (the job connects to the cluster it runs on)."""
    work: RayStep
    """The step, its pinned input and output tables; its engines travel as ``engines``."""
    engines: dict[str, EngineRecipe]
    """The step's engines as configured in Dagster (limits not yet divided among actors)."""

    def step_work(self) -> RayStep:
        """The work with its engines configured as in Dagster, as ``run_on_ray`` takes it."""
        return replace(self.work, engines={name: recipe.given() for name, recipe in self.engines.items()})


def encode(value: Any) -> str:
    return base64.b64encode(zlib.compress(cloudpickle.dumps(value))).decode("ascii")


def decode(text: str) -> Any:
    return cloudpickle.loads(zlib.decompress(base64.b64decode(text)))


def result_messages(run: RayRun) -> list[dict[str, Any]]:
    """The run as custom messages: ``{RESULT_KEY: [index, count, chunk]}``."""
    text = encode(run)
    chunks = [text[i : i + CHUNK_CHARS] for i in range(0, len(text), CHUNK_CHARS)]
    return [{RESULT_KEY: [i, len(chunks), chunk]} for i, chunk in enumerate(chunks)]


def result_from(messages: list[Any]) -> RayRun | None:
    """The run from the job's custom messages, or None unless every chunk of it came."""
    chunks = {m[RESULT_KEY][0]: m[RESULT_KEY] for m in messages if isinstance(m, dict) and RESULT_KEY in m}
    if not chunks or len(chunks) != next(iter(chunks.values()))[1]:
        return None
    return decode("".join(chunks[i][2] for i in range(len(chunks))))


def error_from(messages: list[Any]) -> str | None:
    """The error the job reported before failing, if it got that far."""
    return next((m[ERROR_KEY] for m in messages if isinstance(m, dict) and ERROR_KEY in m), None)
