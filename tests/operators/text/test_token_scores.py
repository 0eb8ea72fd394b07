"""Perplexity and IFD over token log-probabilities: the arithmetic with a scripted scorer, failed rows put aside
as every LLM step puts them, and the refusal of an engine that cannot score tokens. The embedded model's scores
are tested in test_token_scores_model.py."""

import math

import pytest

from operators.errors import DataflowError
from operators.llm.protocol import TokenScores
from operators.text.evaluate.ifd_score import IfdScoreEvaluator
from operators.text.evaluate.perplexity import PerplexityEvaluator
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
                results.append(TokenScores(error="server_error", error_message="HTTP 500: down"))
                continue
            results.append(TokenScores([-0.5 if word in context.split() else -2.0 for word in text.split()]))
        return results


def test_perplexity_is_exp_of_the_mean_negative_logprob_and_a_failed_row_is_rejected():
    df = frame(["one two three", "", None, "broken text"])
    result = PerplexityEvaluator().run(df, llm=WordScorer())
    assert result.kept["_row_id"].to_list() == ["r0", "r1", "r2"]
    assert result.kept["perplexity"][0] == pytest.approx(math.exp(2.0))
    assert result.kept["perplexity"].to_list()[1:] == [None, None]
    rejected = result.rejected.select("_row_id", "_reject_rule", "_reject_score", "_reject_detail").rows()
    assert rejected == [("r3", "llm_server_error", None, "HTTP 500: down")]


def test_ifd_divides_the_conditioned_perplexity_by_the_response_alone():
    df = frame(
        ["r0", "r1", "r2"],
        instruction=["explain tides moon", "say hi", None],
        response=["tides follow the moon", "broken", "x"],
    )
    scorer = WordScorer()
    result = IfdScoreEvaluator().run(df, llm=scorer)
    kept = result.kept
    # response words: tides, follow, the, moon; the context holds "tides" and "moon": mean -1.25 vs -2
    assert kept["ifd_score"][0] == pytest.approx(math.exp(1.25) / math.exp(2.0))
    assert kept["response_ppl"][0] == pytest.approx(math.exp(2.0))
    assert kept["_row_id"].to_list() == ["r0", "r2"] and kept["ifd_score"][1] is None
    assert result.rejected["_reject_rule"].to_list() == ["llm_server_error"]
    assert scorer.calls[0][1] == ["explain tides moon\n", "say hi\n"]  # Superfiltering's prompt
    assert scorer.calls[1][1] is None


def test_the_instruction_template_must_name_the_instruction():
    alpaca = IfdScoreEvaluator(instruction_template="### Instruction:\n{instruction}\n\n### Response:\n")
    scorer = WordScorer()
    alpaca.run(frame(["r0"], instruction=["a {b}"], response=["c"]), llm=scorer)
    assert scorer.calls[0][1] == ["### Instruction:\na {b}\n\n### Response:\n"]
    with pytest.raises(DataflowError, match="instruction_template"):
        IfdScoreEvaluator(instruction_template="no placeholder")


def test_an_engine_without_token_scores_is_refused_with_a_hint():
    with pytest.raises(DataflowError, match="cannot return token log-probabilities") as refused:
        PerplexityEvaluator().run(frame(["text"]), llm=ScriptedLLM({}))
    assert "score_tokens" in refused.value.hint
