"""The cost of the sandbox: small programs with tests run in bubblewrap against the same programs run as plain
subprocesses with no isolation, with 1 and 2 workers.

Variants, each over the same programs (a function plus HumanEval-style tests, ``check(entry point)`` called last):

* (a) ``plain``: ``python -I -S -B program.py`` (program, tests and the check call in one file) with
  ``subprocess.run``, nothing else: what running untrusted code carelessly costs.
* (b) ``harness``: the sandbox's harness without isolation (``mode="unsafe"``): rlimits, the audit hook, the
  vault and the proof, the strict comparisons. Not for untrusted code; here to split the cost.
* (c) ``sandbox``: ``SandboxClient.run_many`` in ``bwrap`` mode, what ``code_execution`` runs.

Every variant uses the same interpreter (the one the sandbox picks) and the same number of worker threads; the
variants are interleaved over the rounds so that a busy spell on a shared machine hits all of them. Reported per
variant and worker count: median wall seconds, runs per second, CPU seconds of the child processes (user + sys,
from ``RUSAGE_CHILDREN``), and the ratio to (a); the per-run overhead is the difference of the wall time per run
with one worker. Every run must pass (the programs are correct), else the benchmark fails.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.machine import describe
from operators.sandbox.protocol import SandboxJob, SandboxLimits
from resources.sandbox.client import SandboxClient

RESULTS = Path(__file__).parent / "results"

TEMPLATES = [
    (
        "def add_{i}(a, b):\n    return a + b + {i} - {i}\n",
        "def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0\n",
        "add_{i}",
    ),
    (
        "def fib_{i}(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n",
        "def check(candidate):\n    assert candidate(10) == 55\n    assert candidate({i} % 5) >= 0\n",
        "fib_{i}",
    ),
    (
        "def words_{i}(text):\n    counts = {{}}\n    for w in text.split():\n"
        "        counts[w] = counts.get(w, 0) + 1\n    return counts\n",
        "def check(candidate):\n    assert candidate('a b a') == {{'a': 2, 'b': 1}}\n"
        "    assert candidate('') == {{}}\n",
        "words_{i}",
    ),
    (
        "def primes_{i}(n):\n    return [p for p in range(2, n) if all(p % d for d in range(2, int(p ** 0.5) + 1))]\n",
        "def check(candidate):\n    assert candidate(20) == [2, 3, 5, 7, 11, 13, 17, 19]\n",
        "primes_{i}",
    ),
]


def jobs(count: int) -> list[SandboxJob]:
    made = []
    for i in range(count):
        program, tests, entry = TEMPLATES[i % len(TEMPLATES)]
        made.append(SandboxJob(program.format(i=i), tests.format(i=i), entry.format(i=i)))
    return made


def plain_runner(python: str, workers: int) -> Callable[[list[SandboxJob]], int]:
    def run(batch: list[SandboxJob]) -> int:
        with tempfile.TemporaryDirectory(prefix="bench-plain-") as folder:
            paths = []
            for index, job in enumerate(batch):
                path = Path(folder, f"p{index}.py")
                path.write_text(f"{job.program}\n{job.tests}\ncheck({job.entry_point})\n")
                paths.append(path)

            def one(path: Path) -> bool:
                done = subprocess.run([python, "-I", "-S", "-B", str(path)], capture_output=True, env={}, cwd=folder)
                return done.returncode == 0

            with ThreadPoolExecutor(workers) as pool:
                return sum(pool.map(one, paths))

    return run


def sandbox_runner(client: SandboxClient) -> Callable[[list[SandboxJob]], int]:
    return lambda batch: sum(result.passed for result in client.run_many(batch))


def measure(run: Callable[[list[SandboxJob]], int], batch: list[SandboxJob]) -> dict[str, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    passed = run(batch)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if passed != len(batch):
        raise SystemExit(f"only {passed} of {len(batch)} programs passed: the benchmark is void")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": wall, "cpu_s": cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--programs", type=int, default=40, help="programs per variant and round")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds; the median is reported")
    args = parser.parse_args()

    limits = SandboxLimits(cpu_s=10, wall_s=30)
    batch = jobs(args.programs)
    runs: dict[str, list[dict[str, float]]] = {}
    identity = {}
    for workers in args.workers:
        sandbox = SandboxClient(limits, workers=workers)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            harness = SandboxClient(limits, workers=workers, mode="unsafe", python=sandbox.interpreter.executable)
        identity = {"sandbox": sandbox.identity, "python": sandbox.interpreter.executable}
        variants = {
            "plain": plain_runner(sandbox.interpreter.executable, workers),
            "harness": sandbox_runner(harness),
            "sandbox": sandbox_runner(sandbox),
        }
        for run in variants.values():  # warm-up: page cache, the bwrap probe
            run(batch[:2])
        for _ in range(args.repeat):
            for name, run in variants.items():
                runs.setdefault(f"{name}@{workers}", []).append(measure(run, batch))
    report = {
        "programs": args.programs,
        "repeat": args.repeat,
        "limits": vars(limits),
        **identity,
        "machine": describe("polars"),
        "runs": runs,
        "summary": summarize(runs, args.programs, args.workers),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "sandbox.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "sandbox.md").write_text(markdown(report))
    print(markdown(report))


def summarize(runs: dict[str, list[dict[str, float]]], programs: int, workers: list[int]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for key, measured in runs.items():
        wall = statistics.median(r["wall_s"] for r in measured)
        cpu = statistics.median(r["cpu_s"] for r in measured)
        summary[key] = {
            "wall_s": wall,
            "cpu_s": cpu,
            "runs_per_s": programs / wall,
            "ms_per_run": 1000 * wall / programs,
        }
    for count in workers:
        plain = summary[f"plain@{count}"]
        for name in ("harness", "sandbox"):
            entry = summary[f"{name}@{count}"]
            entry["wall_ratio_to_plain"] = entry["wall_s"] / plain["wall_s"]
            entry["cpu_ratio_to_plain"] = entry["cpu_s"] / plain["cpu_s"]
            entry["overhead_ms_per_run"] = entry["ms_per_run"] - plain["ms_per_run"]
    return summary


def markdown(report: dict[str, Any]) -> str:
    machine = report["machine"]
    lines = [
        "# Sandbox cost: bubblewrap and the harness against plain subprocesses",
        "",
        f"{report['programs']} small programs with HumanEval-style tests per variant and round, median of "
        f"{report['repeat']} interleaved rounds; interpreter `{report['python']}`. {machine['cpu_model']}, "
        f"{machine['nproc']} CPUs, shared: 1-minute load average {machine['load_average_1_5_15_min'][0]:.1f} at "
        f"the end. {machine['date']}.",
        "",
        f"Sandbox: `{report['sandbox']}`.",
        "",
        "| workers | variant | wall s | runs/s | ms/run | CPU s | wall vs plain | CPU vs plain | overhead ms/run |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, entry in report["summary"].items():
        name, workers = key.split("@")
        ratio = f"{entry['wall_ratio_to_plain']:.2f}x" if "wall_ratio_to_plain" in entry else "1"
        cpu_ratio = f"{entry['cpu_ratio_to_plain']:.2f}x" if "cpu_ratio_to_plain" in entry else "1"
        overhead = f"{entry['overhead_ms_per_run']:.1f}" if "overhead_ms_per_run" in entry else "-"
        lines.append(
            f"| {workers} | {name} | {entry['wall_s']:.2f} | {entry['runs_per_s']:.1f} | {entry['ms_per_run']:.1f} "
            f"| {entry['cpu_s']:.2f} | {ratio} | {cpu_ratio} | {overhead} |"
        )
    lines += [
        "",
        "- (a) plain: `python -I -S -B program.py`, no isolation. (b) harness: the sandbox's harness without "
        "bubblewrap (`mode='unsafe'`). (c) sandbox: bubblewrap + seccomp + harness, as `code_execution` runs it.",
        "- Target: the sandbox costs at most 2x plain subprocesses (wall, same workers).",
        "",
        "Re-run: `.venv/bin/python benchmarks/sandbox.py [--programs 40] [--workers 1 2] [--repeat 3]`.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
