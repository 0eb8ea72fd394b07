"""Vendi score, MMD, BERTScore-style matching, semantic dedup and k-center selection over embeddings: control flow
and the numbers' definitions with a deterministic bag-of-words embedder, and behaviour with the project's embedder
engine on the shipped all-MiniLM-L6-v2."""

import hashlib
from collections.abc import Sequence

import numpy as np
import polars as pl
import pytest

from operators.registry import get_operator
from operators.text.evaluate.embedding_bertscore import EmbeddingBertScoreEvaluator
from operators.text.evaluate.mmd_distance import MmdDistanceEvaluator, mmd_squared
from operators.text.evaluate.vendi_score import VendiScoreEvaluator, vendi
from operators.text.filter.kcenter_select import KCenterSelectFilter, k_center
from operators.text.filter.semantic_dedup import SemanticDedupFilter
from tests.support import frame


class BagOfWordsEmbedder:
    """Each word a fixed pseudo-random unit vector (from its hash), a text the normalised sum of its words'. Texts
    that share words are similar; the same text always gets the same vector. Counts the texts it embeds."""

    identity = "test:bag-of-words"
    dimensions = 64

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded += list(texts)
        rows = []
        for text in texts:
            vector = sum((self._word(w) for w in text.lower().split()), np.zeros(self.dimensions))
            rows.append(vector / (np.linalg.norm(vector) or 1.0))
        return np.array(rows, dtype=np.float32).reshape(len(texts), self.dimensions)

    def _word(self, word: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
        vector = np.random.default_rng(seed).standard_normal(self.dimensions)
        return vector / np.linalg.norm(vector)


def metrics(result) -> dict[str, float]:
    return {m: v for m, b, v in result.kept.select("metric", "bucket", "value").rows() if b is None}


def test_vendi_score_counts_effective_distinct_items():
    assert vendi(np.eye(5)) == pytest.approx(5)
    assert vendi(np.ones((4, 3)) / np.sqrt(3)) == pytest.approx(1)
    embedder = BagOfWordsEmbedder()
    copies = VendiScoreEvaluator().run(frame(["same words here"] * 6 + [None]), embedder=embedder)
    varied = VendiScoreEvaluator().run(frame([f"topic{i} words{i} here{i}" for i in range(6)]), embedder=embedder)
    assert metrics(copies) == pytest.approx(
        {"rows": 6, "skipped_rows": 1, "vendi_score": 1, "vendi_score_per_row": 1 / 6}
    )
    assert 4.5 < metrics(varied)["vendi_score"] <= 6
    assert embedder.embedded.count("same words here") == 1  # each distinct text embedded once


def test_mmd_is_zero_for_one_distribution_and_grows_with_the_shift():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((200, 8)), rng.standard_normal((200, 8))
    assert abs(mmd_squared(a, b)[0]) < 0.01
    assert mmd_squared(a, b + 1.0)[0] > 0.1
    embedder = BagOfWordsEmbedder()
    cats = frame([f"cat {i} purrs" for i in range(30)])
    dogs = frame([f"dog {i} barks" for i in range(30)])
    op = MmdDistanceEvaluator()
    same, shifted = metrics(op.run(cats, cats, embedder=embedder)), metrics(op.run(cats, dogs, embedder=embedder))
    assert same["mmd2"] < 0.02 < shifted["mmd2"] and shifted["rows"] == shifted["reference_rows"] == 30
    assert MmdDistanceEvaluator.inputs == 2


def test_bertscore_matches_words_greedily():
    df = frame(
        ["the cat sat", "the cat sat", "completely different", None],
        reference=["the cat sat", "the cat sat on the mat", "the cat sat", "x"],
    )
    scored = EmbeddingBertScoreEvaluator().run(df, embedder=BagOfWordsEmbedder()).kept
    rows = scored.select("bertscore_precision", "bertscore_recall", "bertscore_f1").rows()
    assert rows[0] == pytest.approx((1, 1, 1))
    assert rows[1][0] == pytest.approx(1) and rows[1][1] < 1  # every word of the text is in the reference
    assert rows[2][2] < rows[1][2]
    assert rows[3] == (None, None, None)


def test_semantic_dedup_links_near_parallel_rows_and_names_the_kept_one():
    df = frame(
        {
            "b": "red apples grow on trees in autumn",
            "a": "red apples grow on trees in autumn",
            "c": "red apples grow on trees in autumn time",
            "d": "quantum computers use qubits",
            "e": None,
        }
    )
    result = SemanticDedupFilter(threshold=0.9, clusters=2).run(df, embedder=BagOfWordsEmbedder())
    assert result.kept["_row_id"].to_list() == ["a", "d"]
    rejected = {
        r: (rule, detail)
        for r, rule, detail in result.rejected.select("_row_id", "_reject_rule", "_reject_detail").rows()
    }
    assert rejected == {
        "b": ("semantic_duplicate", "cluster=0;kept=a"),
        "c": ("semantic_duplicate", "cluster=0;kept=a"),
        "e": ("semantic_duplicate", None),
    }
    assert get_operator("semantic_dedup") is SemanticDedupFilter


def test_k_center_keeps_the_spread_out_rows():
    points = np.array([[1, 0], [0.99, 0.14], [0, 1], [0.14, 0.99], [-1, 0]], dtype=float)
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    selected, distance, _ = k_center(points, 3)
    assert selected.sum() == 3 and selected[4] and (selected[0] or selected[1]) and (selected[2] or selected[3])
    assert all(distance[selected] == 0) and all(distance[~selected] < 0.02)
    df = frame({f"r{i}": text for i, text in enumerate(["cat cat", "cat", "dog dog", "dog", "fish"])})
    result = KCenterSelectFilter(size=3).run(df, embedder=BagOfWordsEmbedder())
    assert result.kept.height == 3 and result.rejected.height == 2
    assert set(result.rejected["_reject_rule"]) == {"not_selected"}
    assert result.rejected["_reject_detail"].str.starts_with("nearest=").all()


@pytest.fixture(scope="module")
def minilm(tmp_path_factory):
    """The project's embedder engine on the shipped all-MiniLM-L6-v2 (local backend, its own vector cache)."""
    from resources.embedder.resource import EmbedderResource

    cache = tmp_path_factory.mktemp("embedder") / "vectors.sqlite"
    return EmbedderResource(backend="local", cache_path=str(cache)).build_client()


@pytest.mark.slow
def test_with_the_real_model_paraphrases_are_duplicates_and_topics_are_diverse(minilm):
    df = frame(
        {
            "a": "How do I reset my password?",
            "b": "How can I reset my password?",
            "c": "What is the capital of France?",
            "d": "Best recipe for chocolate cake",
        }
    )
    result = SemanticDedupFilter(threshold=0.9, clusters=1).run(df, embedder=minilm)
    assert result.kept["_row_id"].to_list() == ["a", "c", "d"]
    scores = (
        EmbeddingBertScoreEvaluator(granularity="sentence")
        .run(df.with_columns(reference=pl.lit("How do I change my password?")), embedder=minilm)
        .kept["bertscore_f1"]
    )
    assert scores[0] > 0.8 > scores[3]
    diverse = metrics(VendiScoreEvaluator().run(df, embedder=minilm))["vendi_score"]
    repeated = metrics(VendiScoreEvaluator().run(frame([df["text"][0]] * 2 + [df["text"][1]] * 2), embedder=minilm))
    assert diverse > repeated["vendi_score"] and 1 <= repeated["vendi_score"] < 1.5
