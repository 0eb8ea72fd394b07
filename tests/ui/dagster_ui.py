"""`dataflow ui` as a user starts and stops it, watched closely enough to prove that stopping it leaves nothing.

Shared by the UI test and `benchmarks/ui_startup.py`. `dataflow ui` runs `dagster dev` in a session of its own,
which starts the webserver, the daemon and a code server; the code server starts a run worker per run. A
background thread records every process descended from `dataflow ui` (run workers live only seconds) and the
sessions they belong to, so that after Ctrl-C anything still alive in them is found, even when it was re-parented
to init. Linux only: it reads /proc.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
"""Debian's Chromium (`apt-get install chromium`); Playwright drives it, its own browser download is never used."""
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SAMPLE_SECONDS = 0.2


@dataclass(frozen=True)
class Proc:
    """A process as /proc shows it; ``pid`` and ``start_ticks`` together name it even after its pid is reused."""

    pid: int
    start_ticks: int
    ppid: int
    session: int
    args: str

    def alive(self) -> bool:
        current = read_proc(self.pid)
        return current is not None and current.start_ticks == self.start_ticks


def read_proc(pid: int) -> Proc | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        args = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # the command name in parentheses may hold spaces
    state, ppid, session, start_ticks = fields[0], int(fields[1]), int(fields[3]), int(fields[19])
    return None if state in ("Z", "X") else Proc(pid, start_ticks, ppid, session, args)


def all_processes() -> list[Proc]:
    found = (read_proc(int(entry)) for entry in os.listdir("/proc") if entry.isdigit())
    return [proc for proc in found if proc is not None]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DataflowUI:
    """`dataflow ui --port <free port>` with its own DAGSTER_HOME and Delta root (and ``env`` added to its
    environment), its output in ``log_path``."""

    def __init__(
        self,
        dagster_home: Path,
        data_root: Path,
        log_path: Path,
        port: int | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.dagster_home, self.data_root, self.log_path = dagster_home, data_root, log_path
        self.env = {"DAGSTER_HOME": str(dagster_home), "DATAFLOW_DATA_ROOT": str(data_root), **(env or {})}
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._seen: dict[tuple[int, int], Proc] = {}
        self._seen_lock = threading.Lock()  # the watcher thread adds while the caller reads
        self._process: subprocess.Popen[bytes] | None = None
        self._watching = threading.Event()
        self._watcher: threading.Thread | None = None

    def start(self) -> None:
        env = {**os.environ, **self.env}
        dataflow = Path(sys.executable).parent / "dataflow"  # the console script of this venv
        with self.log_path.open("wb") as log:
            # A session of its own, as a terminal gives it: Ctrl-C is SIGINT to this process alone.
            self._process = subprocess.Popen(
                [str(dataflow), "ui", "--port", str(self.port)],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._watching.set()
        self._watcher = threading.Thread(target=self._watch, name="dataflow-ui-watcher", daemon=True)
        self._watcher.start()

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout_s: float = 90) -> tuple[int | None, list[Proc]]:
        """Press Ctrl-C and wait until every process the UI started is gone; return the exit code of `dataflow
        ui` and the processes that outlived ``timeout_s``, which are then killed so that nothing leaks."""
        if self._process is None:
            return None, []
        self._record()
        if self._process.poll() is None:
            os.kill(self._process.pid, signal.SIGINT)
        deadline = time.monotonic() + timeout_s
        try:
            code = self._process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            code = None
        survivors = self.survivors()
        while survivors and time.monotonic() < deadline:
            time.sleep(SAMPLE_SECONDS)
            survivors = self.survivors()
        self._watching.clear()
        if self._watcher is not None:
            self._watcher.join()
        for proc in survivors:  # only processes this UI started, one by one
            if proc.alive():
                os.kill(proc.pid, signal.SIGKILL)
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        return code, survivors

    def seen(self) -> list[Proc]:
        """Every process of the UI observed so far, alive or not."""
        with self._seen_lock:
            return list(self._seen.values())

    def survivors(self) -> list[Proc]:
        """Processes of the UI still alive: any seen before, and any other in the sessions they belong to."""
        self._record()
        seen = self.seen()
        sessions = {proc.session for proc in seen}
        alive = {(p.pid, p.start_ticks): p for p in all_processes() if p.session in sessions}
        alive |= {(p.pid, p.start_ticks): p for p in seen if p.alive()}
        return sorted(alive.values(), key=lambda proc: proc.pid)

    def _watch(self) -> None:
        while self._watching.is_set():
            self._record()
            time.sleep(SAMPLE_SECONDS)

    def _record(self) -> None:
        """Remember the `dataflow ui` process and all its descendants alive now."""
        if self._process is None:
            return
        processes = all_processes()
        children: dict[int, list[Proc]] = {}
        for proc in processes:
            children.setdefault(proc.ppid, []).append(proc)
        found, todo = [], [proc for proc in processes if proc.pid == self._process.pid]
        while todo:
            proc = todo.pop()
            found.append(proc)
            todo += children.get(proc.pid, [])
        with self._seen_lock:
            for proc in found:
                self._seen.setdefault((proc.pid, proc.start_ticks), proc)
