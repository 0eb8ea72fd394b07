"""The ``semantic_similarity`` operator with the real shipped model: paraphrases score high, unrelated pairs near
zero, identical texts 1, a row with a null text null, and both columns go to the embedder in one call."""

import polars as pl
import pytest

from operators import SemanticSimilarityEvaluator
from resources.embedder.resource import EmbedderResource
from tests.support import frame

QUESTIONS = [
    "How do I reset my password?",
    "How do I reset my password?",
    "What causes the tides?",
    "What causes the tides?",
    None,
]
ANSWERS = [
    "I forgot my password and need to change it.",
    "Quarterly revenue of the steel industry fell by four percent.",
    "What causes the tides?",
    None,
    "An answer without a question.",
]


@pytest.fixture(scope="module")
def embedder():
    return EmbedderResource(cache_enabled=False).build_client()


def test_paraphrases_score_high_unrelated_pairs_near_zero_and_nulls_stay_null(embedder):
    df = frame(QUESTIONS, column="question", answer=ANSWERS)
    before = embedder.usage()
    out = SemanticSimilarityEvaluator()(
        df, embedder=embedder, input_key="question", input_other_key="answer", output_key="relevance"
    )
    assert out.schema["relevance"] == pl.Float64
    paraphrase, unrelated, identical, no_answer, no_question = out["relevance"].to_list()
    assert paraphrase > 0.7 and abs(unrelated) < 0.1
    assert identical == pytest.approx(1.0, abs=1e-6)
    assert no_answer is None and no_question is None
    used = embedder.usage().since(before).metadata()
    assert used["calls"] == 1 and used["texts"] == 4  # one call; each distinct text of the scored rows once


def test_the_score_is_symmetric(embedder):
    df = frame(QUESTIONS[:3], column="question", answer=ANSWERS[:3])
    forward = SemanticSimilarityEvaluator()(df, embedder=embedder, input_key="question", input_other_key="answer")
    backward = SemanticSimilarityEvaluator()(df, embedder=embedder, input_key="answer", input_other_key="question")
    assert forward["similarity"].to_list() == pytest.approx(backward["similarity"].to_list(), abs=1e-6)
