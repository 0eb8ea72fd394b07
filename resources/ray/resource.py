"""``RayEngine``: the Dagster resource through which marked steps run on a Ray cluster.

Dagster stays the control plane (assets, partitions, checks, lineage, the UI) and Delta the storage; Ray only runs
the work of the steps a pipeline lists in ``ray_steps``, and which of them do run on Ray is this resource's choice
per run (``steps``), so a run can be moved back to polars from the launchpad. The step's process is the Ray driver:
it connects when the first Ray step starts (nothing is started for runs without one) and disconnects when the run
ends, unless it found Ray already connected (a notebook, a Ray job), which it then leaves as it was. With
``job_address`` the step's process is no driver at all: each Ray step is submitted as a Ray job that runs it on the
cluster and reports back through Dagster Pipes (``resources.ray.jobs``).

``ray`` is an optional extra (``pip install -e '.[ray]'``), imported only when a step connects.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from types import ModuleType
from typing import Any

import dagster as dg
from pydantic import Field, PrivateAttr

from operators.errors import DataflowError, MissingDependencyError

PROJECT_PACKAGES = ("operators", "resources", "dataflow_assets")
"""The project's own packages, sent to the workers unless the cluster has them installed (``ship_code``)."""
OBJECT_STORE_MB = 1024 * 1024


class RayEngine(dg.ConfigurableResource):
    address: str | None = Field(
        None,
        description="None: start a local Ray in this process, bounded by num_cpus; 'host:6379' or "
        "'ray://host:10001': join that cluster",
    )
    job_address: str | None = Field(
        None,
        description="The cluster's job API (its dashboard), 'http://host:8265': each Ray step runs as a Ray job "
        "there, its logs and result reported back through Dagster Pipes; None: this process is the driver",
    )
    num_cpus: int | None = Field(None, ge=1, description="CPUs of the local Ray (address None); default all")
    object_store_mb: int | None = Field(None, ge=80, description="Object store of the local Ray in MB; default Ray's")
    steps: list[str] | None = Field(
        None,
        description="Steps that run on Ray ('step' or 'group/step'), among those the pipelines list in ray_steps; "
        "None: all of them; an empty list runs every step on polars",
    )
    rows_per_block: int = Field(
        100_000, ge=1, description="Rows per Ray task: larger blocks cost less overhead per row, smaller ones spread"
    )
    cpus_per_task: int = Field(1, ge=1, description="CPUs each task holds; polars in the task uses as many threads")
    actors: int = Field(
        2,
        ge=1,
        description="Actors of a step with an engine (LLM, embedder), each building its own client; the "
        "engine's max_concurrency and rate limits are divided among them",
    )
    gpus_per_actor: float = Field(0, ge=0, description="GPUs each engine actor holds (1 for an in-process vLLM)")
    max_retries: int = Field(
        3, ge=0, description="Times Ray runs a task again, or restarts an actor, whose worker died (killed, lost node)"
    )
    ship_code: bool = Field(
        True,
        description="Send the project's packages to the workers (runtime_env py_modules); False when the "
        "cluster's image has the project installed",
    )
    env_vars: dict[str, str] = Field(default_factory=dict, description="More environment variables for the workers")

    _connected: bool = PrivateAttr(default=False)

    @classmethod
    def from_env(cls, data_root: Path) -> RayEngine:
        """The shipped definitions' Ray: ``DATAFLOW_RAY_ADDRESS`` (default: a local Ray),
        ``DATAFLOW_RAY_JOB_ADDRESS`` (Ray steps as Ray jobs), ``DATAFLOW_RAY_NUM_CPUS`` and ``DATAFLOW_RAY_STEPS``
        (comma-separated; unset: every step a pipeline lists in ``ray_steps``). Every other option can be set per
        run in the launchpad."""
        env = os.environ
        steps = env.get("DATAFLOW_RAY_STEPS")
        return cls(
            address=env.get("DATAFLOW_RAY_ADDRESS") or None,
            job_address=env.get("DATAFLOW_RAY_JOB_ADDRESS") or None,
            num_cpus=int(env["DATAFLOW_RAY_NUM_CPUS"]) if env.get("DATAFLOW_RAY_NUM_CPUS") else None,
            steps=[s.strip() for s in steps.split(",") if s.strip()] if steps is not None else None,
        )

    def runs(self, group: str, step: str) -> bool:
        """Whether this run puts ``group/step`` (one of the pipeline's ``ray_steps``) on Ray."""
        return self.steps is None or step in self.steps or f"{group}/{step}" in self.steps

    @property
    def identity(self) -> str:
        """Where Ray steps run: the cluster's job API or address, or the local Ray's bounds."""
        if self.job_address is not None:
            return f"ray-job:{self.job_address}"
        if self.address is not None:
            return f"ray:{self.address}"
        return f"ray:local(num_cpus={self.num_cpus or os.cpu_count()})"

    def runtime_env(self, modules: tuple[ModuleType, ...] = ()) -> dict[str, Any]:
        """What the workers need: the project's code (and ``modules``' top-level packages: tests, plug-in
        folders) unless the cluster has it, and one polars thread per CPU a task holds."""
        env: dict[str, Any] = {"env_vars": {"POLARS_MAX_THREADS": str(self.cpus_per_task), **self.env_vars}}
        if self.ship_code:
            env["py_modules"] = sorted({str(_package_dir(m)) for m in (*_project_modules(), *modules)})
        return env

    def connect(self, modules: tuple[ModuleType, ...] = (), *, in_job: bool = False) -> None:
        """Connect this process to Ray as its driver, unless it already is; ``modules`` are shipped as well. A Ray
        job's driver (``in_job``) keeps the runtime env its submission gave (Ray refuses a second one)."""
        ray = import_ray()
        if ray.is_initialized():
            return
        local = self.address is None
        ray.init(
            # "local" always starts a new Ray: on a shared machine, None could join someone else's cluster.
            address="local" if local else self.address,
            num_cpus=self.num_cpus if local else None,
            object_store_memory=self.object_store_mb * OBJECT_STORE_MB if local and self.object_store_mb else None,
            include_dashboard=False if local else None,
            runtime_env=None if in_job else self.runtime_env(modules),
            log_to_driver=False,
            logging_level="WARNING",
        )
        data = ray.data.DataContext.get_current()
        data.enable_progress_bars = False
        data.raise_original_map_exception = True  # a step's own error, not Ray Data's "UDF failed" wrapper
        self._connected = True

    def disconnect(self) -> None:
        """Leave Ray if :meth:`connect` joined it (a local Ray stops with it)."""
        if self._connected:
            import_ray().shutdown()
            self._connected = False

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self.disconnect()


def import_ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError as error:
        raise MissingDependencyError(
            "the Ray steps need ray[data]", hint="pip install -e '.[ray]', or set the ray resource's steps to []"
        ) from error
    return ray


def _project_modules() -> list[ModuleType]:
    return [importlib.import_module(name) for name in PROJECT_PACKAGES]


def _package_dir(module: ModuleType) -> Path:
    """The folder of ``module``'s top-level package (a single-file module is shipped as that file)."""
    top = importlib.import_module(module.__name__.partition(".")[0])
    if top.__file__ is not None:
        path = Path(top.__file__)
        return path.parent if path.name == "__init__.py" else path
    # A namespace package (a folder without __init__.py); the import path may list its folder twice.
    folders = list(dict.fromkeys(str(Path(f).resolve()) for f in getattr(top, "__path__", [])))
    if len(folders) != 1:
        raise DataflowError(
            f"cannot ship {top.__name__} to the Ray workers: it is spread over {folders or 'no folder'}",
            hint="install the package on the cluster and set the ray resource's ship_code to false",
        )
    return Path(folders[0])
