"""Perplexity and IFD with the embedded model (SmolLM2-135M through llama.cpp): what a user relies on, asserted
only where the margin is wide (measured: shuffled words 14-256 times the perplexity of the sentence; IFD after
the response's own question 0.01-0.20, after another question 4-9 times that)."""

from __future__ import annotations

import random

import polars as pl
import pytest

from operators.text.evaluate.ifd_score import IfdScoreEvaluator
from operators.text.evaluate.perplexity import PerplexityEvaluator
from resources.llm.backends.llama_cpp_backend import LlamaCppBackend
from resources.llm.client import LLMClient
from tests.support import frame

pytestmark = pytest.mark.llm

SENTENCES = [
    "The cat sat on the mat and looked out of the window.",
    "Water boils at one hundred degrees Celsius at sea level.",
    "Rivers carry silt to the sea and build deltas where they slow down.",
    "The printing press lowered the cost of books.",
]
PAIRS = [
    ("What is the capital of France?", "The capital of France is Paris."),
    ("Name three primary colors.", "The three primary colors are red, blue and yellow."),
    ("Why does ice float on water?", "Ice floats because it is less dense than liquid water."),
    ("How many legs does a spider have?", "A spider has eight legs."),
]


@pytest.fixture(scope="module")
def llm() -> LLMClient:
    return LLMClient(LlamaCppBackend())


def shuffled(sentence: str) -> str:
    words = sentence.rstrip(".").split()
    random.Random(0).shuffle(words)
    return " ".join(words) + "."


def test_a_fluent_sentence_has_a_lower_perplexity_than_its_words_shuffled(llm):
    texts = SENTENCES + [shuffled(s) for s in SENTENCES]
    scored = PerplexityEvaluator().run(frame(texts), llm=llm).kept["perplexity"].to_list()
    fluent, scrambled = scored[: len(SENTENCES)], scored[len(SENTENCES) :]
    assert all(f < s for f, s in zip(fluent, scrambled, strict=True)), (fluent, scrambled)


def test_ifd_is_below_one_after_the_responses_own_instruction_and_higher_after_another(llm):
    unrelated = [PAIRS[(i + 2) % len(PAIRS)][0] for i in range(len(PAIRS))]
    df = frame(
        [f"r{i}" for i in range(2 * len(PAIRS))],
        instruction=[q for q, _ in PAIRS] + unrelated,
        response=[a for _, a in PAIRS] * 2,
    )
    result = IfdScoreEvaluator().run(df, llm=llm)
    assert result.rejected.height == 0
    ifd = result.kept["ifd_score"].to_list()
    relevant, other = ifd[: len(PAIRS)], ifd[len(PAIRS) :]
    assert all(score < 1 for score in relevant), relevant
    assert all(r < o for r, o in zip(relevant, other, strict=True)), (relevant, other)
    alone = result.kept["response_ppl"].to_list()
    assert alone[: len(PAIRS)] == alone[len(PAIRS) :]  # the response alone does not depend on the instruction


def test_each_row_is_scored_by_itself_whatever_the_batch(llm):
    """A text's perplexity is the same alone and among others (no state carried between rows)."""
    together = PerplexityEvaluator().run(frame(SENTENCES), llm=llm).kept["perplexity"].to_list()
    single = PerplexityEvaluator().run(frame(SENTENCES[2:3]), llm=llm).kept["perplexity"].to_list()
    assert single == pytest.approx(together[2:3], rel=1e-9)
    assert pl.Series(together).is_not_null().all()
