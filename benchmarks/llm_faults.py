"""LLM steps that fail: requests sent and time to fail, against the fault-injecting OpenAI-compatible server of the
tests (real HTTP on 127.0.0.1, the real ``openai`` client), before and after the early-failure work.

Scenarios, each at ``--rows`` (60 and 600 by default), with the LLM resource's defaults (8 calls in flight,
``max_retries`` 5, backoff from ``--base-delay`` seconds doubling with full jitter, ``max_error_rate`` 0.2; after:
``circuit_breaker`` 5 and a retry budget of 10):

* ``all_fail``: every call gets HTTP 500. Reported: requests the server received, seconds until ``generate``
  raised.
* ``server_dies``: the server answers the first third of the rows, then stops listening (later connections are
  refused). Reported: calls made after it died (refused ones included: the client counts them), seconds from its
  death to the failure, and the requests a re-run against the revived server sends (the rows never answered is
  the least possible). The re-run starts once the calls abandoned by the failed step have ended: a server that
  comes back within milliseconds would otherwise get them too.
* ``cached_rerun``: ``--cached-rows`` prompts answered once, then asked again; every answer comes from the cache
  (reported: milliseconds for the re-run). The first run commits each answer as it arrives (after) or all at the
  end (before).

The ``after`` code is this checkout; ``before`` is ``--baseline`` (a commit, default the one before the change),
extracted with ``git archive`` into ``benchmarks/.work/``. Each variant runs in its own subprocess. Before, a
failing step tries every row with all its retries, so it runs with a shorter ``--baseline-delay`` to stay short:
its request counts do not depend on the delay and its times scale with it; ``after`` runs at both delays.

Run: ``.venv/bin/python benchmarks/llm_faults.py [--rows 60 600] [--baseline fa883b0]``; results go to
``benchmarks/results/llm_faults.{json,md}``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import machine

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / ".work" / "llm_faults"
RESULTS = HERE / "results"
BASELINE = "fa883b0"
"""The last commit before early failure, the circuit breaker and per-answer caching."""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[60, 600])
    parser.add_argument("--cached-rows", type=int, default=1000)
    parser.add_argument("--base-delay", type=float, default=1.0, help="first backoff delay (the resource's default)")
    parser.add_argument("--baseline", default=BASELINE, help="commit to compare with ('' for none)")
    parser.add_argument("--baseline-delay", type=float, default=0.02, help="first backoff delay of the comparison")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)  # the code to measure (a subprocess)
    parser.add_argument("--output", type=Path, default=RESULTS / "llm_faults.json", help="the .md goes beside it")
    return parser.parse_args()


# --- the worker: one variant, in its own process ---


def fault_server_module() -> ModuleType:
    """The tests' fault server, from this checkout whichever code is measured."""
    spec = importlib.util.spec_from_file_location("fault_server", ROOT / "tests/resources/llm/fault_server.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


class Worker:
    def __init__(self, code: Path, base_delay: float) -> None:
        sys.path.insert(0, str(code))
        from resources.llm.backends.openai_backend import OpenAIBackend
        from resources.llm.cache import ResponseCache
        from resources.llm.client import LLMClient, RetryPolicy

        self.backend_class, self.cache_class = OpenAIBackend, ResponseCache
        self.client_class, self.retry = LLMClient, RetryPolicy(max_retries=5, base_delay_s=base_delay)
        self.servers = fault_server_module()
        WORK.mkdir(parents=True, exist_ok=True)

    def client(self, base_url: str, cache: Any = None) -> Any:
        backend = self.backend_class(model="bench", base_url=base_url, api_key="sk-bench", timeout_s=60.0)
        return self.client_class(backend, cache=cache, max_concurrency=8, retry=self.retry, max_error_rate=0.2)

    def cache(self, name: str) -> Any:
        path = WORK / f"{name}-{time.time_ns()}.sqlite"
        return self.cache_class(path)

    def all_fail(self, rows: int) -> dict[str, Any]:
        server = self.servers.FaultServer(lambda _request: "server_error").start()
        try:
            started, cpu = time.perf_counter(), time.process_time()
            error = failure(self.client(server.base_url).generate, prompts(rows))
            return {
                "scenario": "all_fail",
                "rows": rows,
                "requests": len(server.requests),
                "seconds_to_fail": round(time.perf_counter() - started, 3),
                "cpu_s": round(time.process_time() - cpu, 3),
                "error": error,
            }
        finally:
            server.stop()

    def server_dies(self, rows: int) -> dict[str, Any]:
        answered = rows // 3
        server = self.servers.FaultServer(lambda r: "die" if r.number >= answered else None).start()
        cache = self.cache("dies")
        client = self.client(server.base_url, cache)
        started, cpu = time.perf_counter(), time.process_time()
        error = failure(client.generate, prompts(rows))
        failed_at = time.monotonic()
        server.stop()
        abandoned = [thread for thread in threading.enumerate() if thread.name.startswith("llm-")]
        for thread in abandoned:  # calls in flight when the step stopped: let them end before the server is back
            thread.join()
        died_at = next(r.arrived for r in server.requests if r.fault == "die")
        outcome = {
            "scenario": "server_dies",
            "rows": rows,
            "answered_before_death": answered,
            "calls_after_death": client.usage().calls - answered,
            "seconds_death_to_fail": round(failed_at - died_at, 3),
            "seconds_to_fail": round(time.perf_counter() - started, 3),
            "cpu_s": round(time.process_time() - cpu, 3),
            "error": error,
            "cached_after_failure": len(cache),
            "abandoned_calls": len(abandoned),
        }
        revived = self.servers.FaultServer(port=server.port).start()
        try:
            results = client.generate(prompts(rows))
            outcome["rerun_requests"] = len(revived.requests)
            outcome["rerun_all_answered"] = all(r.ok for r in results)
        finally:
            revived.stop()
        return outcome

    def cache_writes(self, rows: int) -> dict[str, Any]:
        """Storing ``rows`` answers: one commit each (after: ``put``) or one transaction (before: ``put_many``)."""
        from resources.llm.backend import Completion

        cache = self.cache("writes")
        answers = {f"key-{i}": Completion(f"answer {i} " * 20, 30, 40) for i in range(rows)}
        started, cpu = time.perf_counter(), time.process_time()
        if hasattr(cache, "put"):
            for key, answer in answers.items():
                cache.put(key, answer)
        else:
            cache.put_many(answers)
        seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu
        assert len(cache) == rows
        return {
            "scenario": "cache_writes",
            "rows": rows,
            "how": "one commit per answer" if hasattr(cache, "put") else "one transaction",
            "us_per_answer": round(1e6 * seconds / rows, 1),
            "cpu_us_per_answer": round(1e6 * cpu_s / rows, 1),
        }

    def cached_rerun(self, rows: int) -> dict[str, Any]:
        server = self.servers.FaultServer().start()
        try:
            client = self.client(server.base_url, self.cache("cached"))
            started = time.perf_counter()
            client.generate(prompts(rows))
            fill = time.perf_counter() - started
            started, cpu = time.perf_counter(), time.process_time()
            results = client.generate(prompts(rows))
            return {
                "scenario": "cached_rerun",
                "rows": rows,
                "fill_s": round(fill, 3),
                "rerun_ms": round(1000 * (time.perf_counter() - started), 2),
                "rerun_cpu_ms": round(1000 * (time.process_time() - cpu), 2),
                "all_cached": all(r.cached for r in results),
                "requests": len(server.requests),
            }
        finally:
            server.stop()


def prompts(rows: int) -> list[str]:
    return [f"Question {i}: what is {i} + {i}?" for i in range(rows)]


def failure(call: Any, *args: Any) -> str | None:
    """The first line of the error ``call`` raised (None if it did not)."""
    try:
        call(*args)
    except ValueError as error:  # the project's errors are ValueErrors
        return str(error).split("\n")[0][:300]
    return None


def run_worker(args: argparse.Namespace) -> None:
    worker = Worker(args.worker, args.base_delay)
    outcomes = []
    for rows in args.rows:
        outcomes += [worker.all_fail(rows), worker.server_dies(rows)]
        print(f"  {rows} rows done", file=sys.stderr, flush=True)
    outcomes += [worker.cached_rerun(args.cached_rows), worker.cache_writes(args.cached_rows)]
    print(json.dumps(outcomes))


# --- the driver ---


def variant(code: Path, base_delay: float, args: argparse.Namespace) -> list[dict[str, Any]]:
    command = [sys.executable, __file__, "--worker", str(code), "--base-delay", str(base_delay)]
    command += ["--rows", *map(str, args.rows), "--cached-rows", str(args.cached_rows)]
    print(f"{code.name or code}: base delay {base_delay} s", file=sys.stderr, flush=True)
    done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def baseline_tree(commit: str) -> Path:
    target = WORK / f"baseline-{commit}"
    if not target.exists():
        target.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", commit], cwd=ROOT, check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def markdown(report: dict[str, Any]) -> str:
    env, params = report["environment"], report["parameters"]
    lines = [
        "# LLM steps that fail: requests and time to fail",
        "",
        f"Fault server of the tests over real HTTP on 127.0.0.1, `openai` {env['openai']}; client settings: "
        f"8 calls in flight, `max_retries` 5, `max_error_rate` 0.2 (after: `circuit_breaker` 5, retry budget 10). "
        f"{env['cpu_model']}, {env['nproc']} CPUs, shared: 1-minute load average "
        f"{env['load_average_1_5_15_min'][0]:.1f}. {env['date']}. Before = commit `{params['baseline']}`.",
        "",
        "## Every call fails (HTTP 500)",
        "",
        "| code | first backoff s | rows | requests | seconds to fail | CPU s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, runs in report["variants"].items():
        for r in (r for r in runs["outcomes"] if r["scenario"] == "all_fail"):
            lines.append(
                f"| {name} | {runs['base_delay']} | {r['rows']} | {r['requests']} | {r['seconds_to_fail']} | "
                f"{r['cpu_s']} |"
            )
    lines += [
        "",
        "## The server dies after a third of the rows",
        "",
        "| code | first backoff s | rows | calls after death | seconds from death to failure | answers cached "
        "| re-run requests (least possible) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, runs in report["variants"].items():
        for r in (r for r in runs["outcomes"] if r["scenario"] == "server_dies"):
            lines.append(
                f"| {name} | {runs['base_delay']} | {r['rows']} | {r['calls_after_death']} | "
                f"{r['seconds_death_to_fail']} | {r['cached_after_failure']} | {r['rerun_requests']} "
                f"({r['rows'] - r['answered_before_death']}) |"
            )
    lines += ["", "Errors raised (after, first backoff 1 s):", ""]
    after = report["variants"].get("after", {"outcomes": []})["outcomes"]
    lines += [f"- {r['scenario']} {r['rows']}: `{r['error']}`" for r in after if r.get("error")]
    lines += [
        "",
        "## A fully cached re-run (answers committed one by one vs at the end)",
        "",
        "| code | rows | first run s | cached re-run ms | re-run CPU ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, runs in report["variants"].items():
        for r in (r for r in runs["outcomes"] if r["scenario"] == "cached_rerun"):
            lines.append(f"| {name} | {r['rows']} | {r['fill_s']} | {r['rerun_ms']} | {r['rerun_cpu_ms']} |")
    lines += [
        "",
        "Storing answers in the SQLite cache (WAL, `synchronous=NORMAL` after; the default FULL before):",
        "",
        "| code | answers | how | µs per answer | CPU µs per answer |",
        "|---|---:|---|---:|---:|",
    ]
    for name, runs in report["variants"].items():
        for r in (r for r in runs["outcomes"] if r["scenario"] == "cache_writes"):
            lines.append(f"| {name} | {r['rows']} | {r['how']} | {r['us_per_answer']} | {r['cpu_us_per_answer']} |")
    lines += [
        "",
        "Before, a failing step tried every row with all its retries: its request counts do not depend on the "
        "backoff delay, and its waits grow with it: at the default first delay of 1 s, a row's five backoffs take "
        "15.5 s on average, so 600 failing rows on 8 workers wait about 600 / 8 x 15.5 s = 19 minutes (not run).",
        "",
        "Re-run: `.venv/bin/python benchmarks/llm_faults.py [--rows 60 600] [--baseline COMMIT]`.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    args = parse_args()
    if args.worker is not None:
        run_worker(args)
        return
    shutil.rmtree(WORK, ignore_errors=True)
    plan = {"after": (ROOT, args.base_delay), f"after, backoff {args.baseline_delay}": (ROOT, args.baseline_delay)}
    if args.baseline:
        plan["before"] = (baseline_tree(args.baseline), args.baseline_delay)
    report: dict[str, Any] = {
        "parameters": {"rows": args.rows, "cached_rows": args.cached_rows, "baseline": args.baseline},
        "environment": machine.describe("openai"),
        "variants": {
            name: {"base_delay": delay, "outcomes": variant(code, delay, args)} for name, (code, delay) in plan.items()
        },
    }
    shutil.rmtree(WORK, ignore_errors=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    summary = markdown(report)
    args.output.with_suffix(".md").write_text(summary)
    print(summary)


if __name__ == "__main__":
    main()
