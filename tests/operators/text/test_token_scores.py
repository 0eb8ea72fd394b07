"""Perplexity and IFD over token log-probabilities: the arithmetic with a scripted scorer, and the refusal of an
engine that cannot score tokens (the LLM protocol does not have score_tokens yet)."""

import math

import pytest

from operators.errors import DataflowError
from operators.text.evaluate.ifd_score import IfdScoreEvaluator
from operators.text.evaluate.perplexity import PerplexityEvaluator
from operators.text.evaluate.token_scores import TokenScores
from tests.support import ScriptedLLM, frame


class WordScorer:
    """Each word scores log p = -2, or -0.5 when the context contains it; a text with 'broken' fails."""

    identity = "test:word-scorer"

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], list | None]] = []

    def score_tokens(self, texts, *, contexts=None):
        self.calls.append((list(texts), None if contexts is None else list(contexts)))
        results = []
        for i, text in enumerate(texts):
            context = (contexts or [None] * len(texts))[i] or ""
            if "broken" in text:
                results.append(TokenScores(error="server_error"))
                continue
            results.append(TokenScores([-0.5 if word in context.split() else -2.0 for word in text.split()]))
        return results


def test_perplexity_is_exp_of_the_mean_negative_logprob():
    df = frame(["one two three", "", None, "broken text"])
    scored = PerplexityEvaluator().run(df, llm=WordScorer()).kept["perplexity"].to_list()
    assert scored[0] == pytest.approx(math.exp(2.0)) and scored[1:] == [None, None, None]


def test_ifd_divides_the_conditioned_perplexity_by_the_response_alone():
    df = frame(
        ["r0", "r1", "r2"],
        instruction=["explain tides moon", "say hi", None],
        response=["tides follow the moon", "broken", "x"],
    )
    scorer = WordScorer()
    kept = IfdScoreEvaluator().run(df, llm=scorer).kept
    # response words: tides, follow, the, moon; the context holds "tides" and "moon": mean -1.25 vs -2
    assert kept["ifd_score"][0] == pytest.approx(math.exp(1.25) / math.exp(2.0))
    assert kept["response_ppl"][0] == pytest.approx(math.exp(2.0))
    assert kept["ifd_score"].to_list()[1:] == [None, None]
    assert scorer.calls[0][1][0] == "### Instruction:\nexplain tides moon\n\n### Response:\n"


def test_an_engine_without_token_scores_is_refused_with_a_hint():
    with pytest.raises(DataflowError, match="cannot return token log-probabilities") as refused:
        PerplexityEvaluator().run(frame(["text"]), llm=ScriptedLLM({}))
    assert "score_tokens" in refused.value.hint
