"""Dry-run a generated pipeline on a small sample of the user's files, in a child process with limits.

The child runs the module in memory (``Pipeline.run``, no Dagster) on the first rows of the input and reports the
rows in and out of every step. It gets a CPU-seconds limit, an address-space limit and a file-size limit
(``setrlimit`` before it starts), a wall-clock budget (its process group is killed when it runs over), a scratch
working folder and an environment holding only what it needs (the paths, the ``DATAFLOW_*`` engine settings and
the API key they name). That is a resource fence, not an isolation boundary; the code sandbox engine (bubblewrap,
see DESIGN §8) replaces :class:`SubprocessDryRunner` behind the same :class:`DryRunner` interface when it lands.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from operators.columns import REJECT_RULE

SAMPLE_ROWS = 40
"""Rows per sampled file."""
SAMPLE_FILES = 2


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

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DryRunResult:
        return cls(data["ok"], [StepRows(**s) for s in data["steps"]], data["seconds"], data.get("error", ""))


class DryRunner(Protocol):
    def run(self, module: Path, sample: Path) -> DryRunResult: ...


@dataclass(frozen=True)
class Limits:
    wall_s: float = 120.0
    cpu_s: int = 120
    memory_mb: int = 8192
    file_mb: int = 256


class SubprocessDryRunner:
    """Run ``python -m dataflow_assets.agent.dryrun MODULE SAMPLE`` under :class:`Limits`."""

    def __init__(self, limits: Limits = Limits()) -> None:
        self.limits = limits

    @property
    def identity(self) -> str:
        lim = self.limits
        return f"subprocess(wall={lim.wall_s}s, cpu={lim.cpu_s}s, as={lim.memory_mb}MB, fsize={lim.file_mb}MB)"

    def run(self, module: Path, sample: Path) -> DryRunResult:
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="dataflow-dryrun-") as scratch:
            report = Path(scratch) / "report.json"
            process = subprocess.Popen(
                [sys.executable, "-m", "dataflow_assets.agent.dryrun", str(module), str(sample), str(report)],
                cwd=scratch,
                env=_scrubbed_env(scratch),
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
                return DryRunResult(False, [], time.monotonic() - started, f"ran over {self.limits.wall_s:g} s")
            seconds = time.monotonic() - started
            if report.exists():
                return DryRunResult.from_json({**json.loads(report.read_text()), "seconds": seconds})
            tail = output.decode(errors="replace").strip().splitlines()[-5:]
            why = _signal_reason(process.returncode)
            return DryRunResult(False, [], seconds, f"the dry run exited {process.returncode}{why}: {' | '.join(tail)}")

    def _limit(self) -> None:
        lim = self.limits
        resource.setrlimit(resource.RLIMIT_CPU, (lim.cpu_s, lim.cpu_s + 1))  # SIGXCPU first, then SIGKILL
        resource.setrlimit(resource.RLIMIT_AS, (lim.memory_mb << 20, lim.memory_mb << 20))
        resource.setrlimit(resource.RLIMIT_FSIZE, (lim.file_mb << 20, lim.file_mb << 20))


def _signal_reason(code: int) -> str:
    if code == -signal.SIGXCPU:
        return " (CPU limit)"
    if code == -signal.SIGXFSZ:
        return " (file size limit)"
    return " (killed)" if code < 0 else ""


def _scrubbed_env(scratch: str) -> dict[str, str]:
    keep = {"PATH", "LANG", "LC_ALL", "TZ"}
    env = {k: v for k, v in os.environ.items() if k in keep or k.startswith("DATAFLOW_")}
    key_variable = os.environ.get("DATAFLOW_LLM_API_KEY_ENV")
    if key_variable and key_variable in os.environ:
        env[key_variable] = os.environ[key_variable]
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p and Path(p).is_dir())
    env.update(HOME=scratch, OMP_NUM_THREADS="1", DATAFLOW_DATA_ROOT=str(Path(scratch) / "delta"))
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
            pl.read_parquet(file, n_rows=rows).write_parquet(destination)
    return target / root.name if root.is_file() else target


def dry_run_in_process(module: Path, sample: Path) -> dict[str, Any]:
    """What the child does: run the pipeline on the sample with the engines its steps need, count rows."""
    from dataflow_assets.agent.validate import load_module, pipeline_class
    from resources.engines import engine_resources

    pipeline = pipeline_class(load_module(module))(sample)
    traced = pipeline.trace()
    needed = {engine for node in traced.nodes.values() if not node.is_source for engine in node.step.engines}
    resources = engine_resources(os.environ.get("DATAFLOW_DATA_ROOT", "delta"))
    engines = {name: resources[name].build_client() for name in needed}
    results = pipeline.run(engines)
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
        hint = getattr(error, "hint", None)
        outcome = {
            "ok": False,
            "steps": [],
            "error": f"{type(error).__name__}: {error}" + (f" (hint: {hint})" if hint else ""),
        }
    report.write_text(json.dumps(outcome, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
