"""The one call code-executing operators make, whatever isolates the program.

``resources.sandbox`` implements it with bubblewrap (namespaces, a read-only system, a tmpfs scratch, an
unprivileged uid, rlimits, a seccomp filter, a kill of the whole process tree) around a harness that proves the
tests ran to the end. A result's verdict is ``passed`` only on that proof: an exit status, "passed" on stdout or an
early ``sys.exit(0)`` never is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable


class Verdict(StrEnum):
    PASSED = "passed"
    """Every statement of the program and of its tests ran to the end: the harness's proof arrived."""
    FAILED = "failed"
    """An exception, a failed assertion, a syntax error, or an exit before the end (any exit status)."""
    TIMEOUT = "timeout"
    """The CPU-time or wall-clock limit was reached; the whole process tree was killed."""
    MEMORY = "memory"
    """The address-space limit was reached (``MemoryError``)."""
    CRASHED = "crashed"
    """The interpreter died from a signal (segfault, abort, kill) before finishing."""
    OUTPUT_LIMIT = "output_limit"
    """stdout and stderr together exceeded ``max_output_bytes``; the program was killed."""
    BLOCKED = "blocked"
    """The program tried something the sandbox forbids (starting processes, reading interpreter memory,
    tampering with the test harness, builtins or the standard library) and was stopped."""


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits of one run. Every one is enforced by the kernel (rlimits, tmpfs size) or the host."""

    cpu_s: float = 10.0
    """CPU seconds (all threads); SIGXCPU at the limit, SIGKILL a second later."""
    wall_s: float = 20.0
    """Wall-clock seconds from start to kill of the whole sandbox."""
    memory_mb: int = 1024
    """Address space (RLIMIT_AS) in MiB. Virtual memory: thread stacks and mapped libraries count."""
    max_processes: int = 64
    """Tasks (threads) the sandbox's user may run (RLIMIT_NPROC); new processes are refused regardless."""
    max_file_mb: int = 16
    """Largest file the program may write (RLIMIT_FSIZE), and the size of the scratch tmpfs."""
    max_open_files: int = 64
    """Open file descriptors (RLIMIT_NOFILE)."""
    max_output_bytes: int = 1 << 20
    """stdout plus stderr; more kills the program with verdict ``output_limit``."""

    def summary(self) -> str:
        return (
            f"cpu={self.cpu_s:g}s wall={self.wall_s:g}s mem={self.memory_mb}MiB procs={self.max_processes} "
            f"file={self.max_file_mb}MiB nofile={self.max_open_files} out={self.max_output_bytes}B"
        )


@dataclass(frozen=True)
class SandboxJob:
    """One program to run. With ``tests``, the tests run after the program in the same process (the program's
    names visible to them) and, with ``entry_point``, ``check(<entry_point>)`` is called last."""

    program: str
    tests: str | None = None
    entry_point: str | None = None
    files: Mapping[str, str | bytes] = field(default_factory=dict)
    """Extra files put in the scratch folder (the working directory), by relative name."""
    stdin: str | bytes | None = None
    limits: SandboxLimits | None = None
    """Overrides the engine's limits for this job."""


@dataclass(frozen=True)
class SandboxResult:
    verdict: Verdict
    exit_status: int | None
    """The interpreter's exit status; None when it was killed by the host (timeout, output limit)."""
    stdout: str
    stderr: str
    cpu_s: float
    wall_s: float
    detail: str = ""
    """Why, in one line: the failing assertion or exception, the forbidden action, the limit reached."""

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.PASSED


@runtime_checkable
class Sandbox(Protocol):
    """Run untrusted Python programs in isolation, in parallel up to the engine's number of workers."""

    @property
    def identity(self) -> str:
        """How programs are run: isolation mode, limits and interpreter, for lineage."""
        ...

    @property
    def limits(self) -> SandboxLimits:
        """The limits a job gets unless it brings its own."""
        ...

    def run(
        self,
        program: str,
        *,
        tests: str | None = None,
        entry_point: str | None = None,
        files: Mapping[str, str | bytes] | None = None,
        stdin: str | bytes | None = None,
        limits: SandboxLimits | None = None,
    ) -> SandboxResult: ...

    def run_many(self, jobs: Sequence[SandboxJob]) -> list[SandboxResult]:
        """One result per job, in order; jobs run in parallel."""
        ...
