"""A Ray cluster of one node on 127.0.0.1 for tests: bounded CPUs and object store, its own ports and temp folder,
the dashboard (which serves the job API) only when asked, and stopped by its own process ids (never ``ray stop``,
which would stop every Ray on the machine).

``ray start --head --block`` runs in a session of its own; the processes it starts (GCS, raylet, agents) and the
workers the raylet starts are its descendants, found through ``/proc`` (Linux). To stop, the ``ray start``
process is killed first (stopped politely, it waits ~30 s for the GCS to drain the node), then its descendants are
asked to stop, and whatever is left after a grace period is killed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

START_TIMEOUT_S = 120
STOP_GRACE_S = 10


class LocalRayCluster:
    def __init__(
        self, temp_dir: Path, *, num_cpus: int = 2, object_store_mb: int = 200, dashboard: bool = False
    ) -> None:
        self.temp_dir = temp_dir
        self.num_cpus = num_cpus
        self.object_store_mb = object_store_mb
        self.dashboard = dashboard
        self.port = _free_port()
        self.dashboard_port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = temp_dir / "head.log"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def job_address(self) -> str:
        """The dashboard's job API (with ``dashboard``)."""
        return f"http://127.0.0.1:{self.dashboard_port}"

    def start(self) -> LocalRayCluster:
        self.temp_dir.mkdir(parents=True, exist_ok=True)
        command = [
            str(Path(sys.executable).with_name("ray")),
            "start",
            "--head",
            "--block",
            f"--port={self.port}",
            "--node-ip-address=127.0.0.1",
            f"--num-cpus={self.num_cpus}",
            f"--object-store-memory={self.object_store_mb * 1024 * 1024}",
            f"--include-dashboard={str(self.dashboard).lower()}",
            "--dashboard-host=127.0.0.1",
            f"--dashboard-port={self.dashboard_port}",
            "--disable-usage-stats",
            f"--temp-dir={self.temp_dir}",
            # Ports of our own: other people's Ray on this machine use the defaults.
            *(f"--{name}={_free_port()}" for name in PORT_OPTIONS),
        ]
        # Token authentication off: the cluster listens on the loopback only, and Ray's token lives in the home
        # folder that every user of this machine shares. A job's `python` is this environment's, as on a cluster
        # whose nodes have the project's dependencies installed.
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        env = {**os.environ, "RAY_AUTH_MODE": "disabled", "PATH": path}
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (_listening(self.port) and (not self.dashboard or _answers(f"{self.job_address}/api/version"))):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"Ray head did not start; see {self.log}:\n{self.log.read_text()[-2000:]}")
            time.sleep(0.1)
        return self

    def pids(self) -> list[int]:
        """Every process descended from the head's ``ray start`` (workers included)."""
        return [pid for pid, _ in self._processes()]

    def stop(self) -> list[int]:
        """Stop every process of the cluster; returns those still running afterwards (none, normally)."""
        if self.process is None:
            return []
        processes = self._processes()
        self.process.kill()
        self.process.wait()
        self.process = None
        for process in processes:
            _signal(process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        while any(_running(p) for p in processes) and time.monotonic() < deadline:
            time.sleep(0.1)
        for process in processes:
            _signal(process, signal.SIGKILL)
        deadline = time.monotonic() + STOP_GRACE_S
        while any(_running(p) for p in processes) and time.monotonic() < deadline:
            time.sleep(0.1)
        return [pid for pid, started in processes if _running((pid, started))]

    def _processes(self) -> list[tuple[int, str]]:
        """(pid, start time): a pid is signalled only while it still names the process found here."""
        if self.process is None:
            return []
        return [(pid, started) for pid in _descendants(self.process.pid) if (started := _start_time(pid))]


PORT_OPTIONS = (
    "dashboard-agent-listen-port",
    "dashboard-agent-grpc-port",
    "metrics-export-port",
    "runtime-env-agent-port",
    "ray-client-server-port",
)
"""Every port a head opens that has a fixed default (the GCS and dashboard ports are given; the others are chosen
freely)."""


@contextlib.contextmanager
def driven_cluster(**options: object) -> Iterator[LocalRayCluster]:
    """A cluster (``options`` as for :class:`LocalRayCluster`) with this process connected to it as the driver for
    the block (a new driver per run would pay Ray's cold start every time), the ``tests`` package shipped to the
    workers; stopped and its temp folder removed at the end, and an error if any of its processes outlived it."""
    import ray

    import tests
    from resources.ray import RayEngine

    temp = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))  # short: Ray's socket paths must fit 107 bytes
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RAY_AUTH_MODE", "disabled")  # loopback only; Ray's token file is shared by every user here
        running = LocalRayCluster(temp, **options).start()
        try:
            RayEngine(address=running.address).connect((tests,))
            yield running
        finally:
            ray.shutdown()
            left = running.stop()
            shutil.rmtree(temp, ignore_errors=True)
    assert not left, f"Ray processes still running after the cluster stopped: {left}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _parents() -> dict[int, int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    return parents


def _descendants(root: int) -> list[int]:
    parents = _parents()
    found, frontier = [], [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def running_descendants(root: int) -> list[int]:
    """The processes ``root`` started, directly or not, that are still running (zombies not counted)."""
    return [pid for pid in _descendants(root) if (fields := _stat(pid)) and fields[0] != "Z"]


def _stat(pid: int) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after the command name (state first), or [] when it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return []


def _start_time(pid: int) -> str:
    fields = _stat(pid)
    return fields[19] if len(fields) > 19 else ""


def _running(process: tuple[int, str]) -> bool:
    """Still the same process, and not a zombie waiting for its parent to collect it."""
    pid, started = process
    fields = _stat(pid)
    return bool(fields) and fields[0] != "Z" and _start_time(pid) == started


def _signal(process: tuple[int, str], number: int) -> None:
    if _running(process):
        with contextlib.suppress(ProcessLookupError):
            os.kill(process[0], number)
