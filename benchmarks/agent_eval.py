"""Evaluate the agent on 27 requests written for this project across the six domains.

Each request has a checker: operators the pipeline must contain (any one of each group), parameter values, and
how many rows it must keep when run on a small corpus (nine documents written for this benchmark: markup, URLs,
e-mail, emoji, a duplicate, German, placeholder text, a copyright notice, a one-liner). A request is *valid* when
the agent built a module that compiled and ran on the sample, *correct* when the checker passes on it too.
Requests of a domain whose operators are not installed are skipped (checked against the registry).

Planners: ``scripted`` (a planner that answers each ask with the right plan: proves the plumbing, not a model),
``embedded`` (SmolLM2-135M through llama.cpp with grammar-constrained JSON, on the first ``--embedded N`` requests:
~10 s per call on a shared 2-core machine), ``openai`` when ``DATAFLOW_LLM_BACKEND=openai`` is configured, and
any GGUF file you give with ``--gguf PATH`` (the local backend, with the embedder's retrieval as ``dataflow agent``
has it; the planner is named after the file; ``--results`` names the results files so that runs do not overwrite
each other).

    PYTHONPATH=. python benchmarks/agent_eval.py [--embedded 4] [--only scripted,embedded]
    PYTHONPATH=. python benchmarks/agent_eval.py --only gguf --gguf model.gguf [--gguf-domains text,general] \
        --results agent_eval_gguf
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.machine import describe
from dataflow_assets.agent.api import build_pipeline
from dataflow_assets.agent.validate import load_module, pipeline_class
from operators.llm.protocol import LLMResult
from operators.registry import list_operators

RESULTS = Path(__file__).parent / "results"
CORPUS = [
    "<p>Rivers shape the land they cross and carry silt toward the sea over thousands of years.</p>",
    "Short one.",
    "The printing press lowered the cost of books so far that reading spread among merchants and craftsmen.",
    "The printing press lowered the cost of books so far that reading spread among merchants and craftsmen.",
    "Contact me at jane.doe@example.com or visit https://example.org for the full schedule of the meeting.",
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore.",
    "Der Fluss formt das Land, das er durchquert, und trägt Schlamm über tausende Jahre bis zum Meer.",
    "Great news 😀🎉 the bridge across the river opens to walkers and cyclists next Saturday morning!",
    "Copyright 2024 Example Corp. All rights reserved. This memo is confidential and must not be shared.",
]


@dataclass(frozen=True)
class Case:
    id: str
    domain: str
    request: str
    plan: list[dict[str, Any]] = field(default_factory=list)
    """The right plan: ``{"operator", "fill"}`` per step (what the scripted planner answers)."""
    needs: list[list[str]] = field(default_factory=list)
    """Operator groups: the pipeline must contain one operator of each group."""
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    kept: int | None = None


def step(operator: str, **fill: Any) -> dict[str, Any]:
    return {"operator": operator, "fill": {"input_key": "text", **fill} if operator not in NO_INPUT else fill}


NO_INPUT = {"exact_dedup", "minhash_dedup", "language"}

CASES = [
    Case(
        "t01",
        "text",
        "Drop texts with fewer than 5 words",
        [step("word_count", min_words=5)],
        [["word_count", "dataflow_word_number"]],
        kept=8,
    ),
    Case(
        "t02",
        "text",
        "Remove exact duplicate documents",
        [step("exact_dedup")],
        [["exact_dedup", "minhash_dedup"]],
        kept=8,
    ),
    Case(
        "t03",
        "text",
        "Strip HTML tags from the text",
        [step("remove_html", output_key="text")],
        [["remove_html"]],
        kept=9,
    ),
    Case(
        "t04",
        "text",
        "Remove web addresses (URLs) from the documents",
        [step("remove_urls", output_key="text")],
        [["remove_urls"]],
        kept=9,
    ),
    Case(
        "t05",
        "text",
        "Redact personal data such as e-mail addresses",
        [step("redact_pii", output_key="text")],
        [["redact_pii"]],
        kept=9,
    ),
    Case(
        "t06",
        "text",
        "Remove emoji from the posts",
        [step("remove_emoji", output_key="text")],
        [["remove_emoji"]],
        kept=9,
    ),
    Case(
        "t07",
        "text",
        "Drop placeholder lorem ipsum text",
        [step("dataflow_lorem_ipsum")],
        [["dataflow_lorem_ipsum"]],
        kept=8,
    ),
    Case(
        "t08",
        "text",
        "Normalize whitespace and lower-case the text",
        [step("normalize_text", lowercase=True, output_key="text")],
        [["normalize_text"]],
        {"normalize_text": {"lowercase": True}},
        kept=9,
    ),
    Case(
        "t09", "text", "Split each document into paragraphs", [step("split_paragraphs")], [["split_paragraphs"]], kept=9
    ),
    Case(
        "t10",
        "text",
        "Remove near-duplicate documents with MinHash",
        [step("minhash_dedup")],
        [["minhash_dedup"]],
        kept=8,
    ),
    Case(
        "t11",
        "text",
        "Compute text statistics: words and characters per document",
        [step("text_stats")],
        [["text_stats"]],
        kept=9,
    ),
    Case(
        "t12",
        "text",
        "Clean web text: strip HTML, remove URLs, then drop texts under 8 words",
        [
            step("remove_html", output_key="text"),
            step("remove_urls", output_key="text"),
            step("word_count", min_words=8),
        ],
        [["remove_html"], ["remove_urls"], ["word_count", "dataflow_word_number"]],
        {"word_count": {"min_words": 8}},
        kept=8,
    ),
    Case(
        "t13",
        "text",
        "Reject documents that carry a copyright or confidentiality notice",
        [step("dataflow_watermark")],
        [["dataflow_watermark"]],
        kept=8,
    ),
    Case(
        "t14",
        "text",
        "Keep only English documents",
        [step("language_id"), step("language", languages=["en"])],
        [["language_id"], ["language"]],
        {"language": {"languages": ["en"]}},
    ),
    Case(
        "t15",
        "text",
        "Keep texts with at least 60 characters",
        [step("dataflow_char_number", threshold=60)],
        [["dataflow_char_number", "row_filter"]],
        kept=8,
    ),
    Case(
        "t16",
        "general",
        "Keep the rows whose text is longer than 60 characters, using a SQL condition",
        [{"operator": "row_filter", "fill": {"condition": "length(text) > 60"}}],
        [["row_filter"]],
        kept=8,
    ),
    Case(
        "t17",
        "general",
        "Deduplicate exactly and then drop documents with fewer than 10 words",
        [step("exact_dedup"), step("word_count", min_words=10)],
        [["exact_dedup"], ["word_count", "dataflow_word_number"]],
        {"word_count": {"min_words": 10}},
    ),
    Case(
        "t18",
        "text",
        "Apply the C4 line cleaning to web pages",
        [step("c4_line_cleaner", output_key="text")],
        [["c4_line_cleaner"]],
    ),
    Case(
        "m01", "math", "Verify each answer against the reference solution and keep the correct ones", needs=[["@math"]]
    ),
    Case("m02", "math", "Drop math problems whose final answer cannot be parsed", needs=[["@math"]]),
    Case("m03", "math", "Generate step-by-step solutions for the math problems", needs=[["@math"]]),
    Case("c01", "code", "Run each Python snippet's tests in a sandbox and keep those that pass", needs=[["@code"]]),
    Case("c02", "code", "Drop code files that do not parse", needs=[["@code"]]),
    Case("s01", "sql", "Keep text-to-SQL pairs whose query executes on the database", needs=[["@sql"]]),
    Case("s02", "sql", "Reject SQL queries that fail to parse", needs=[["@sql"]]),
    Case("r01", "rag", "Generate question-answer pairs grounded in each passage", needs=[["@rag"]]),
    Case("k01", "knowledge", "Extract entities and relations from documents as triples", needs=[["@knowledge"]]),
]


def scripted_llm(case: Case) -> Any:
    """Answers the split with the case's operators as words, each step's pick with its operator and each fill with
    its parameters."""

    class Scripted:
        model_id = "scripted"

        def generate(self, prompts: list[str], **options: Any) -> list[LLMResult]:
            return [self.answer(p) for p in prompts]

        def answer(self, prompt: str) -> LLMResult:
            first = prompt.splitlines()[0]
            if first == "TASK: split the request into steps":
                value: Any = {"steps": [s["operator"].replace("_", " ") for s in case.plan]}
            else:
                step = case.plan[int(first.split("step ")[1].split(":")[0]) - 1]
                value = {"operator": step["operator"]} if first.startswith("TASK: choose") else step["fill"]
            return LLMResult(text=json.dumps(value), parsed=value)

    return Scripted()


def check(case: Case, report: Any, corpus: Path) -> tuple[bool, str]:
    """The checker: the operators and parameters the plan must have, and the rows it keeps on the corpus."""
    names = [s["operator"] for s in report.plan]
    domains = {info.name: info.domain for info in list_operators()}
    for group in case.needs:
        if not any(n in group or f"@{domains.get(n)}" in group for n in names):
            return False, f"no operator of {group}"
    for operator, expected in case.params.items():
        step = next((s for s in report.plan if s["operator"] == operator), None)
        if step is None or any(step["params"].get(k) != v for k, v in expected.items()):
            return False, f"{operator} lacks {expected}"
    if case.kept is not None:
        results = pipeline_class(load_module(Path(report.module)))(corpus).run()
        kept = list(results.values())[-1].kept.height  # the last step (sources come first)
        if kept != case.kept:
            return False, f"kept {kept} rows, expected {case.kept}"
    return True, ""


def evaluate(
    planner: str, cases: list[Case], llm_factory: Any, work: Path, embedder: Any = None, max_rounds: int = 2
) -> list[dict[str, Any]]:
    corpus = work / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    (corpus / "docs.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in CORPUS))
    installed = {info.domain for info in list_operators()}
    rows = []
    for case in cases:
        row: dict[str, Any] = {"planner": planner, "id": case.id, "domain": case.domain, "request": case.request}
        if case.domain not in installed:
            rows.append({**row, "status": "skipped: domain not installed"})
            continue
        if planner == "scripted" and not case.plan:
            rows.append({**row, "status": "skipped: no script"})
            continue
        started, cpu = time.monotonic(), time.process_time()
        report = build_pipeline(
            case.request,
            input=corpus,
            name=f"eval_{case.id}",
            llm=llm_factory(case),
            out=work / planner,
            embedder=embedder,
            max_rounds=0 if planner == "embedded" else max_rounds,
            thread_id=f"{planner}-{case.id}-{time.time_ns()}",
        )
        correct, why = check(case, report, corpus) if report.ok else (False, report.account[:200])
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
                "seconds": round(time.monotonic() - started, 2),
                "cpu_seconds": round(time.process_time() - cpu, 2),
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
    parser.add_argument("--only", default="scripted,embedded,openai,gguf")
    parser.add_argument("--gguf", type=Path, help="A GGUF model file to plan with (the local backend)")
    parser.add_argument("--gguf-domains", default="", help="The GGUF planner's domains, comma-separated (default all)")
    parser.add_argument("--gguf-requests", type=int, default=0, help="How many of them it plans (0: all)")
    parser.add_argument("--gguf-threads", type=int, default=1, help="llama.cpp threads for the GGUF model")
    parser.add_argument("--results", default="agent_eval", help="Basename of the results files")
    args = parser.parse_args()
    planners = args.only.split(",")
    results: dict[str, Any] = {"machine": describe("langgraph", "llama_cpp_python"), "models": {}, "planners": {}}
    with tempfile.TemporaryDirectory(prefix="agent-eval-") as folder:
        work = Path(folder)
        if "scripted" in planners:
            results["planners"]["scripted"] = evaluate("scripted", CASES, scripted_llm, work)
        from resources.llm.resource import LLMResource

        if "embedded" in planners and args.embedded:
            client = LLMResource(cache_enabled=False).build_client()
            text_cases = [c for c in CASES if c.plan][: args.embedded]
            results["planners"]["embedded"] = evaluate("embedded", text_cases, lambda case: client, work)
        if "openai" in planners and os.environ.get("DATAFLOW_LLM_BACKEND") == "openai":
            client = LLMResource.from_env(work / "delta").build_client()
            results["planners"]["openai"] = evaluate("openai", CASES, lambda case: client, work)
        if "gguf" in planners and args.gguf:
            results["planners"].update(gguf_planner(args, work, results["models"]))
    results["summary"] = {name: summary(rows) for name, rows in results["planners"].items()}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.results}.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    (RESULTS / f"{args.results}.md").write_text(markdown(results))
    print(markdown(results))


def gguf_planner(args: argparse.Namespace, work: Path, models: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The requests of ``--gguf-domains`` planned by the ``--gguf`` model, retrieval helped by the embedder."""
    from dataflow_assets.agent.api import N_CTX, default_embedder
    from resources.llm.resource import LLMResource

    path = args.gguf.expanduser().absolute()
    planner = path.stem
    models[planner] = model_card(path)
    client = LLMResource(model=str(path), cache_enabled=False, n_threads=args.gguf_threads, n_ctx=N_CTX).build_client()
    domains = set(filter(None, args.gguf_domains.split(",")))
    cases = [c for c in CASES if not domains or c.domain in domains]
    cases = cases[: args.gguf_requests or None]
    return {planner: evaluate(planner, cases, lambda case: client, work, default_embedder(work))}


def model_card(path: Path) -> dict[str, Any]:
    """What identifies a model file in the results: its name, size and the start of its SHA-256."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 24):
            digest.update(chunk)
    return {"file": path.name, "bytes": path.stat().st_size, "sha256": digest.hexdigest()[:16]}


def markdown(results: dict[str, Any]) -> str:
    lines = ["# Agent evaluation", "", f"Machine: {json.dumps(results['machine'])}", ""]
    lines += [f"Model {name}: {json.dumps(card)}" for name, card in results.get("models", {}).items()]
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
                f"| {name} | {r['id']} | {r['domain']} | {r['request']} | {r['status']} | {r.get('valid', '')} | "
                f"{r.get('correct', '')} | {' -> '.join(r.get('plan', []))} | {r.get('rounds', '')} | "
                f"{r.get('llm_calls', '')} | {r.get('seconds', '')} | {r.get('why', '')} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
