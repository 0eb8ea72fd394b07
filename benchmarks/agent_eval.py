"""Evaluate the agent on requests written for this project across the six domains (``agent_cases.py``).

Each request has a checker: operators the pipeline must contain (any one of each group), parameter values, how
many rows it must keep on its domain's small corpus and, where given, a column's values on those rows. A request
is *valid* when the agent built a module that compiled and ran on the sample (in the dry run's sandbox), *correct*
when the checker passes on it too. The checker runs the module in this process on the whole corpus, with the
engines built as the definitions build them (the SQL requests' ``school`` database is a SQLite file the benchmark
writes and names in ``DATAFLOW_SQL_DATABASES``). Requests whose operators need an engine that cannot be built here
are skipped with the reason.

Planners: ``scripted`` (a planner that answers each ask with the right plan: proves the plumbing, not a model),
``embedded`` (SmolLM2-135M through llama.cpp with grammar-constrained JSON, on the first ``--embedded N`` requests:
~10 s per call on a shared 2-core machine), ``openai`` when ``DATAFLOW_LLM_BACKEND=openai`` is configured, and
any GGUF file you give with ``--gguf PATH`` (the local backend, with the embedder's retrieval as ``dataflow agent``
has it; the planner is named after the file). Each planner's rows replace that planner's rows in the results files
(``--results`` names them); the others' stay. ``--ids`` runs only the requests named.

    PYTHONPATH=. python benchmarks/agent_eval.py [--embedded 4] [--ids m01,c01] [--only scripted,embedded]
    PYTHONPATH=. python benchmarks/agent_eval.py --only gguf --gguf model.gguf [--gguf-domains text,general] \
        [--gguf-every 4] [--ids t01,m01] --results agent_eval_gguf
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.agent_cases import CASES, SCHOOL_DB, Case, write_corpora, write_school
from benchmarks.machine import describe
from dataflow_assets.agent.api import build_pipeline
from dataflow_assets.agent.dryrun import DryRunner, default_runner
from dataflow_assets.agent.engines import AgentEngines, build_engines, close_engines, probe_engines
from dataflow_assets.agent.validate import load_module, pipeline_class
from operators.llm.protocol import LLMResult
from operators.registry import list_operators

RESULTS = Path(__file__).parent / "results"


def scripted_llm(case: Case) -> Any:
    """Answers the split with the request and each step's operator as words (a step must share a word with the
    request), each step's pick with its operator and each fill with its parameters."""

    class Scripted:
        model_id = "scripted"

        def generate(self, prompts: list[str], **options: Any) -> list[LLMResult]:
            return [self.answer(p) for p in prompts]

        def answer(self, prompt: str) -> LLMResult:
            first = prompt.splitlines()[0]
            if first == "TASK: split the request into steps":
                value: Any = {"steps": [f"{case.request}: {s['operator'].replace('_', ' ')}" for s in case.plan]}
            else:
                step = case.plan[int(first.split("step ")[1].split(":")[0]) - 1]
                value = {"operator": step["operator"]} if first.startswith("TASK: choose") else step["fill"]
            return LLMResult(text=json.dumps(value), parsed=value)

    return Scripted()


def check(case: Case, report: Any, corpus: Path, data_root: Path) -> tuple[bool, str]:
    """The checker: the operators and parameters the plan must have, the rows it keeps on the corpus and the
    values of a column on them."""
    names = [s["operator"] for s in report.plan]
    for group in case.needs:
        if not any(n in group for n in names):
            return False, f"no operator of {group}"
    alternatives = {name for group in case.needs if len(group) > 1 for name in group}
    for operator, expected in case.params.items():
        step = next((s for s in report.plan if s["operator"] == operator), None)
        if step is None and operator in alternatives:
            continue  # another operator of its group was chosen; the needs check above holds it
        if step is None or any(step["params"].get(k) != v for k, v in expected.items()):
            return False, f"{operator} lacks {expected}"
    if case.kept is None and not case.values:
        return True, ""
    pipeline = pipeline_class(load_module(Path(report.module)))(corpus)
    needed = {e for node in pipeline.trace().nodes.values() if not node.is_source for e in node.step.engines}
    engines = build_engines(sorted(needed), data_root)
    try:
        last = list(pipeline.run(engines).values())[-1].kept  # the last step (sources come first)
    finally:
        close_engines(engines)
    if case.kept is not None and last.height != case.kept:
        return False, f"kept {last.height} rows, expected {case.kept}"
    for column, expected in case.values.items():
        found = last[column].to_list() if column in last.columns else f"no column {column!r}"
        if not isinstance(found, list) or len(found) != len(expected) or not all(map(_same, found, expected)):
            return False, f"{column} is {found}, expected {expected}"
    return True, ""


def _same(found: Any, expected: Any) -> bool:
    if isinstance(expected, float) and isinstance(found, int | float):
        return math.isclose(found, expected, abs_tol=1e-6)
    return found == expected


def evaluate(
    planner: str,
    cases: list[Case],
    llm_factory: Any,
    work: Path,
    engines: AgentEngines,
    runner: DryRunner,
    embedder: Any = None,
    max_rounds: int = 2,
) -> list[dict[str, Any]]:
    corpora = write_corpora(work)
    installed = {info.domain for info in list_operators()}
    needs = {info.name: info.engines for info in list_operators()}
    rows = []
    for case in cases:
        row: dict[str, Any] = {"planner": planner, "id": case.id, "domain": case.domain, "request": case.request}
        missing = sorted({e for s in case.plan for e in needs.get(s["operator"], ()) if e not in engines.usable})
        if case.domain not in installed:
            rows.append({**row, "status": "skipped: domain not installed"})
            continue
        if missing:
            rows.append({**row, "status": f"skipped: engine {missing[0]} left out ({engines.left_out[missing[0]]})"})
            continue
        if planner == "scripted" and not case.plan:
            rows.append({**row, "status": "skipped: no script"})
            continue
        started, cpu = time.monotonic(), time.process_time()
        report = build_pipeline(
            case.request,
            input=corpora[case.corpus],
            name=f"eval_{case.id}",
            llm=llm_factory(case),
            out=work / planner,
            embedder=embedder,
            max_rounds=0 if planner == "embedded" else max_rounds,
            runner=runner,
            thread_id=f"{planner}-{case.id}-{time.time_ns()}",
            engines=engines,
        )
        seconds = round(time.monotonic() - started, 2)
        correct, why = (
            check(case, report, corpora[case.corpus], work / "delta") if report.ok else (False, report.account[:300])
        )
        rows.append(
            {
                **row,
                "status": report.status,
                "valid": report.ok,
                "correct": correct,
                "why": why,
                "plan": [s["operator"] for s in report.plan],
                "rounds": len(report.rounds),
                "llm_calls": report.llm_calls,
                "seconds": seconds,
                "cpu_seconds": round(time.process_time() - cpu, 2),
                "dry_run_s": round(report.dry_run["seconds"], 2) if report.dry_run else None,
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    return rows


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    run = [r for r in rows if "valid" in r]
    return {
        "requests": len(rows),
        "run": len(run),
        "skipped": len(rows) - len(run),
        "valid": sum(r["valid"] for r in run),
        "correct": sum(r["correct"] for r in run),
        "mean_seconds": round(sum(r["seconds"] for r in run) / max(len(run), 1), 2),
        "mean_llm_calls": round(sum(r["llm_calls"] for r in run) / max(len(run), 1), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedded", type=int, default=4, help="How many requests the embedded model plans")
    parser.add_argument("--ids", default="", help="Comma-separated request ids to run (default: all)")
    parser.add_argument("--only", default="scripted,embedded,openai,gguf")
    parser.add_argument("--gguf", type=Path, help="A GGUF model file to plan with (the local backend)")
    parser.add_argument("--gguf-domains", default="", help="The GGUF planner's domains, comma-separated (default all)")
    parser.add_argument("--gguf-requests", type=int, default=0, help="How many of them it plans (0: all)")
    parser.add_argument("--gguf-every", type=int, default=1, help="Plan every n-th of them (a spread sample)")
    parser.add_argument("--gguf-threads", type=int, default=1, help="llama.cpp threads for the GGUF model")
    parser.add_argument("--results", default="agent_eval", help="Basename of the results files")
    args = parser.parse_args()
    planners = args.only.split(",")
    saved = RESULTS / f"{args.results}.json"
    results: dict[str, Any] = json.loads(saved.read_text()) if saved.exists() else {}
    results.setdefault("planners", {})
    results.setdefault("machines", {})
    results.setdefault("models", {})
    chosen = [c for c in CASES if c.id in args.ids.split(",")] if args.ids else [c for c in CASES if c.plan]
    with tempfile.TemporaryDirectory(prefix="agent-eval-") as folder:
        work = Path(folder)
        os.environ["DATAFLOW_SQL_DATABASES"] = json.dumps(
            {SCHOOL_DB: f"sqlite:///{write_school(work / 'school.sqlite')}"}
        )
        engines = probe_engines(work / "delta")
        runner = default_runner(engines)
        print(f"engines: {engines.identities}; left out: {engines.left_out}; dry run: {runner.identity}", flush=True)
        done: dict[str, list[dict[str, Any]]] = {}
        if "scripted" in planners:
            done["scripted"] = evaluate("scripted", chosen if args.ids else CASES, scripted_llm, work, engines, runner)
        from resources.llm.resource import LLMResource

        if "embedded" in planners and (args.embedded or args.ids):
            client = LLMResource(cache_enabled=False).build_client()
            cases = chosen if args.ids else chosen[: args.embedded]
            done["embedded"] = evaluate("embedded", cases, lambda case: client, work, engines, runner)
        if "openai" in planners and os.environ.get("DATAFLOW_LLM_BACKEND") == "openai":
            client = LLMResource.from_env(work / "delta").build_client()
            done["openai"] = evaluate("openai", CASES, lambda case: client, work, engines, runner)
        if "gguf" in planners and args.gguf:
            done.update(gguf_planner(args, work, results["models"], engines, runner))
    machine = describe("langgraph", "llama_cpp_python")
    for name, rows in done.items():
        results["planners"][name] = rows
        results["machines"][name] = {**machine, "dry_run": runner.identity}
    for name in results["planners"]:  # results saved before machines were kept per planner
        results["machines"].setdefault(name, results.get("machine", {}))
    results.pop("machine", None)
    results["summary"] = {name: summary(rows) for name, rows in results["planners"].items()}
    RESULTS.mkdir(exist_ok=True)
    saved.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    (RESULTS / f"{args.results}.md").write_text(markdown(results))
    print(markdown(results))


def gguf_planner(
    args: argparse.Namespace, work: Path, models: dict[str, Any], engines: AgentEngines, runner: DryRunner
) -> dict[str, list[dict[str, Any]]]:
    """The requests of ``--gguf-domains`` planned by the ``--gguf`` model, retrieval helped by the embedder."""
    from dataflow_assets.agent.api import N_CTX, default_embedder
    from resources.llm.resource import LLMResource

    path = args.gguf.expanduser().absolute()
    planner = path.stem
    models[planner] = model_card(path)
    client = LLMResource(model=str(path), cache_enabled=False, n_threads=args.gguf_threads, n_ctx=N_CTX).build_client()
    domains = set(filter(None, args.gguf_domains.split(",")))
    ids = set(filter(None, args.ids.split(",")))
    cases = [c for c in CASES if (not domains or c.domain in domains) and (not ids or c.id in ids)]
    cases = cases[:: args.gguf_every][: args.gguf_requests or None]
    embedder = default_embedder(work)
    return {planner: evaluate(planner, cases, lambda case: client, work, engines, runner, embedder)}


def model_card(path: Path) -> dict[str, Any]:
    """What identifies a model file in the results: its name, size and the start of its SHA-256."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 24):
            digest.update(chunk)
    return {"file": path.name, "bytes": path.stat().st_size, "sha256": digest.hexdigest()[:16]}


def markdown(results: dict[str, Any]) -> str:
    lines = ["# Agent evaluation", ""]
    lines += ["Machines:", ""]
    lines += [f"- {name}: {json.dumps(machine)}" for name, machine in results["machines"].items()]
    lines += [f"- model {name}: {json.dumps(card)}" for name, card in results.get("models", {}).items()]
    lines += ["", "## Summary", ""]
    lines += [
        "| planner | requests | run | skipped | valid | correct | mean s | mean LLM calls |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, s in results["summary"].items():
        lines.append(
            f"| {name} | {s['requests']} | {s['run']} | {s['skipped']} | {s['valid']}/{s['run']} | "
            f"{s['correct']}/{s['run']} | {s['mean_seconds']} | {s['mean_llm_calls']} |"
        )
    lines += [
        "",
        "## Per request",
        "",
        "| planner | id | domain | request | status | valid | correct | plan | rounds | LLM calls | s | why |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, rows in results["planners"].items():
        for r in rows:
            lines.append(
                f"| {name} | {r['id']} | {r['domain']} | {_cell(r['request'])} | {_cell(r['status'])} | "
                f"{r.get('valid', '')} | {r.get('correct', '')} | {' -> '.join(r.get('plan', []))} | "
                f"{r.get('rounds', '')} | {r.get('llm_calls', '')} | {r.get('seconds', '')} | "
                f"{_cell(r.get('why', ''))} |"
            )
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    """Text for one table cell: on one line, its pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


if __name__ == "__main__":
    main()
