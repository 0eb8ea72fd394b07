"""Persistent worker processes that run one function per task, each task bounded by a time limit.

sympy can run for ever on an innocent-looking answer (``9^{9^{9^9}}``), and math-verify's own limit uses
``signal.alarm``, which only works in a process's main thread (Dagster, Ray and notebooks call from others). A
thread cannot be stopped; a process can. So each check runs in a worker process: workers stay alive between tasks
and runs (starting one costs an import of sympy), take tasks in small chunks to keep the pipe traffic low, and
answer after every task. A task that is not answered within ``timeout_s`` of its start is recorded as
``Outcome("timeout")`` and its worker is killed and replaced; the rest of its chunk goes back to the queue. A worker
that dies (out of memory: each has an address-space limit) costs only the task it was running (``"crashed"``).

Workers are fresh interpreters running this file as a script, talking over a socket pair, not ``multiprocessing``
children: ``fork`` would copy the caller's threads (polars, Dagster) with their locks, and ``spawn``/``forkserver``
re-run the caller's ``__main__`` script in every child (a user's script without an ``if __name__ == "__main__"``
guard would recurse). This file and the task's module are loaded by path, without their packages, so a worker
imports only what the task needs (a task module should import little). A worker says it is ready once it has
imported the task's module and run the warm-up task, and only then does a task's clock start.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import importlib.util
import json
import math
import os
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

_CHUNK_MAX = 32
TASKS_PER_WORKER = 200
_READY = "ready"


@dataclass(frozen=True)
class Outcome:
    """How one task ended: ``ok`` (with ``value``), ``timeout``, ``error`` (an exception, ``value`` says which)
    or ``crashed`` (the worker process died)."""

    status: str
    value: Any = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def _module_file(function: str) -> str | None:
    """The file of the task's module when it lives in a package: the worker loads it alone, by path."""
    module = function.partition(":")[0]
    if "." not in module:
        return None
    spec = importlib.util.find_spec(module)
    return spec.origin if spec is not None and spec.origin and spec.origin.endswith(".py") else None


def _resolve(function: str, path: str | None) -> Callable[..., Any]:
    module_name, _, name = function.partition(":")
    if path is None:
        return getattr(importlib.import_module(module_name), name)
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return getattr(module, name)


def serve(
    connection: Connection,
    function: str,
    path: str | None,
    memory_mb: int | None,
    warmup: tuple[Any, ...] | None,
) -> None:
    """A worker's loop: receive a chunk of (index, args), answer (index, status, value, cpu seconds) per task."""
    if memory_mb:
        import resource

        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    call = _resolve(function, path)
    if warmup is not None:
        call(*warmup)  # lazy imports and parser tables load here, not inside the first task's time limit
    connection.send(_READY)
    while True:
        try:
            chunk = connection.recv()
        except EOFError:
            return
        if chunk is None:
            return
        for index, args in chunk:
            try:
                reply = (index, "ok", call(*args))
            except MemoryError:
                reply = (index, "error", "MemoryError: the check ran out of its memory limit")
            except Exception as error:  # the task's failure is its outcome, the worker carries on
                reply = (index, "error", f"{type(error).__name__}: {error}"[:300])
            connection.send((*reply, time.process_time()))


@dataclass
class _Worker:
    process: subprocess.Popen
    connection: Connection
    inflight: deque[tuple[int, tuple[Any, ...]]] = field(default_factory=deque)
    started: float = 0.0
    cpu: float = 0.0


class WorkerPool:
    """``workers`` processes running ``function`` (``"module:name"``, a module-level function) on argument tuples.

    ``run(tasks)`` returns one :class:`Outcome` per task, in order. Safe to share between threads (one run at a
    time); a pool made in another process (after a fork) is not reused there.
    """

    def __init__(
        self,
        function: str,
        *,
        workers: int,
        timeout_s: float,
        memory_mb: int | None = 2048,
        start_timeout_s: float = 120.0,
        warmup: tuple[Any, ...] | None = None,
    ) -> None:
        self.function = function
        self.workers = max(1, workers)
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.start_timeout_s = start_timeout_s
        self.warmup = warmup
        self._path = _module_file(function)
        self.pid = os.getpid()
        self._pool: list[_Worker] = []
        self._lock = threading.Lock()
        self.retired_cpu_s = 0.0
        self.replaced = 0

    def _launch(self) -> _Worker:
        ours, theirs = socket.socketpair()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)}
        settings = {"function": self.function, "path": self._path, "memory_mb": self.memory_mb, "warmup": self.warmup}
        # -P: the script's folder (operators/math) must not shadow top-level modules in the worker
        command = [sys.executable, "-P", __file__, str(theirs.fileno()), json.dumps(settings)]
        process = subprocess.Popen(command, pass_fds=(theirs.fileno(),), env=env, stdin=subprocess.DEVNULL)
        theirs.close()
        return _Worker(process, Connection(ours.detach()))

    def _start(self, count: int) -> list[_Worker]:
        """Launch ``count`` workers at once and wait until each has imported its module."""
        workers = [self._launch() for _ in range(count)]
        from operators.errors import DataflowError  # not at the top: workers run this file without the package

        for worker in workers:
            if not worker.connection.poll(self.start_timeout_s):
                self._retire(worker)
                raise DataflowError(
                    f"a check worker for {self.function} did not start within {self.start_timeout_s:.0f} s",
                    hint="the machine may be overloaded; try fewer workers",
                )
            try:
                worker.connection.recv()
            except EOFError as error:
                self._retire(worker)
                raise DataflowError(
                    f"a check worker for {self.function} exited while starting (exit code {worker.process.poll()})",
                    hint=f"run `python -c 'import {self.function.partition(':')[0]}'` to see why",
                ) from error
        return workers

    def _retire(self, worker: _Worker) -> None:
        self.retired_cpu_s += worker.cpu
        worker.process.kill()
        worker.process.wait(5)
        worker.connection.close()

    @property
    def size(self) -> int:
        """Workers running now."""
        return len(self._pool)

    def worker_cpu_seconds(self) -> float:
        """CPU seconds the workers used (imports included) up to their last answer; killed workers included."""
        return self.retired_cpu_s + sum(worker.cpu for worker in self._pool)

    def run(self, tasks: Sequence[tuple[Any, ...]]) -> list[Outcome]:
        with self._lock:
            return self._run(list(tasks))

    def _run(self, tasks: list[tuple[Any, ...]]) -> list[Outcome]:
        outcomes: list[Outcome | None] = [None] * len(tasks)
        pending: deque[tuple[int, tuple[Any, ...]]] = deque(enumerate(tasks))
        # A worker's start (an interpreter and its imports) costs as much CPU as many tasks: start one per
        # TASKS_PER_WORKER tasks, up to ``workers``.
        wanted = min(self.workers, 1 + len(tasks) // TASKS_PER_WORKER)
        if pending and len(self._pool) < wanted:
            self._pool.extend(self._start(wanted - len(self._pool)))
        while pending or any(worker.inflight for worker in self._pool):
            now = time.monotonic()
            chunk_size = max(1, min(_CHUNK_MAX, math.ceil(len(pending) / (2 * len(self._pool)))))
            for worker in self._pool:
                if pending and not worker.inflight:
                    chunk = [pending.popleft() for _ in range(min(chunk_size, len(pending)))]
                    worker.inflight.extend(chunk)
                    worker.started = now
                    worker.connection.send(chunk)
            busy = [worker for worker in self._pool if worker.inflight]
            deadline = min(worker.started for worker in busy) + self.timeout_s
            ready = wait([worker.connection for worker in busy], timeout=max(0.0, deadline - time.monotonic()))
            for worker in busy:
                if worker.connection in ready:
                    self._receive(worker, outcomes, pending)
            now = time.monotonic()
            for position, worker in enumerate(self._pool):
                if worker.inflight and now - worker.started >= self.timeout_s and worker.connection not in ready:
                    index, _ = worker.inflight.popleft()
                    outcomes[index] = Outcome("timeout", None, now - worker.started)
                    self._replace(position, worker, pending)
        return [outcome if outcome is not None else Outcome("crashed") for outcome in outcomes]

    def _receive(self, worker: _Worker, outcomes: list[Outcome | None], pending: deque) -> None:
        try:
            index, status, value, cpu = worker.connection.recv()
        except (EOFError, OSError):
            head, _ = worker.inflight.popleft()
            outcomes[head] = Outcome("crashed", "the worker process died", time.monotonic() - worker.started)
            self._replace(self._pool.index(worker), worker, pending)
            return
        now = time.monotonic()
        worker.inflight.popleft()
        outcomes[index] = Outcome(status, value, now - worker.started)
        worker.cpu = cpu
        worker.started = now

    def _replace(self, position: int, worker: _Worker, pending: deque) -> None:
        pending.extendleft(reversed(worker.inflight))
        worker.inflight.clear()
        self._retire(worker)
        self._pool[position] = self._start(1)[0]
        self.replaced += 1

    def close(self) -> None:
        with self._lock:
            for worker in self._pool:
                with contextlib.suppress(OSError):
                    worker.connection.send(None)
            for worker in self._pool:
                try:
                    worker.process.wait(2)
                except subprocess.TimeoutExpired:
                    worker.process.kill()
                    worker.process.wait(2)
                self.retired_cpu_s += worker.cpu
                worker.connection.close()
            self._pool.clear()


_SHARED: dict[tuple[Any, ...], WorkerPool] = {}
_SHARED_LOCK = threading.Lock()


def shared_pool(
    function: str,
    *,
    workers: int,
    timeout_s: float,
    memory_mb: int | None = 2048,
    warmup: tuple[Any, ...] | None = None,
) -> WorkerPool:
    """One pool per configuration and process, kept for the life of the process (workers stay warm between runs)."""
    key = (function, workers, timeout_s, memory_mb, warmup, os.getpid())
    with _SHARED_LOCK:
        pool = _SHARED.get(key)
        if pool is None:
            pool = WorkerPool(function, workers=workers, timeout_s=timeout_s, memory_mb=memory_mb, warmup=warmup)
            _SHARED[key] = pool
        return pool


@atexit.register
def _close_shared() -> None:
    for key, pool in list(_SHARED.items()):
        if key[-1] == os.getpid():
            pool.close()
    _SHARED.clear()


if __name__ == "__main__":  # a worker: python -P verify_pool.py FD SETTINGS_JSON
    os.dup2(2, 1)  # stray prints of the task's libraries must not reach the protocol
    settings = json.loads(sys.argv[2])
    warmup = tuple(settings["warmup"]) if settings["warmup"] is not None else None
    serve(Connection(int(sys.argv[1])), settings["function"], settings["path"], settings["memory_mb"], warmup)
