from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import polars as pl
from pydantic import Field

from operators.base import Filter, Read, Rule
from operators.errors import DataflowError
from operators.registry import register
from operators.sources.parquet_file import load_delta, load_parquet

_TOKEN = re.compile(r"\\[a-z]+|[a-z0-9]+")
_MATCH = "__math_contamination"

READERS = {
    ".parquet": load_parquet,
    ".csv": pl.read_csv,
    ".tsv": lambda path: pl.read_csv(path, separator="\t"),
    ".jsonl": pl.read_ndjson,
    ".ndjson": pl.read_ndjson,
    ".json": pl.read_json,
}


def tokens(text: str | None) -> list[str]:
    """Lower-cased words, numbers and LaTeX commands: punctuation and spacing do not hide a copied problem."""
    return _TOKEN.findall((text or "").lower())


def read_table(path: str) -> pl.DataFrame:
    """A table from a Parquet, CSV/TSV, JSONL or JSON file, or a Delta table folder."""
    file = Path(path)
    if file.is_dir() and (file / "_delta_log").is_dir():
        return load_delta(file)
    reader = READERS.get(file.suffix.lower())
    if not file.is_file() or reader is None:
        raise DataflowError(
            f"math_contamination: benchmark_path={path!r} is not a readable table",
            hint=f"give a Delta table folder or a file ending in {', '.join(READERS)}",
        )
    return reader(file)


@dataclass(frozen=True)
class BenchmarkIndex:
    """Each benchmark item's n-grams (an item shorter than n: its whole token sequence), by n-gram."""

    n: int
    items: list[tuple[str, str]]
    """(id, text) of each item."""
    grams: dict[tuple[str, ...], list[int]]
    short_lengths: frozenset[int]


@lru_cache(maxsize=8)
def _index(path: str, stamp: tuple[int, int], column: str, id_column: str | None, n: int, min_tokens: int):
    table = read_table(path)
    missing = [c for c in (column, id_column) if c is not None and c not in table.columns]
    if missing:
        raise DataflowError(
            f"math_contamination: the benchmark {path!r} has no column {missing[0]!r}",
            hint=f"its columns are {', '.join(table.columns)}",
        )
    texts = table[column].cast(pl.String).to_list()
    ids = table[id_column].cast(pl.String).to_list() if id_column else [str(i) for i in range(len(texts))]
    grams: dict[tuple[str, ...], list[int]] = {}
    short: set[int] = set()
    for position, text in enumerate(texts):
        words = tokens(text)
        if len(words) < min_tokens:
            continue
        size = min(n, len(words))
        short.update([size] if size < n else [])
        for gram in {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}:
            grams.setdefault(gram, []).append(position)
    return BenchmarkIndex(n, list(zip(ids, [t or "" for t in texts], strict=True)), grams, frozenset(short))


@register("math_contamination")
class MathContaminationFilter(Filter):
    """Reject questions that share word n-grams with a benchmark the user names (a file or Delta table).

    Training on a benchmark's problems inflates its scores; GPT-3 (Brown et al. 2020) and most reports since remove
    training items sharing a 13-gram with a test item. Text is compared as lower-cased words, numbers and LaTeX
    commands (punctuation and spacing ignored). A benchmark item shorter than ``n`` tokens (but at least
    ``min_tokens``) is matched whole. A question is rejected as ``math_contaminated`` when some benchmark item shares
    at least ``min_shared`` of its n-grams; the score is that count, and the detail names the item (id and text),
    the share of the question's n-grams found in it and one shared n-gram. The benchmark is read with polars
    (Parquet, CSV/TSV, JSONL, JSON or a Delta folder) once per file version and indexed in memory.
    """

    key_docs = {"input_question_key": "the question compared with the benchmark"}
    references = (
        "Brown et al. 2020, Language Models are Few-Shot Learners, arXiv:2005.14165 (13-gram decontamination)",
        "Liang et al. 2025, DataFlow, arXiv:2512.16676 (reasoning pipeline: benchmark decontamination)",
    )
    example = "MathContaminationFilter(benchmark_path='data/math500.jsonl', benchmark_column='problem')"

    benchmark_path: str = Field(description="The benchmark: a .parquet/.csv/.tsv/.jsonl/.json file or a Delta folder")
    benchmark_column: str = Field("question", description="The benchmark's column holding the problem text")
    benchmark_id_column: str | None = Field(None, description="The benchmark's id column (row number if unset)")
    n: int = Field(13, ge=3, le=50, description="Tokens per n-gram (13 as in GPT-3's decontamination)")
    min_shared: int = Field(1, ge=1, description="Shared n-grams with one item that make a question contaminated")
    min_tokens: int = Field(8, ge=1, description="Benchmark items with fewer tokens are ignored (too generic)")

    def index(self) -> BenchmarkIndex:
        path = Path(self.benchmark_path)
        target = path / "_delta_log" if path.is_dir() else path
        if not target.exists():
            raise DataflowError(
                f"math_contamination: benchmark_path={self.benchmark_path!r} does not exist",
                hint="point it at the benchmark file or Delta folder to decontaminate against",
            )
        stat = target.stat()
        return _index(
            str(path),
            (stat.st_mtime_ns, stat.st_size),
            self.benchmark_column,
            self.benchmark_id_column,
            self.n,
            self.min_tokens,
        )

    def prepare(self, df: pl.DataFrame, keys: dict[str, str]) -> pl.DataFrame:
        index = self.index()
        matches = [self._best_match(tokens(text), index) for text in df[keys["input_question_key"]].to_list()]
        return df.with_columns(pl.Series(_MATCH, matches, dtype=pl.Struct({"shared": pl.Int64, "detail": pl.String})))

    def _best_match(self, words: list[str], index: BenchmarkIndex) -> dict:
        counts: dict[int, int] = {}
        example: dict[int, tuple[str, ...]] = {}
        total = 0
        for size in sorted({index.n, *index.short_lengths}):
            grams = {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}
            total += len(grams) if size == index.n else 0
            for gram in grams:
                for item in index.grams.get(gram, ()):
                    counts[item] = counts.get(item, 0) + 1
                    example.setdefault(item, gram)
        if not counts:
            return {"shared": 0, "detail": None}
        item = max(counts, key=lambda i: (counts[i], -i))
        item_id, text = index.items[item]
        detail = {
            "benchmark_item": item_id,
            "benchmark_text": text[:300],
            "shared_ngrams": counts[item],
            "overlap": round(counts[item] / total, 4) if total else 1.0,
            "example": " ".join(example[item]),
        }
        return {"shared": counts[item], "detail": json.dumps(detail, ensure_ascii=False)}

    def rules(self, *, input_question_key: Read = "question") -> dict[str, Rule]:
        shared = pl.col(_MATCH).struct.field("shared").alias("benchmark_shared_ngrams")
        return {
            "math_contaminated": Rule(
                score=shared, keep=shared < self.min_shared, detail=pl.col(_MATCH).struct.field("detail")
            )
        }
