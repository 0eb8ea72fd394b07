"""``SandboxResource``: the configurable Dagster resource code steps run programs with.

It implements the operators' ``Sandbox`` protocol itself (a step calls ``run_many`` on it directly) and builds a
:class:`~resources.sandbox.client.SandboxClient` on first use; outside Dagster, ``SandboxResource().build_client()``
gives the same client. Every limit is a field, so a run can change them in the launchpad.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

import dagster as dg
from pydantic import Field, PrivateAttr

from operators.sandbox.protocol import SandboxJob, SandboxLimits, SandboxResult
from resources.client_resource import ClientResource
from resources.sandbox.client import SandboxClient


class SandboxResource(ClientResource[SandboxClient], dg.ConfigurableResource):
    mode: Literal["bwrap", "unsafe"] = Field(
        "bwrap",
        description="bwrap: isolation with bubblewrap (required for untrusted code). unsafe: a plain subprocess, "
        "for development only, with loud warnings",
    )
    workers: int = Field(2, ge=1, description="Programs run at once")
    python: str = Field(
        "",
        description="Interpreter inside the sandbox; empty: this process's interpreter if any user may read it, "
        "else /usr/bin/python3",
    )
    cpu_s: float = Field(10.0, gt=0, description="CPU seconds per run (all threads)")
    wall_s: float = Field(20.0, gt=0, description="Wall-clock seconds per run before the whole sandbox is killed")
    memory_mb: int = Field(1024, ge=64, description="Address-space limit per run, MiB")
    max_processes: int = Field(64, ge=4, description="Threads per run (new processes are always refused)")
    max_file_mb: int = Field(16, ge=1, description="Largest file a program may write, and the scratch size, MiB")
    max_open_files: int = Field(64, ge=16, description="Open file descriptors per run")
    max_output_bytes: int = Field(1 << 20, ge=1024, description="stdout plus stderr per run before it is killed")

    _client: SandboxClient | None = PrivateAttr(default=None)

    @classmethod
    def from_env(cls, data_root: Path) -> SandboxResource:
        """The shipped definitions' sandbox: ``DATAFLOW_SANDBOX_MODE`` (bwrap | unsafe, default bwrap),
        ``DATAFLOW_SANDBOX_WORKERS`` (default 2) and ``DATAFLOW_SANDBOX_PYTHON``; limits are set per run in the
        launchpad."""
        env = os.environ
        return cls(
            mode=env.get("DATAFLOW_SANDBOX_MODE", "bwrap"),
            workers=int(env.get("DATAFLOW_SANDBOX_WORKERS", "2")),
            python=env.get("DATAFLOW_SANDBOX_PYTHON", ""),
        )

    def configured_limits(self) -> SandboxLimits:
        return SandboxLimits(
            cpu_s=self.cpu_s,
            wall_s=self.wall_s,
            memory_mb=self.memory_mb,
            max_processes=self.max_processes,
            max_file_mb=self.max_file_mb,
            max_open_files=self.max_open_files,
            max_output_bytes=self.max_output_bytes,
        )

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._client is not None:
            self._client.close()  # the spare sandboxes started for the next job

    def build_client(self) -> SandboxClient:
        """The engine itself; raises a ``DataflowError`` naming bubblewrap when it cannot isolate programs."""
        return SandboxClient(self.configured_limits(), workers=self.workers, python=self.python, mode=self.mode)

    @property
    def limits(self) -> SandboxLimits:
        return self.client.limits

    def run(self, program: str, **options) -> SandboxResult:
        return self.client.run(program, **options)

    def run_many(
        self, jobs: Sequence[SandboxJob], *, on_result: Callable[[int, SandboxResult], None] | None = None
    ) -> list[SandboxResult]:
        return self.client.run_many(jobs, on_result=on_result)
