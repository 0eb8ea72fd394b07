"""The sandbox engine: runs each job's program and tests under bubblewrap, in parallel, and judges the outcome.

One run (``bwrap`` mode), from the outside in:

* the host starts ``bwrap`` in a new session as an unprivileged uid (65534 when the host is root), with no
  environment; bubblewrap unshares every namespace (user, pid, network, ipc, uts, cgroup; no nested user
  namespaces), mounts ``/usr`` (and the interpreter's prefix) read-only, a read-only minimal ``/dev``, no
  ``/proc``, a size-limited tmpfs as ``/tmp`` (the working directory and the only writable place), remounts ``/``
  read-only, loads the seccomp filter of :mod:`resources.sandbox.seccomp` (threads, never processes) and dies with
  its parent. This happens ahead of the job: a spare sandbox is started while the previous job runs, and the
  interpreter waits for its job on a pipe;
* the host sends the job (the harness, program and tests compiled when both Pythons agree, the limits, the given
  files), then a fresh random nonce, then stdin, each on its own pipe;
* inside, :mod:`resources.sandbox.harness` sets the rlimits (CPU, address space, processes, file size, open files,
  no core dumps), runs the program and the tests, and writes its verdict on a private pipe; only ``passed`` followed
  by this run's nonce counts as a pass;
* the host caps stdout plus stderr, enforces the wall-clock limit by killing the interpreter, the pid namespace's
  init (through a pidfd; nothing survives, programs that ignore or block signals included), and reads the CPU
  time from ``wait4``.

``unsafe`` mode runs the same harness as a plain subprocess: rlimits and the fake-pass proof still hold, but the
program sees the host's files and network. It exists for development on machines without user namespaces, is off
by default, and warns loudly whenever it is used.
"""

from __future__ import annotations

import contextlib
import logging
import marshal
import math
import os
import re
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from types import CodeType
from typing import Literal

from operators.engines import CounterUsage
from operators.errors import DataflowError
from operators.sandbox.protocol import SandboxJob, SandboxLimits, SandboxResult, Verdict
from resources.sandbox.harness import (
    BOOTSTRAP,
    HARNESS_FILENAME,
    PROGRAM_FILENAME,
    TESTS_FILENAME,
    compile_tests,
    finish_line,
)
from resources.sandbox.interpreter import Interpreter, default_python, inspect_interpreter, world_readable
from resources.sandbox.seccomp import process_filter

log = logging.getLogger(__name__)

HARNESS = Path(__file__).with_name("harness.py")
SCRATCH = "/tmp"
NOBODY = 65534
EXIT_BLOCKED, EXIT_MEMORY = 87, 88
STATUS_CAP = 1 << 16
KILL_GRACE_S = 2.0

Mode = Literal["bwrap", "unsafe"]

POLARS_WITHOUT_CPU_CHECK = """import sys
import types

cpu_check = types.ModuleType("polars._cpu_check")
cpu_check.check_cpu_flags = lambda flags: None
cpu_check.get_runtime_repr = lambda: ""
sys.modules["polars._cpu_check"] = cpu_check
"""
"""For a program that imports polars from the ``libraries``, to run first: polars checks the CPU's features at
import by running machine code through ctypes, which the sandbox refuses (raw memory access); the stand-in skips
that check, which guards against a wheel built for another CPU and has passed on the host already."""


@dataclass
class _Outcome:
    """What the host saw of one run before judging it."""

    status: bytes = b""
    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)
    killed: str | None = None
    """``timeout`` or ``output_limit`` when the host killed the run."""
    exit_status: int | None = None
    cpu_s: float = 0.0
    wall_s: float = 0.0


@dataclass
class _Started:
    """A sandbox started ahead of its job: bubblewrap has built it and the interpreter waits for the job on a pipe.

    Starting one costs tens of milliseconds of process and namespace setup, mostly waiting; a spare started while
    the previous job runs takes that off the next job's time."""

    process: subprocess.Popen
    job: int
    nonce: int
    stdin: int
    status: int
    info: int
    scratch_mb: int
    scratch: tempfile.TemporaryDirectory | None = None

    def close(self) -> None:
        for fd in (self.job, self.nonce, self.stdin, self.status, self.info):
            _close(fd)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        if self.scratch is not None:
            self.scratch.cleanup()


class SandboxClient:
    """Implements :class:`operators.sandbox.protocol.Sandbox`. Thread-safe; build one per process and share it."""

    def __init__(
        self,
        limits: SandboxLimits | None = None,
        *,
        workers: int = 2,
        python: str = "",
        mode: Mode = "bwrap",
        uid: int = NOBODY,
        libraries: Sequence[str | Path] = (),
    ) -> None:
        """``libraries``: folders the programs may import from (a virtual environment's site-packages, a project's
        root), mounted read-only at their own paths and put first on the program's ``sys.path``; the audit hook
        trusts their code as it trusts the standard library's (see :func:`resources.sandbox.harness.make_hook`).
        None by default: programs see the standard library only."""
        if workers < 1:
            raise DataflowError(f"sandbox: workers={workers} must be at least 1")
        self.limits = limits or SandboxLimits()
        self.workers, self.mode = workers, mode
        self._drop_to = uid if mode == "bwrap" and os.geteuid() == 0 else None
        self.interpreter: Interpreter = inspect_interpreter(
            python or default_python(for_other_users=self._drop_to is not None)
        )
        source = HARNESS.read_text(encoding="utf-8")
        sandbox_python = tuple(int(part) for part in self.interpreter.version.split(".")[:2])
        self._precompile = sandbox_python == sys.version_info[:2]
        """Compile the harness, programs and tests here (the sandbox then compiles nothing) when both Pythons
        share a bytecode, i.e. a minor version; else the sandbox compiles the sources itself."""
        self.libraries = self._checked_libraries(libraries)
        self._harness = compile(source, HARNESS_FILENAME, "exec", dont_inherit=True) if self._precompile else source
        self._finish_line = finish_line(source)
        self._seccomp = process_filter()
        self._lock = threading.Lock()
        self._spares: list[_Started] = []
        self._closed = False
        # Sandboxes are started from one long-lived thread: --die-with-parent follows the *thread* that started
        # bubblewrap, and a worker thread of run_many ends when its batch does.
        self._spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sandbox-start")
        self._counts: dict[str, float] = {"runs": 0, "cpu_s": 0.0, "wall_s": 0.0} | {f"verdict_{v}": 0 for v in Verdict}
        if mode == "bwrap":
            _check_bwrap(self)
        elif mode == "unsafe":
            message = (
                "UNSAFE sandbox mode: programs run as plain subprocesses that can read the host's files, "
                "environment-free but with its network and uid; use mode='bwrap' for anything untrusted"
            )
            warnings.warn(message, stacklevel=2)
            log.warning(message)
        else:
            raise DataflowError(f"sandbox: unknown mode {mode!r}", hint="use 'bwrap' (default) or 'unsafe'")

    def _checked_libraries(self, libraries: Sequence[str | Path]) -> tuple[str, ...]:
        folders = tuple(dict.fromkeys(os.path.realpath(folder) for folder in libraries))
        if folders and not self._precompile:
            raise DataflowError(
                f"sandbox: its python {self.interpreter.version} cannot import libraries installed for this "
                f"python {sys.version.split()[0]} (compiled extensions are built for one minor version)",
                hint="set the sandbox's `python` to an interpreter of this minor version that any user may read",
            )
        for folder in folders:
            if not os.path.isdir(folder):
                raise DataflowError(f"sandbox: library folder {folder} does not exist")
            if self._drop_to is not None and not world_readable(folder):
                raise DataflowError(
                    f"sandbox: library folder {folder} is not readable by the sandbox's unprivileged user",
                    hint="make it and every folder above it readable by others (chmod o+rx)",
                )
        return folders

    @property
    def identity(self) -> str:
        isolation = "bwrap" if self.mode == "bwrap" else "UNSAFE-no-isolation"
        libraries = f" libraries={','.join(self.libraries)}" if self.libraries else ""
        return (
            f"sandbox[{isolation}] python {self.interpreter.version} ({self.interpreter.executable}) "
            f"{self.limits.summary()} workers={self.workers}{libraries}"
        )

    def usage(self) -> CounterUsage:
        with self._lock:
            return CounterUsage(dict(self._counts))

    def run(
        self,
        program: str,
        *,
        tests: str | None = None,
        entry_point: str | None = None,
        files: Mapping[str, str | bytes] | None = None,
        stdin: str | bytes | None = None,
        limits: SandboxLimits | None = None,
    ) -> SandboxResult:
        return self._run(SandboxJob(program, tests, entry_point, dict(files or {}), stdin, limits))

    def run_many(
        self, jobs: Sequence[SandboxJob], *, on_result: Callable[[int, SandboxResult], None] | None = None
    ) -> list[SandboxResult]:
        """Run ``jobs`` on up to ``workers`` sandboxes at once; ``on_result(index, result)`` as each finishes."""
        results: list[SandboxResult | None] = [None] * len(jobs)
        if not jobs:
            return []
        with ThreadPoolExecutor(max_workers=min(self.workers, len(jobs)), thread_name_prefix="sandbox") as pool:
            futures = {pool.submit(self._run, job): index for index, job in enumerate(jobs)}
            for future in as_completed(futures):
                index = futures[future]
                results[index] = future.result()
                if on_result is not None:
                    on_result(index, results[index])
        return [result for result in results if result is not None]

    # -- one run -------------------------------------------------------------------------------------------------

    def _run(self, job: SandboxJob) -> SandboxResult:
        limits = job.limits or self.limits
        files = {
            _scratch_name(name): content.encode() if isinstance(content, str) else bytes(content)
            for name, content in (job.files or {}).items()
        }
        nonce = secrets.token_hex(16).encode()
        try:
            program, tests = self._compiled(job)
        except (SyntaxError, ValueError, MemoryError, RecursionError) as error:
            return self._count(_not_compiled(error))
        payload = marshal.dumps(
            {
                "harness": self._harness,
                "finish_line": self._finish_line,
                "program": program,
                "tests": tests,
                "program_source": job.program,
                "tests_source": job.tests,
                "entry_point": job.entry_point,
                "files": files,
                "limits": {k: v for k, v in asdict(limits).items() if k != "max_output_bytes"},
                "libraries": list(self.libraries),
            }
        )
        stdin = job.stdin.encode() if isinstance(job.stdin, str) else job.stdin or b""
        started = self._take(limits.max_file_mb)
        try:
            writer = threading.Thread(target=_feed, args=(started, payload, nonce, stdin), daemon=True)
            writer.start()
            outcome = self._collect(started, limits)
            writer.join(timeout=KILL_GRACE_S)
        finally:
            started.close()
        return self._count(judge(outcome, nonce, limits))

    # -- started sandboxes ---------------------------------------------------------------------------------------

    def _take(self, scratch_mb: int) -> _Started:
        """A started sandbox with a scratch folder of ``scratch_mb``: a spare if one is up, else a new one; then
        a spare for the next job is started (for the engine's own limits)."""
        taken = None
        with self._lock:
            for spare in list(self._spares):
                if spare.scratch_mb == scratch_mb:
                    self._spares.remove(spare)
                    if spare.process.poll() is None:
                        taken = spare
                        break
                    self._reap(spare)
        if taken is None:
            taken = self._spawner.submit(self._start, scratch_mb).result()
        if scratch_mb == self.limits.max_file_mb:
            self._spawner.submit(self._keep_spare, scratch_mb)
        return taken

    def _keep_spare(self, scratch_mb: int) -> None:
        with self._lock:
            if self._closed or len(self._spares) >= self.workers:
                return
        spare = self._start(scratch_mb)
        with self._lock:
            if not self._closed:
                self._spares.append(spare)
                return
        self._reap(spare)

    def _start(self, scratch_mb: int) -> _Started:
        """Start bubblewrap and the interpreter; the harness then waits for its job (see :data:`BOOTSTRAP`)."""
        (job_r, job_w), (nonce_r, nonce_w), (stdin_r, stdin_w) = os.pipe(), os.pipe(), os.pipe()
        (status_r, status_w), (info_r, info_w) = os.pipe(), os.pipe()
        inherited = [job_r, nonce_r, status_w, info_w]  # the seccomp filter's memfd joins them
        tail = ["-c", BOOTSTRAP, str(job_r), str(nonce_r), str(status_w)]
        scratch = tempfile.TemporaryDirectory(prefix="dataflow-unsafe-") if self.mode == "unsafe" else None
        try:
            if scratch is None:
                argv = [*self._bwrap_command(scratch_mb, inherited, info_fd=info_w), *tail]
            else:
                argv = [self.interpreter.executable, "-I", "-S", "-B", *tail]
            process = subprocess.Popen(
                argv,
                stdin=stdin_r,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=inherited,
                cwd=scratch.name if scratch is not None else "/",
                env=_environment() if scratch is not None else {},
                start_new_session=True,
                **self._credentials(),
            )
        except OSError as error:
            for fd in (job_w, nonce_w, stdin_w, status_r, info_r):
                _close(fd)
            if scratch is not None:
                scratch.cleanup()
            raise DataflowError(f"sandbox: cannot start the sandbox: {error}") from None
        finally:
            for fd in (*inherited, stdin_r):  # the child has its own copies
                _close(fd)
        return _Started(process, job_w, nonce_w, stdin_w, status_r, info_r, scratch_mb, scratch)

    def _reap(self, started: _Started) -> None:
        """Kill a spare that never got a job, and wait for it: nothing of it is left."""
        interpreter = None
        with contextlib.suppress(OSError):
            os.set_blocking(started.info, False)
            pid = _child_pid(os.read(started.info, STATUS_CAP))
            interpreter = os.pidfd_open(pid) if pid is not None else None
        _kill(started.process, interpreter)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(started.process.pid, 0)
        started.process.returncode = -signal.SIGKILL
        if interpreter is not None:
            _close(interpreter)
        started.close()

    def close(self) -> None:
        """Stop the spare sandboxes. The client can still run jobs afterwards (without spares)."""
        with self._lock:
            self._closed = True
            spares, self._spares = self._spares, []
        for spare in spares:
            self._reap(spare)

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()
            self._spawner.shutdown(wait=False)

    def _compiled(self, job: SandboxJob) -> tuple[CodeType | str, CodeType | str | None]:
        """The program and the tests as code objects (the tests' comparisons made strict), or as sources when
        the sandbox's Python compiles them itself."""
        if not self._precompile:
            return job.program, job.tests
        program = compile(job.program, PROGRAM_FILENAME, "exec", dont_inherit=True)
        return program, None if job.tests is None else compile_tests(job.tests)

    def _count(self, result: SandboxResult) -> SandboxResult:
        with self._lock:
            self._counts["runs"] += 1
            self._counts["cpu_s"] += result.cpu_s
            self._counts["wall_s"] += result.wall_s
            self._counts[f"verdict_{result.verdict}"] += 1
        return result

    def _collect(self, started: _Started, limits: SandboxLimits) -> _Outcome:
        """Read the run's output, status and bubblewrap's info until it ends; kill it at a limit."""
        process, status_read, info_read = started.process, started.status, started.info
        outcome = _Outcome()
        started_at = time.monotonic()
        streams = {process.stdout.fileno(): outcome.stdout, process.stderr.fileno(): outcome.stderr}
        status, info = bytearray(), bytearray()
        deadline = started_at + limits.wall_s

        interpreter: list[int] = []  # a pidfd of the interpreter once bubblewrap said its pid: kills cannot miss

        def stop(reason: str) -> float:
            outcome.killed = reason
            outcome.cpu_s = _cpu_seconds(_child_pid(info))
            _kill(process, interpreter[0] if interpreter else None)
            return time.monotonic() + KILL_GRACE_S

        with selectors.DefaultSelector() as selector:
            for fd in (*streams, status_read, info_read):
                selector.register(fd, selectors.EVENT_READ)
            while selector.get_map():
                now = time.monotonic()
                if now >= deadline:
                    if outcome.killed is None:
                        deadline = stop("timeout")
                    else:  # something still holds a pipe after the kill: stop reading, kill the whole group
                        _kill(process, None)
                        break
                for key, _ in selector.select(max(0.0, deadline - now)):
                    data = os.read(key.fd, 1 << 16)
                    if not data:
                        selector.unregister(key.fd)
                    elif key.fd == status_read:
                        status += data[: STATUS_CAP - len(status)]
                    elif key.fd == info_read:
                        info += data[:STATUS_CAP]
                        if not interpreter and (pid := _child_pid(info)) is not None:
                            with contextlib.suppress(OSError):
                                interpreter.append(os.pidfd_open(pid))
                    else:
                        buffer = streams[key.fd]
                        room = limits.max_output_bytes - len(outcome.stdout) - len(outcome.stderr)
                        buffer += data[: max(0, room)]
                        if len(data) > room and outcome.killed is None:
                            deadline = stop("output_limit")
        _, wait_status, rusage = os.wait4(process.pid, 0)
        for pidfd in interpreter:
            _close(pidfd)
        process.returncode = os.waitstatus_to_exitcode(wait_status)
        outcome.wall_s = time.monotonic() - started_at
        outcome.cpu_s = max(outcome.cpu_s, rusage.ru_utime + rusage.ru_stime)
        outcome.exit_status = process.returncode
        outcome.status = bytes(status)
        return outcome

    # -- the bubblewrap command ----------------------------------------------------------------------------------

    def _system_mounts(self) -> list[str]:
        args = system_mounts()
        for extra in {self.interpreter.prefix, str(Path(self.interpreter.executable).parent)}:
            if extra != "/usr" and not extra.startswith("/usr/"):
                args += ["--ro-bind", extra, extra]
        return args

    def _bwrap_command(self, scratch_mb: int, opened: list[int], *, info_fd: int | None = None) -> list[str]:
        """bubblewrap's arguments up to the interpreter; the seccomp filter's memfd is appended to ``opened``."""
        args = [
            "bwrap",
            *(["--info-fd", str(info_fd)] if info_fd is not None else []),
            "--unshare-all",
            "--unshare-user",
            "--disable-userns",
            "--die-with-parent",
            "--new-session",
            "--as-pid-1",  # the interpreter is the namespace's init: its CPU time reaches our wait4
            "--uid",
            str(NOBODY),
            "--gid",
            str(NOBODY),
            "--hostname",
            "sandbox",
            *self._system_mounts(),
            "--dev",
            "/dev",
            "--size",
            str(scratch_mb << 20),
            "--tmpfs",
            SCRATCH,
            # after the scratch, which would hide a library folder below /tmp
            *(arg for folder in self.libraries for arg in ("--ro-bind", folder, folder)),
            # /dev is a tmpfs of its own, unbounded: read-only, or a program could fill the host's memory with it
            "--remount-ro",
            "/dev",
            "--remount-ro",
            "/",
            "--chdir",
            SCRATCH,
            "--clearenv",
        ]
        for key, value in _environment().items():
            args += ["--setenv", key, value]
        if self._seccomp is not None:
            args += ["--seccomp", str(_memfd(self._seccomp, opened))]
        return [*args, "--", self.interpreter.executable, "-I", "-S", "-B"]

    def _credentials(self) -> dict:
        """Popen's arguments that drop root to the sandbox uid (nothing when the host is not root)."""
        return {} if self._drop_to is None else {"user": self._drop_to, "group": self._drop_to, "extra_groups": []}


def system_mounts() -> list[str]:
    """bubblewrap's read-only binds of the system: ``/usr``, the ``/bin`` and ``/lib*`` links (or folders) and the
    dynamic loader's cache (also used by the agent's sandboxed dry run)."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/", name)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    if Path("/etc/ld.so.cache").exists():  # where the dynamic loader finds the standard library's libraries
        args += ["--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    return args


def judge(outcome: _Outcome, nonce: bytes, limits: SandboxLimits) -> SandboxResult:
    """The verdict: ``passed`` needs this run's nonce from the harness and a clean exit, nothing else."""
    lines = outcome.status.decode("utf-8", "replace").splitlines()
    said = next((line for line in reversed(lines) if line.split(" ", 1)[0] in {"failed", "blocked", "memory"}), "")
    detail = said.partition(" ")[2]
    code = outcome.exit_status
    if outcome.killed == "output_limit":
        verdict, detail = Verdict.OUTPUT_LIMIT, f"more than {limits.max_output_bytes} bytes of output"
    elif outcome.killed == "timeout":
        verdict, detail = Verdict.TIMEOUT, f"wall-clock limit of {limits.wall_s:g}s reached"
    elif outcome.status == b"passed " + nonce + b"\n" and code == 0:
        verdict, detail = Verdict.PASSED, ""
    elif _signal_number(code) in (signal.SIGKILL, signal.SIGXCPU) and outcome.cpu_s >= 0.5 * math.ceil(limits.cpu_s):
        # the kernel's RLIMIT_CPU (our own kills are handled above; the sandbox's init cannot kill itself)
        verdict, detail = Verdict.TIMEOUT, f"CPU-time limit of {limits.cpu_s:g}s reached"
    elif code == EXIT_BLOCKED:
        verdict, detail = Verdict.BLOCKED, detail or "the program did something the sandbox forbids"
    elif code == EXIT_MEMORY or detail.startswith("MemoryError"):
        verdict, detail = Verdict.MEMORY, f"address-space limit of {limits.memory_mb} MiB reached"
    elif _signal_number(code) is not None:
        verdict, detail = Verdict.CRASHED, f"the interpreter was killed by {signal.Signals(_signal_number(code)).name}"
    elif code == 0:
        verdict, detail = Verdict.FAILED, "the program exited (status 0) before the tests finished: no proof"
    else:
        verdict, detail = Verdict.FAILED, detail or f"exit status {code} before the tests finished"
    return SandboxResult(
        verdict=verdict,
        exit_status=None if outcome.killed else code,
        stdout=outcome.stdout.decode("utf-8", "replace"),
        stderr=outcome.stderr.decode("utf-8", "replace"),
        cpu_s=round(outcome.cpu_s, 4),
        wall_s=round(outcome.wall_s, 4),
        detail=detail,
    )


def _not_compiled(error: BaseException) -> SandboxResult:
    """The verdict on a program or tests that do not compile: found on the host, nothing is run."""
    if isinstance(error, SyntaxError):
        where = "the tests" if error.filename == TESTS_FILENAME else "the program"
        detail = f"SyntaxError in {where}, line {error.lineno}: {error.msg}"
    else:
        detail = f"cannot compile: {type(error).__name__}: {error}"
    return SandboxResult(Verdict.FAILED, None, "", "", 0.0, 0.0, detail)


def _signal_number(code: int | None) -> int | None:
    """The signal that ended the interpreter: a negative status from Popen, 128 + n from bubblewrap."""
    number = -code if code is not None and code < 0 else code - 128 if code is not None and code > 128 else None
    return number if number in set(signal.Signals) else None


def _environment() -> dict[str, str]:
    """The whole environment a program sees: nothing of the host's."""
    return {"PATH": "/usr/bin:/bin", "HOME": SCRATCH, "LANG": "C.UTF-8", "MALLOC_ARENA_MAX": "2"}


def _scratch_name(name: str) -> str:
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or str(path) in (".", ""):
        raise DataflowError(f"sandbox: file name {name!r} must be a relative path inside the scratch folder")
    return str(path)


def _memfd(data: bytes, opened: list[int]) -> int:
    fd = os.memfd_create("dataflow-sandbox", 0)
    opened.append(fd)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _close(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)


def _feed(started: _Started, payload: bytes, nonce: bytes, stdin: bytes) -> None:
    """Hand a started sandbox its job, then its nonce, then its stdin, closing each pipe after it; a sandbox that
    died first just gets nothing (the collector sees it end)."""
    for fd, data in ((started.job, payload), (started.nonce, nonce), (started.stdin, stdin)):
        with contextlib.suppress(OSError):
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        with contextlib.suppress(OSError):
            os.close(fd)
    started.job = started.nonce = started.stdin = -1


def _child_pid(info: bytes) -> int | None:
    """The interpreter's host pid, as bubblewrap's ``--info-fd`` reports it (None before it did, or unsafe mode)."""
    found = re.search(rb'"child-pid":\s*(\d+)', info)
    return int(found[1]) if found else None


def _cpu_seconds(pid: int | None) -> float:
    """CPU seconds the process ``pid`` has used so far (0 if unknown)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rpartition(b")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, TypeError, IndexError, ValueError):
        return 0.0


def _kill(process: subprocess.Popen, interpreter_pidfd: int | None) -> None:
    """SIGKILL the sandbox. The interpreter first, when bubblewrap reported it (through a pidfd, which cannot hit a
    recycled pid): it is the init of the sandbox's pid namespace, so every thread and process in it dies with it,
    and bubblewrap, its parent, reaps it and exits, leaving nothing, not even a zombie. Otherwise bubblewrap's whole
    process group (the namespace then dies through ``--die-with-parent``; in unsafe mode the group is the
    interpreter's)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if interpreter_pidfd is not None:
            signal.pidfd_send_signal(interpreter_pidfd, signal.SIGKILL)
        else:
            os.killpg(process.pid, signal.SIGKILL)


_PROBED: dict[tuple[str, int | None], str | None] = {}
_PROBE_LOCK = threading.Lock()


def _bwrap_problem(client: SandboxClient) -> str | None:
    """None when a trivial program runs in this client's sandbox, else bubblewrap's complaint (once per
    interpreter and uid)."""
    key = (client.interpreter.executable, client._drop_to)
    with _PROBE_LOCK:
        if key not in _PROBED:
            opened: list[int] = []
            try:
                argv = [*client._bwrap_command(client.limits.max_file_mb, opened), "-c", "pass"]
                answer = subprocess.run(argv, capture_output=True, text=True, timeout=60, env={},
                                        pass_fds=opened, **client._credentials())  # fmt: skip
                _PROBED[key] = None if answer.returncode == 0 else answer.stderr.strip() or f"exit {answer.returncode}"
            except (OSError, subprocess.SubprocessError) as error:
                _PROBED[key] = str(error)
            finally:
                for fd in opened:
                    _close(fd)
        return _PROBED[key]


def _check_bwrap(client: SandboxClient) -> None:
    if shutil.which("bwrap") is None:
        raise DataflowError(
            "sandbox: bubblewrap (bwrap) is not installed, so untrusted code cannot be isolated",
            hint="install it (apt-get install -y bubblewrap); only for development, mode='unsafe' runs programs "
            "without isolation",
        )
    problem = _bwrap_problem(client)
    if problem is not None:
        raise DataflowError(
            f"sandbox: bubblewrap (bwrap) cannot create the sandbox here: {problem}",
            hint="bwrap needs unprivileged user namespaces (sysctl user.max_user_namespaces > 0, "
            "kernel.unprivileged_userns_clone=1 where that exists); in a container, allow them",
        )
