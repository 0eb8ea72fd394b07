"""Dry-run a generated pipeline on a small sample of the user's files, in the code sandbox or a child process.

The child runs the module in memory (``Pipeline.run``, no Dagster) on the first rows of the input, with the
engines its steps declare built as the shipped definitions build them (:mod:`dataflow_assets.agent.engines`),
and reports the rows in and out of every step. Two runners sit behind the :class:`DryRunner` interface:

* :class:`SandboxDryRunner` (the default where bubblewrap works) runs that child under bubblewrap, as the code
  domain's sandbox does (``resources/sandbox``, docs/code.md): new user, pid, ipc, uts, cgroup and network
  namespaces; a read-only view of only the system (``/usr``, the loader's cache), the Python installation and
  virtual environment, the project's packages, the folder holding the module, the sample, and the files the
  plan's engines read (a local GGUF model, a model folder, SQLite databases); a size-limited tmpfs ``/tmp`` as the
  scratch folder (its working directory, ``HOME`` and Delta root), the only writable place besides the runner's
  own report folder; nothing else of the host (no ``/home``, ``/root``, ``/etc`` beyond the loader's cache). The
  network namespace is shared only when an engine of the plan is configured as a server (an OpenAI-compatible
  LLM or embedder, a PostgreSQL or MariaDB database): then the child can reach the network, still with the same
  read-only files. Nested user namespaces stay allowed, so that the ``sandbox`` engine of code steps can start
  its own bubblewrap sandboxes inside (they unshare the network and drop everything again).
* :class:`SubprocessDryRunner` runs the child as a plain process: the fallback where bubblewrap cannot run
  (:func:`default_runner` logs why), and for the vLLM backend, whose GPUs the sandbox does not expose.

Both give the child a CPU-seconds limit, an address-space limit and a file-size limit (``setrlimit`` before it
starts), a wall-clock budget (the process group is killed when it runs over) and an environment holding only what
it needs (the paths, the ``DATAFLOW_*`` engine settings and the API key they name).
"""

from __future__ import annotations

import ast
import errno
import json
import logging
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from dataflow_assets.agent.engines import (
    AgentEngines,
    EngineAccess,
    build_engines,
    close_engines,
    describe_error,
)
from operators.columns import REJECT_RULE
from operators.sources.parquet_file import load_parquet

log = logging.getLogger(__name__)

SAMPLE_ROWS = 40
"""Rows per sampled file."""
SAMPLE_FILES = 2
CHILD = "dataflow_assets.agent.dryrun"
SCRATCH = "/tmp"
"""The sandboxed child's scratch folder (a tmpfs), working directory and ``HOME``."""
SANDBOXED = "DATAFLOW_DRYRUN_SANDBOX"
"""Set in the sandboxed child's environment: its errors then say what the sandbox lets it reach."""
SANDBOX_UID = 65534
NETWORK_FILES = (
    "/etc/resolv.conf",
    "/etc/hosts",
    "/etc/nsswitch.conf",
    "/etc/gai.conf",
    "/etc/ssl",
    "/etc/ca-certificates",
)
"""What name resolution and TLS read, bound only when the network is shared."""


@dataclass(frozen=True)
class StepRows:
    step: str
    rows_in: int
    rows_out: int
    rejected: dict[str, int] = field(default_factory=dict)
    """Rejected rows by reason."""


@dataclass(frozen=True)
class DryRunResult:
    ok: bool
    steps: list[StepRows]
    seconds: float
    error: str = ""
    isolation: str = ""
    """How the child ran (the runner's identity)."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DryRunResult:
        return cls(
            data["ok"],
            [StepRows(**s) for s in data["steps"]],
            data["seconds"],
            data.get("error", ""),
            data.get("isolation", ""),
        )


class DryRunner(Protocol):
    def run(self, module: Path, sample: Path) -> DryRunResult: ...


@dataclass(frozen=True)
class Limits:
    wall_s: float = 120.0
    cpu_s: int = 120
    memory_mb: int = 8192
    file_mb: int = 256
    scratch_mb: int = 1024
    """Size of the sandbox's tmpfs scratch folder (and of its ``/dev/shm``)."""


class SubprocessDryRunner:
    """Run ``python -m dataflow_assets.agent.dryrun MODULE SAMPLE REPORT`` under :class:`Limits`."""

    def __init__(self, limits: Limits = Limits(), engines: AgentEngines | None = None, not_sandboxed: str = "") -> None:
        self.limits = limits
        self.engines = engines
        self.not_sandboxed = not_sandboxed
        """Why the sandbox is not used (shown in the identity, so the report says it)."""

    @property
    def identity(self) -> str:
        lim = self.limits
        why = f"; not sandboxed: {self.not_sandboxed}" if self.not_sandboxed else ""
        return f"subprocess(wall={lim.wall_s}s, cpu={lim.cpu_s}s, as={lim.memory_mb}MB, fsize={lim.file_mb}MB){why}"

    def run(self, module: Path, sample: Path) -> DryRunResult:
        started = time.monotonic()
        module, sample = Path(module).absolute(), Path(sample).absolute()
        with tempfile.TemporaryDirectory(prefix="dataflow-dryrun-") as folder:
            report = Path(folder) / "report.json"
            child = [sys.executable, "-m", CHILD, str(module), str(sample), str(report)]
            command, env, cwd = self._command(child, module, sample, Path(folder))
            process = subprocess.Popen(
                command,
                cwd=cwd,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                preexec_fn=self._limit,
                start_new_session=True,
            )
            try:
                output, _ = process.communicate(timeout=self.limits.wall_s)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.communicate()
                return self._result(False, [], started, f"ran over {self.limits.wall_s:g} s")
            if report.exists():
                data = json.loads(report.read_text())
                return self._result(data["ok"], data["steps"], started, data.get("error", ""))
            tail = output.decode(errors="replace").strip().splitlines()[-5:]
            why = _signal_reason(process.returncode)
            return self._result(False, [], started, f"the dry run exited {process.returncode}{why}: {' | '.join(tail)}")

    def _command(
        self, child: list[str], module: Path, sample: Path, folder: Path
    ) -> tuple[list[str], dict[str, str], str]:
        """The command line, environment and working folder of the child."""
        access = self.engines.access() if self.engines is not None else EngineAccess()
        return child, _child_env(str(folder), access, [*_python_path(), *_module_root(module)[1:]]), str(folder)

    def _result(self, ok: bool, steps: list[dict[str, Any]], started: float, error: str) -> DryRunResult:
        seconds = time.monotonic() - started
        return DryRunResult(ok, [StepRows(**s) for s in steps], seconds, error, self.identity)

    def _limit(self) -> None:
        lim = self.limits
        resource.setrlimit(resource.RLIMIT_CPU, (lim.cpu_s, lim.cpu_s + 1))  # SIGXCPU first, then SIGKILL
        resource.setrlimit(resource.RLIMIT_AS, (lim.memory_mb << 20, lim.memory_mb << 20))
        resource.setrlimit(resource.RLIMIT_FSIZE, (lim.file_mb << 20, lim.file_mb << 20))


class SandboxDryRunner(SubprocessDryRunner):
    """The same child under bubblewrap (see the module's docstring for what it can reach)."""

    @property
    def identity(self) -> str:
        lim = self.limits
        return (
            f"sandbox[bwrap](wall={lim.wall_s}s, cpu={lim.cpu_s}s, as={lim.memory_mb}MB, fsize={lim.file_mb}MB, "
            f"scratch={lim.scratch_mb}MB)"
        )

    def _command(
        self, child: list[str], module: Path, sample: Path, folder: Path
    ) -> tuple[list[str], dict[str, str], str]:
        engines = self.engines or AgentEngines({})
        access = engines.access(engines_of(module))
        root, *importable = _module_root(module)
        python_path = [*_python_path(), *importable]
        env = _child_env(SCRATCH, engines.access(), python_path) | {SANDBOXED: "1"}
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"])
        readable = [*_python_roots(), *python_path, root, str(sample), *access.files]
        command = [
            *bwrap_arguments(readable, scratch_mb=self.limits.scratch_mb, network=access.network),
            "--bind", str(folder), str(folder),  # the report, written by the runner's own code
            "--remount-ro", "/",
            "--chdir", SCRATCH,
            "--clearenv",
            *(arg for key, value in sorted(env.items()) for arg in ("--setenv", key, value)),
            "--",
            *child,
        ]  # fmt: skip
        return command, {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}, str(folder)


def bwrap_arguments(readable: Collection[str], *, scratch_mb: int, network: bool) -> list[str]:
    """bubblewrap's namespaces and mounts: the system and ``readable`` read-only, a tmpfs scratch."""
    from resources.sandbox.client import system_mounts

    args = [
        "bwrap",
        "--unshare-all",
        *(["--share-net"] if network else []),
        "--die-with-parent",
        "--new-session",
        "--uid", str(SANDBOX_UID),
        "--gid", str(SANDBOX_UID),
        "--hostname", "dryrun",
        *system_mounts(),
    ]  # fmt: skip
    for path in NETWORK_FILES if network else ():
        args += ["--ro-bind-try", path, path]
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += ["--size", str(scratch_mb << 20), "--tmpfs", "/dev/shm", "--remount-ro", "/dev"]
    args += ["--size", str(scratch_mb << 20), "--tmpfs", SCRATCH]
    for path in _outermost(readable):  # after the tmpfs: a bound folder under /tmp stays visible
        args += ["--ro-bind", path, path]
    return args


def sandbox_problem(engines: AgentEngines | None = None) -> str | None:
    """None when the sandboxed dry run can run here, else why not."""
    if engines is not None and (why := engines.access().unsandboxed):
        return why
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed (apt-get install -y bubblewrap)"
    return _bwrap_problem(sys.executable)


_PROBED: dict[str, str | None] = {}


def _bwrap_problem(python: str) -> str | None:
    """Whether this interpreter starts under the dry run's bubblewrap arguments (once per interpreter)."""
    if python not in _PROBED:
        command = [
            *bwrap_arguments([*_python_roots(), *_python_path()], scratch_mb=16, network=False),
            "--remount-ro", "/",
            "--", python, "-c", "import polars",
        ]  # fmt: skip
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=120)
            problem = None if done.returncode == 0 else done.stderr.strip()[-300:] or f"exit {done.returncode}"
        except (OSError, subprocess.SubprocessError) as error:
            problem = str(error)
        _PROBED[python] = problem and f"bubblewrap cannot start the dry run here: {problem}"
    return _PROBED[python]


def default_runner(engines: AgentEngines | None = None, limits: Limits = Limits()) -> DryRunner:
    """The sandboxed dry run where bubblewrap works, else a child process with limits (the reason is logged and
    shown in the runner's identity, which the report prints)."""
    problem = sandbox_problem(engines)
    if problem is None:
        return SandboxDryRunner(limits, engines)
    log.warning("agent: the dry run runs as a plain child process with limits, not in the sandbox: %s", problem)
    return SubprocessDryRunner(limits, engines, not_sandboxed=problem)


def engines_of(module: Path) -> set[str]:
    """The engines of the registry operators a generated module imports, read from its source (not run)."""
    from operators.registry import get_operator, list_operators

    try:
        tree = ast.parse(Path(module).read_text())
    except (OSError, SyntaxError, ValueError):
        return set()
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names}
    return {
        engine for info in list_operators() if get_operator(info.name).__name__ in imported for engine in info.engines
    }


def _python_roots() -> list[str]:
    """The interpreter's installation and the virtual environment."""
    return [sys.base_prefix, sys.prefix, str(Path(sys.executable).resolve().parent)]


def _python_path() -> list[str]:
    """The import path the child needs: this process's entries inside the Python installation or the virtual
    environment, those the user put on ``PYTHONPATH``, and the folders holding the project's packages (an editable
    install finds them without an entry on the path). Not the rest of ``sys.path`` (a script's own folder)."""
    import dataflow_assets
    import operators
    import resources

    roots = [Path(p) for p in _python_roots()]
    installed = [p for p in sys.path if p and any(Path(p).is_relative_to(root) for root in roots)]
    chosen = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    project = [str(Path(package.__file__).resolve().parents[1]) for package in (operators, resources, dataflow_assets)]
    return [p for p in dict.fromkeys([*chosen, *project, *installed]) if Path(p).is_dir()]


def _module_root(module: Path) -> list[str]:
    """The folder the module is read from and, for the agent's layout ``<out>/dataflow_assets/<package>/<name>.py``,
    ``<out>`` as an import path (as discovery has it), so a module may import the user's own package."""
    if module.parent.parent.name == "dataflow_assets":
        return [str(module.parents[2]), str(module.parents[2])]
    return [str(module.parent)]


def _outermost(paths: Collection[str]) -> list[str]:
    """The existing ``paths``, less those inside another one (and inside ``/usr``, bound already)."""
    absolute = sorted({str(Path(p).absolute()) for p in paths if p and Path(p).exists()})
    kept: list[str] = []
    for path in absolute:
        if not any(Path(path).is_relative_to(k) for k in [*kept, "/usr"]):
            kept.append(path)
    return kept


def _signal_reason(code: int) -> str:
    number = -code if code < 0 else code - 128 if code > 128 else 0  # bubblewrap exits 128 + the signal
    if number == signal.SIGXCPU:
        return " (CPU limit)"
    if number == signal.SIGXFSZ:
        return " (file size limit)"
    return " (killed)" if number else ""


def _child_env(scratch: str, access: EngineAccess, python_path: list[str]) -> dict[str, str]:
    keep = {"PATH", "LANG", "LC_ALL", "TZ"}
    env = {k: v for k, v in os.environ.items() if k in keep or k.startswith("DATAFLOW_")}
    for prefix in ("DATAFLOW_LLM", "DATAFLOW_EMBEDDER"):
        key_variable = os.environ.get(f"{prefix}_API_KEY_ENV")
        if key_variable and key_variable in os.environ:
            env[key_variable] = os.environ[key_variable]
    env.update(access.env)
    env["PYTHONPATH"] = os.pathsep.join(python_path)
    env.update(
        HOME=scratch,
        TMPDIR=scratch,
        USER="dataflow",
        LOGNAME="dataflow",
        OMP_NUM_THREADS="1",
        DATAFLOW_DATA_ROOT=str(Path(scratch) / "delta"),
    )
    return env


def write_sample(input_path: str, pattern: str, target: Path, rows: int = SAMPLE_ROWS) -> Path:
    """The first ``rows`` rows of the first files of the input, same names and formats, under ``target``."""
    root = Path(input_path)
    files = [root] if root.is_file() else sorted(p for p in root.glob(pattern) if p.is_file())[:SAMPLE_FILES]
    for file in files:
        destination = target / (file.name if root.is_file() else file.relative_to(root))
        destination.parent.mkdir(parents=True, exist_ok=True)
        suffix = file.suffix.lower()
        if suffix in {".jsonl", ".ndjson"}:
            with file.open("rb") as handle:
                destination.write_bytes(b"".join(line for _, line in zip(range(rows), handle, strict=False)))
        elif suffix == ".csv":
            with file.open("rb") as handle:
                destination.write_bytes(b"".join(line for _, line in zip(range(rows + 1), handle, strict=False)))
        elif suffix == ".json":
            destination.write_text(json.dumps(json.loads(file.read_text())[:rows]))
        else:
            load_parquet(file, n_rows=rows).write_parquet(destination)
    return target / root.name if root.is_file() else target


def dry_run_in_process(module: Path, sample: Path) -> dict[str, Any]:
    """What the child does: run the pipeline on the sample with the engines its steps need, count rows."""
    from dataflow_assets.agent.validate import load_module, pipeline_class

    pipeline = pipeline_class(load_module(module))(sample)
    traced = pipeline.trace()
    needed = {engine for node in traced.nodes.values() if not node.is_source for engine in node.step.engines}
    engines = build_engines(sorted(needed), os.environ.get("DATAFLOW_DATA_ROOT", "delta"))
    try:
        results = pipeline.run(engines)
    finally:
        close_engines(engines)
    steps = []
    for name, node in traced.nodes.items():
        result = results[name]
        rows_in = sum(results[i].kept.height for i in node.inputs) if node.inputs else result.kept.height
        rejected = result.rejected
        reasons = (
            dict(rejected.group_by(REJECT_RULE).len().iter_rows())
            if rejected is not None and REJECT_RULE in rejected.columns
            else {}
        )
        steps.append(asdict(StepRows(name, rows_in, result.kept.height, {str(k): int(v) for k, v in reasons.items()})))
    return {"ok": True, "steps": steps}


def main(argv: list[str]) -> None:
    module, sample, report = (Path(a) for a in argv)
    try:
        outcome = dry_run_in_process(module, sample)
    except Exception as error:  # reported to the parent as the round's error message
        hint = _sandbox_hint(error)
        outcome = {"ok": False, "steps": [], "error": describe_error(error) + (f" (hint: {hint})" if hint else "")}
    report.write_text(json.dumps(outcome, default=str))


def _sandbox_hint(error: Exception) -> str | None:
    """What a file error means in the sandbox: the path is not one the dry run may reach."""
    if os.environ.get(SANDBOXED) and isinstance(error, OSError) and error.errno in {
        errno.ENOENT, errno.EROFS, errno.EACCES, errno.EPERM,
    }:  # fmt: skip
        return (
            f"the dry run runs in a sandbox: it reads only the Python environment, the project, the module's folder, "
            f"the sample and its engines' files, and writes only its scratch folder {SCRATCH}"
        )
    return None


if __name__ == "__main__":
    main(sys.argv[1:])
