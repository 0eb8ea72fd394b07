"""Retrieval benchmark: recall@k of BM25, dense and hybrid search, embeddings per second, index build and query
throughput, on a labelled set built from real manuals.

Corpus: manuals Debian installs under ``/usr/share/doc`` (valgrind's HTML manual, the shared-mime-info and
libtasn1 PDFs), read by ``DocumentSource`` and cut by ``ChunkSentencesGenerator`` into passages of at most 80
words; ``--passages`` of them are kept (a seeded sample). Labels by the inverse cloze task (Lee, Chang and Toutanova,
ACL 2019): for ``--queries`` passages of at least three sentences, one sentence of 8 to 40 words (not the first)
becomes the query and is *removed* from the indexed passage, so the passage can only be found through its context,
not by matching the sentence itself. Relevant: that one passage.

Measured: embeddings per second (wall and CPU) while the index embeds the passages with all-MiniLM-L6-v2; the
index build (BM25 alone, and in total); for each mode recall@1/5/10, MRR@10 and queries per second (dense and
hybrid include embedding the queries); and dense search through the faiss HNSW graph against exact search.

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/retrieval.py [--passages 2000] [--queries 300]``; results go to
``benchmarks/results/retrieval.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import machine

from operators.knowledge.chunking import sentences
from operators.knowledge.generate.chunk_sentences import ChunkSentencesGenerator
from operators.sources.documents import DocumentSource
from resources.retriever.hybrid import tokenize
from resources.retriever.resource import RetrieverResource

RESULTS = Path(__file__).parent / "results"
MANUALS = [
    "/usr/share/doc/valgrind/html",
    "/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf",  # not its HTML twin: duplicate passages blur labels
    "/usr/share/doc/libtasn1-doc/libtasn1.pdf",
]


def embedder():
    """all-MiniLM-L6-v2 through the embedder engine, without its cache (every passage is really embedded)."""
    from resources.embedder.resource import EmbedderResource

    return EmbedderResource(cache_enabled=False).build_client()


class Timed:
    """Wraps an embedder: counts texts and the wall and CPU seconds spent embedding; ``memo`` replays vectors."""

    def __init__(self, inner, memo: bool = False) -> None:
        self.inner, self.identity, self.memo = inner, inner.identity, {} if memo else None
        self.texts, self.wall, self.cpu = 0, 0.0, 0.0

    def embed(self, texts):
        if self.memo is not None and all(t in self.memo for t in texts):
            return np.stack([self.memo[t] for t in texts])
        wall, cpu = time.perf_counter(), time.process_time()
        vectors = self.inner.embed(texts)
        self.wall += time.perf_counter() - wall
        self.cpu += time.process_time() - cpu
        self.texts += len(texts)
        if self.memo is not None:
            self.memo.update(zip(texts, vectors, strict=True))
        return vectors


def passages(limit: int, seed: int) -> list[str]:
    import shutil

    folders = [Path(m) for m in MANUALS if Path(m).exists()]
    if not folders:
        raise SystemExit(
            "no Debian manuals under /usr/share/doc: apt-get install valgrind shared-mime-info libtasn1-doc"
        )
    with tempfile.TemporaryDirectory() as tmp:
        for number, folder in enumerate(folders):
            found = folder.rglob("*") if folder.is_dir() else [folder]
            for file in sorted(p for p in found if p.suffix in (".html", ".htm", ".pdf") and p.is_file()):
                shutil.copy(file, Path(tmp) / f"{number}-{file.parent.name}-{file.name}")
        source = DocumentSource(path=tmp)
        rows = source.read(source.files(), partition_key=None).rows
    chunks = ChunkSentencesGenerator(max_words=80, overlap_sentences=0).run(rows).kept["chunk"].to_list()
    unique = sorted({c for c in chunks if len(c.split()) >= 20})
    return random.Random(seed).sample(unique, min(limit, len(unique)))


def labelled(texts: list[str], queries: int, seed: int) -> tuple[list[str], list[tuple[str, int]]]:
    """Passages with one sentence removed for ``queries`` of them, and (query sentence, passage index) pairs."""
    rng = random.Random(seed)
    texts, pairs = list(texts), []
    for index in rng.sample(range(len(texts)), len(texts)):
        spans = sentences(texts[index])
        candidates = [s for s in spans[1:] if 8 <= len(texts[index][s[0] : s[1]].split()) <= 40]
        if len(spans) < 3 or not candidates or not re.search(r"[a-z]{4}", texts[index]):
            continue
        start, end = rng.choice(candidates)
        pairs.append((texts[index][start:end], index))
        texts[index] = (texts[index][:start] + texts[index][end:]).strip()
        if len(pairs) == queries:
            break
    return texts, pairs


def evaluate(store: RetrieverResource, location: str, encoder, pairs: list[tuple[str, int]], ids: list[str]) -> dict:
    retriever = store.open(location, embedder=encoder)
    started, cpu = time.perf_counter(), time.process_time()
    hits = retriever.search([q for q, _ in pairs], k=10)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    ranks = []
    for (_, gold), found in zip(pairs, hits, strict=True):
        ranked = [h.row_id for h in found]
        ranks.append(ranked.index(ids[gold]) + 1 if ids[gold] in ranked else None)
    recall = {k: sum(r is not None and r <= k for r in ranks) / len(ranks) for k in (1, 5, 10)}
    return {
        "recall@1": round(recall[1], 3),
        "recall@5": round(recall[5], 3),
        "recall@10": round(recall[10], 3),
        "mrr@10": round(sum(1 / r for r in ranks if r) / len(ranks), 3),
        "queries_per_s": round(len(pairs) / wall, 1),
        "queries_per_cpu_s": round(len(pairs) / cpu, 1),
    }


def main(passage_count: int, query_count: int, seed: int) -> dict:
    texts, pairs = labelled(passages(passage_count, seed), query_count, seed)
    ids = [f"p{i}" for i in range(len(texts))]
    model = embedder()
    timed, querier = Timed(model, memo=True), Timed(model)  # passages replayed for the HNSW build; queries never
    with tempfile.TemporaryDirectory() as tmp:
        bm25_started = time.perf_counter()
        import bm25s

        bm25s.BM25().index(tokenize(texts), show_progress=False)
        bm25_s = time.perf_counter() - bm25_started
        store = RetrieverResource(index_root=tmp)
        started = time.perf_counter()
        info = store.build(ids, texts, embedder=timed)
        build_s = time.perf_counter() - started
        embed_wall, embed_cpu, embedded = timed.wall, timed.cpu, timed.texts
        modes = {}
        for mode in ("bm25", "dense", "hybrid"):
            modes[mode] = evaluate(RetrieverResource(index_root=tmp, mode=mode), info.location, querier, pairs, ids)
        graph_store = RetrieverResource(index_root=tmp, mode="dense", exact_max=1)
        graph = graph_store.build(ids, texts, embedder=timed)
        modes["dense (faiss HNSW)"] = evaluate(graph_store, graph.location, querier, pairs, ids)
    result = {
        "passages": len(texts),
        "queries": len(pairs),
        "seed": seed,
        "embedder": timed.identity,
        "embeddings_per_s": round(embedded / embed_wall, 1),
        "embeddings_per_cpu_s": round(embedded / embed_cpu, 1),
        "bm25_index_s": round(bm25_s, 3),
        "bm25_passages_per_s": round(len(texts) / bm25_s, 1),
        "index_build_s": round(build_s, 2),
        "index_passages_per_s": round(len(texts) / build_s, 1),
        "modes": modes,
        "machine": machine.describe("bm25s", "faiss-cpu", "sentence-transformers"),
    }
    write(result)
    return result


def write(result: dict) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "retrieval.json").write_text(json.dumps(result, indent=2) + "\n")
    described = result["machine"]
    lines = [
        "# Retrieval benchmark",
        "",
        f"{result['passages']:,} passages (at most 80 words, from Debian's valgrind HTML, shared-mime-info and "
        f"libtasn1 manuals), {result['queries']} inverse-cloze queries (a sentence removed from its passage), "
        f"embedder {result['embedder']}.",
        "",
        "| search | recall@1 | recall@5 | recall@10 | MRR@10 | queries/s | queries/CPU-s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for mode, row in result["modes"].items():
        lines.append(
            f"| {mode} | {row['recall@1']:.3f} | {row['recall@5']:.3f} | **{row['recall@10']:.3f}** | "
            f"{row['mrr@10']:.3f} | {row['queries_per_s']:,} | {row['queries_per_cpu_s']:,} |"
        )
    lines += [
        "",
        f"- embeddings: **{result['embeddings_per_s']:,} passages/s** wall, {result['embeddings_per_cpu_s']:,} per "
        "CPU-second (all-MiniLM-L6-v2, batch 64)",
        f"- index build (BM25 + embeddings + files): {result['index_build_s']} s, "
        f"{result['index_passages_per_s']:,} passages/s; BM25 alone {result['bm25_index_s']} s "
        f"({result['bm25_passages_per_s']:,} passages/s)",
        "- dense and hybrid queries/s include embedding the queries; hybrid fuses the top 100 of each ranking by "
        "reciprocal rank (k = 60)",
        "",
        f"bm25s {described['bm25s']}, faiss-cpu {described['faiss-cpu']}, sentence-transformers "
        f"{described['sentence-transformers']}; {described['nproc']} CPUs ({described['cpu_model']}), load "
        f"{described['load_average_1_5_15_min'][0]:.1f}; {described['date']}.",
        "",
        "Re-run: `PYTHONPATH=. .venv/bin/python benchmarks/retrieval.py --passages "
        f"{result['passages']} --queries {result['queries']}`",
    ]
    (RESULTS / "retrieval.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--passages", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    arguments = parser.parse_args()
    printed = main(arguments.passages, arguments.queries, arguments.seed)
    print(json.dumps({k: v for k, v in printed.items() if k != "machine"}, indent=2))
