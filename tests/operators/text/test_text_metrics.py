"""BLEU/chrF, ROUGE, corpus BLEU, lexical diversity and readability on written-out texts with known values."""

import polars as pl
import pytest

from operators.text.evaluate.bleu_score import BleuScoreEvaluator
from operators.text.evaluate.corpus_bleu import CorpusBleuEvaluator
from operators.text.evaluate.lexical_diversity import LexicalDiversityEvaluator, _mtld_pass
from operators.text.evaluate.readability import ReadabilityEvaluator
from operators.text.evaluate.rouge_score import RougeScoreEvaluator
from tests.support import frame

CAT = "the cat sat on the mat"


def test_bleu_and_chrf_per_row_with_one_or_several_references():
    df = frame([CAT, "the cat is on the mat", "completely unrelated words here", None], reference=[CAT, CAT, CAT, CAT])
    scored = BleuScoreEvaluator().run(df).kept
    bleu, chrf = scored["bleu"].to_list(), scored["chrf"].to_list()
    assert bleu[0] == pytest.approx(100) and chrf[0] == pytest.approx(100)
    assert 0 < bleu[1] < 100 and bleu[2] < bleu[1] and bleu[3] is None and chrf[3] is None
    several = frame(["the cat is on the mat"], reference=[["a dog", "the cat is on the mat"]])
    assert BleuScoreEvaluator().run(several).kept["bleu"].item() == pytest.approx(100)


def test_rouge_f_measures_and_the_best_reference():
    df = frame(["the cat sat", None], reference=["the cat sat on the mat", "x"])
    scored = RougeScoreEvaluator().run(df).kept.select("rouge1", "rouge2", "rougeL").rows()
    assert scored[0] == pytest.approx((2 * 0.5 / 1.5, 2 * 0.4 / 1.4, 2 * 0.5 / 1.5))  # P=1, R=3/6 (2/5 bigrams)
    assert scored[1] == (None, None, None)
    best = frame(["the cats sat"], reference=[["a dog barked", "the cat sat"]])
    assert RougeScoreEvaluator().run(best).kept["rouge1"].item() == pytest.approx(1)  # stemmed: cats -> cat


def test_corpus_bleu_pools_the_rows():
    references = [[CAT], ["the dog barks loudly", "a dog barks loudly"], ["x"]]
    df = frame([CAT, "a dog barks loudly", None], reference=references)
    table = CorpusBleuEvaluator().run(df)
    values = {m: v for m, b, v in table.kept.select("metric", "bucket", "value").rows()}
    assert values["scored_rows"] == 2 and values["skipped_rows"] == 1
    assert values["bleu"] == pytest.approx(100) and values["chrf"] == pytest.approx(100) and values["ter"] == 0
    assert table.metrics.values["bleu"] == pytest.approx(100)


def test_mtld_follows_mccarthy_and_jarvis():
    # forward: "a b a b" -> TTR 1, 1, 2/3 (factor 1 ends at the 3rd token: 2/3 <= 0.72), remainder "b": TTR 1 -> 0
    assert _mtld_pass(list("abab"), 0.72) == pytest.approx(4 / 1)
    assert _mtld_pass(list("abcd"), 0.72) is None  # no factor: undefined
    # remainder partial factor: "a a" ends a factor at token 2 (1/2); "b" left: TTR 1 -> 0; "aab c": ...
    assert _mtld_pass(list("aabcd"), 0.72) == pytest.approx(5 / 1)


def test_lexical_diversity_columns():
    repetitive = " ".join(["the cat"] * 30)
    varied = " ".join(f"word{i}" for i in range(60))
    df = frame([repetitive, varied, "too short", None])
    scored = LexicalDiversityEvaluator().run(df).kept
    mtld, hdd = scored["mtld"].to_list(), scored["hdd"].to_list()
    assert mtld[0] == pytest.approx(3.0)  # "the cat the" closes a factor (TTR 2/3): 60 tokens / 20 factors
    assert mtld[1] is None and hdd[1] == pytest.approx(1.0)  # all distinct: HD-D is 1, MTLD undefined
    assert hdd[0] == pytest.approx(2 / 42)  # two types, each surely drawn in 42 of 60 tokens
    assert hdd[2] is None and mtld[3] is None and hdd[3] is None


def test_readability_formulas_on_counted_text():
    # 2 sentences, 12 words, syllables: The(1) cat(1) sat(1) on(1) the(1) mat(1). It(1) was(1) a(1) beau-ti-ful(3)
    # sun-ny(2) day(1) = 15; one word of 3+ syllables; letters 40.
    df = frame(["The cat sat on the mat. It was a beautiful sunny day.", "", None])
    scored = ReadabilityEvaluator().run(df).kept
    row = scored.row(0, named=True)
    words, sentences, syllables, poly, letters = 12, 2, 15, 1, 40
    assert row["flesch_reading_ease"] == pytest.approx(206.835 - 1.015 * words / sentences - 84.6 * syllables / words)
    assert row["flesch_kincaid_grade"] == pytest.approx(0.39 * words / sentences + 11.8 * syllables / words - 15.59)
    assert row["gunning_fog"] == pytest.approx(0.4 * (words / sentences + 100 * poly / words))
    assert row["smog"] == pytest.approx(1.0430 * (30 * poly / sentences) ** 0.5 + 3.1291)
    assert row["coleman_liau"] == pytest.approx(0.0588 * 100 * letters / words - 0.296 * 100 * sentences / words - 15.8)
    assert row["ari"] == pytest.approx(4.71 * letters / words + 0.5 * words / sentences - 21.43)
    assert scored.drop("_row_id", "text").row(1) == (None,) * 6 and scored.drop("_row_id", "text").row(2) == (None,) * 6
    assert isinstance(scored["smog"].dtype, type(pl.Float64()))
