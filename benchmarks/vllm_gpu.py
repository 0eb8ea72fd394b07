"""vLLM on a GPU: what going through the LLM client costs over calling vLLM directly, and what a fully cached
re-run costs.

One engine, the same prompts and the same sampling for every variant:

* ``direct``: one ``LLM.chat`` call on every prompt with one ``SamplingParams``, what a user would write.
* ``client``: ``LLMClient(VLLMBackend(model, engine=llm), cache=None).generate(prompts, ...)``: the batch backend
  hands every prompt to one ``LLM.chat`` call, plus the client's bookkeeping.
* ``cached``: a client with a ``ResponseCache``: one run fills the cache (timed, reported), the next is answered
  from it without touching the GPU.

``direct`` and ``client`` alternate over ``--repeat`` runs and vLLM's prefix cache is reset before each timed run,
so neither profits from the other's KV cache or from running second. The target is client/direct >= 0.9 in
completion tokens per second.

GPU machine only: vLLM has no CPU build (``pip install '.[gpu]'``). Nothing is downloaded at run time
(``HF_HUB_OFFLINE=1``): ``--model`` must be a local folder, or a model already in the Hugging Face cache.

Run: ``.venv/bin/python benchmarks/vllm_gpu.py --model /models/Qwen2.5-0.5B-Instruct [--prompts 512]
[--max-tokens 128] [--repeat 3]``; results go to ``benchmarks/results/vllm_gpu.json``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / ".work"
RESULTS = HERE / "results"
TARGET_RATIO = 0.9
SYSTEM = "You are a concise assistant. Answer in at most three sentences."
TOPICS = (
    "tidal energy", "sourdough bread", "the printing press", "honeybees", "plate tectonics", "jazz harmony",
    "compound interest", "urban trees", "lighthouses", "vaccines", "desert irrigation", "chess openings",
    "coral reefs", "railway signalling", "paper recycling", "the water cycle",
)  # fmt: skip
TASKS = (
    "Explain {topic} to a twelve-year-old.",
    "List three surprising facts about {topic}.",
    "Write a short product description that mentions {topic}.",
    "What is a common misconception about {topic}, and why is it wrong?",
    "Summarize the history of {topic} in a few sentences.",
    "Give one practical tip related to {topic} for a beginner.",
)

sys.path.insert(0, str(ROOT))  # run as a script from anywhere: the project's packages are importable


@dataclass
class Run:
    variant: str
    seconds: float
    prompts: int
    completion_tokens: int
    prompt_tokens: int
    errors: int = 0
    cached: int = 0

    @property
    def tokens_per_s(self) -> float:
        return self.completion_tokens / self.seconds if self.seconds > 0 else 0.0

    @property
    def prompts_per_s(self) -> float:
        return self.prompts / self.seconds if self.seconds > 0 else 0.0

    def record(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "seconds": round(self.seconds, 4),
            "tokens_per_s": round(self.tokens_per_s, 1),
            "prompts_per_s": round(self.prompts_per_s, 2),
        }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="Qwen/Qwen2.5-0.5B-Instruct", help="local folder or cached HF name")
    parser.add_argument("--prompts", type=int, default=512)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--temperature", type=float, default=0.0)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of direct and of client, interleaved")
    parser.add_argument("--seed", type=int, default=0, help="prompt generation and engine seed")
    parser.add_argument("--gpu-memory-utilization", type=float, default=0.85)
    parser.add_argument("--max-model-len", type=int, default=4096)
    parser.add_argument("--output", type=Path, default=RESULTS / "vllm_gpu.json")
    args = parser.parse_args()
    if args.prompts < 1 or args.repeat < 1:
        parser.error("--prompts and --repeat must be at least 1")
    return args


def make_prompts(count: int, seed: int) -> list[str]:
    """``count`` distinct-looking prompts, the same for a given seed."""
    rng = random.Random(seed)
    prompts = []
    for number in range(count):
        task, topic = rng.choice(TASKS), rng.choice(TOPICS)
        prompts.append(f"{task.format(topic=topic)} (Request {number}.)")
    return prompts


def load_engine(args: argparse.Namespace) -> Any:
    """The one ``vllm.LLM`` that every variant uses (a GPU holds one engine at a time)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import vllm

    return vllm.LLM(
        model=args.model,
        gpu_memory_utilization=args.gpu_memory_utilization,
        max_model_len=args.max_model_len,
        seed=args.seed,
    )


def reset_prefix_cache(llm: Any) -> None:
    reset = getattr(llm, "reset_prefix_cache", None)
    if reset is not None:
        reset()


def run_direct(llm: Any, prompts: list[str], sampling: dict[str, Any]) -> tuple[Run, list[str]]:
    """What a user writes without the framework: one ``LLM.chat`` call, one ``SamplingParams``."""
    from vllm import SamplingParams

    conversations = [[{"role": "system", "content": SYSTEM}, {"role": "user", "content": p}] for p in prompts]
    started = time.perf_counter()
    outputs = llm.chat(conversations, SamplingParams(**sampling), use_tqdm=False)
    seconds = time.perf_counter() - started
    run = Run(
        "direct",
        seconds,
        len(prompts),
        completion_tokens=sum(len(o.outputs[0].token_ids) for o in outputs),
        prompt_tokens=sum(len(o.prompt_token_ids or ()) for o in outputs),
    )
    return run, [o.outputs[0].text for o in outputs]


def run_client(variant: str, client: Any, prompts: list[str], sampling: dict[str, Any]) -> tuple[Run, list[str]]:
    started = time.perf_counter()
    results = client.generate(prompts, system=SYSTEM, **sampling)
    seconds = time.perf_counter() - started
    run = Run(
        variant,
        seconds,
        len(prompts),
        completion_tokens=sum(getattr(r, "completion_tokens", 0) for r in results),
        prompt_tokens=sum(getattr(r, "prompt_tokens", 0) for r in results),
        errors=sum(1 for r in results if getattr(r, "error", None)),
        cached=sum(1 for r in results if getattr(r, "cached", False)),
    )
    return run, [r.text or "" for r in results]


def make_clients(llm: Any, model: str, cache_path: Path) -> tuple[Any, Any]:
    """A client without a cache and one with a fresh cache, both over the same engine."""
    from resources.llm.backends.vllm_backend import VLLMBackend
    from resources.llm.cache import ResponseCache
    from resources.llm.client import LLMClient

    backend = VLLMBackend(model, engine=llm)
    return LLMClient(backend, cache=None), LLMClient(backend, cache=ResponseCache(cache_path))


def measure(args: argparse.Namespace) -> dict[str, Any]:
    prompts = make_prompts(args.prompts, args.seed)
    sampling = {"temperature": args.temperature, "max_tokens": args.max_tokens}
    setup_started = time.perf_counter()
    llm = load_engine(args)
    WORK.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="vllm_gpu_", dir=WORK))
    plain, caching = make_clients(llm, args.model, scratch / "cache.sqlite")
    warmup = prompts[: min(16, len(prompts))]
    run_direct(llm, warmup, sampling)
    run_client("warmup", plain, warmup, sampling)
    setup_s = time.perf_counter() - setup_started

    runs: list[Run] = []
    texts: dict[str, list[str]] = {}
    for repeat in range(args.repeat):
        order = ("direct", "client") if repeat % 2 == 0 else ("client", "direct")
        for variant in order:
            reset_prefix_cache(llm)
            run, texts[variant] = (
                run_direct(llm, prompts, sampling)
                if variant == "direct"
                else run_client("client", plain, prompts, sampling)
            )
            runs.append(run)
            print(f"  {variant:<7} run {repeat + 1}: {run.seconds:7.2f} s, {run.tokens_per_s:9.1f} tok/s", flush=True)
    reset_prefix_cache(llm)
    fill, _ = run_client("cache_fill", caching, prompts, sampling)
    cached, _ = run_client("cached", caching, prompts, sampling)
    shutil.rmtree(scratch, ignore_errors=True)
    return {
        "runs": runs,
        "fill": fill,
        "cached": cached,
        "setup_s": setup_s,
        "same_text": sum(a == b for a, b in zip(texts["direct"], texts["client"], strict=True)) / len(prompts),
        "sampling": sampling,
    }


def median_run(runs: list[Run], variant: str) -> Run:
    """The run with the median throughput of a variant."""
    mine = sorted((r for r in runs if r.variant == variant), key=lambda r: r.tokens_per_s)
    return mine[len(mine) // 2]


def environment() -> dict[str, Any]:
    versions = {}
    for package in ("vllm", "torch", "transformers"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    try:
        import torch

        gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except ImportError:
        gpu = None
    return {"python": platform.python_version(), "gpu": gpu, **versions}


def report(args: argparse.Namespace, measured: dict[str, Any]) -> dict[str, Any]:
    direct, client = median_run(measured["runs"], "direct"), median_run(measured["runs"], "client")
    fill, cached = measured["fill"], measured["cached"]
    ratio = client.tokens_per_s / direct.tokens_per_s if direct.tokens_per_s else 0.0
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "parameters": {
            "model": args.model,
            "prompts": args.prompts,
            "repeat": args.repeat,
            "seed": args.seed,
            "sampling": measured["sampling"],
            "gpu_memory_utilization": args.gpu_memory_utilization,
            "max_model_len": args.max_model_len,
            "system": SYSTEM,
        },
        "environment": environment(),
        "setup_s": round(measured["setup_s"], 2),
        "median": {"direct": direct.record(), "client": client.record()},
        "ratio_tokens_per_s": round(ratio, 3),
        "ratio_prompts_per_s": round(client.prompts_per_s / direct.prompts_per_s, 3) if direct.prompts_per_s else 0.0,
        "target_ratio": TARGET_RATIO,
        "meets_target": ratio >= TARGET_RATIO,
        "same_text_fraction": round(measured["same_text"], 3),
        "cache_fill": fill.record(),
        "cached_rerun": {**cached.record(), "speedup_vs_direct": round(direct.seconds / cached.seconds, 1)},
        "runs": [run.record() for run in measured["runs"]],
    }


def print_table(result: dict[str, Any]) -> None:
    rows = [
        ("(1) direct LLM.chat", result["median"]["direct"]),
        ("(2) LLMClient + VLLMBackend", result["median"]["client"]),
        ("    cache fill (client + cache)", result["cache_fill"]),
        ("(3) fully cached re-run", result["cached_rerun"]),
    ]
    print(f"\n{'variant':<34} {'seconds':>9} {'tok/s':>10} {'prompts/s':>10} {'errors':>7} {'cached':>7}")
    for label, row in rows:
        print(
            f"{label:<34} {row['seconds']:>9.3f} {row['tokens_per_s']:>10.1f} {row['prompts_per_s']:>10.1f} "
            f"{row['errors']:>7} {row['cached']:>7}"
        )
    verdict = "meets" if result["meets_target"] else "MISSES"
    print(
        f"\nclient/direct: {result['ratio_tokens_per_s']:.3f} in tokens/s, {result['ratio_prompts_per_s']:.3f} in "
        f"prompts/s ({verdict} the target of {TARGET_RATIO}); identical answers: {result['same_text_fraction']:.1%}; "
        f"cached re-run {result['cached_rerun']['speedup_vs_direct']}x faster than direct"
    )


def main() -> None:
    args = parse_args()
    print(f"vLLM benchmark: {args.model}, {args.prompts} prompts, {args.repeat} runs per variant", flush=True)
    result = report(args, measure(args))
    print_table(result)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written: {args.output}")


if __name__ == "__main__":
    main()
