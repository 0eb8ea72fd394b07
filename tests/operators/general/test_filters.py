"""Filters: kept rows, rejected rows with reason and score, and the score table, on tiny written-out inputs."""

import polars as pl
import pytest

from operators import ExactDedupFilter, WordCountFilter
from operators.errors import OperatorParameterError
from tests.support import frame


def test_word_count_bounds_are_inclusive():
    df = frame(["one two", "one two three", "a b c d", "a b c d e", None])
    result = WordCountFilter(min_words=3, max_words=4).run(df)
    assert result.kept["_row_id"].to_list() == ["r1", "r2"]
    rejected = {r["_row_id"]: (r["_reject_rule"], r["_reject_score"]) for r in result.rejected.iter_rows(named=True)}
    assert rejected == {
        "r0": ("word_count_too_short", 2.0),
        "r3": ("word_count_too_long", 5.0),
        "r4": ("word_count_too_short", None),  # a null text cannot be judged: rejected, not waved through
    }
    assert result.scores.columns == ["_row_id", "word_count"]
    assert result.scores["word_count"].to_list() == [2.0, 3.0, 4.0, 5.0, None]


def test_word_count_counts_runs_of_non_whitespace_including_cjk_and_tabs():
    df = frame(["alpha\tbeta\n\ngamma", "東京 大阪 京都"])
    result = WordCountFilter(min_words=3).run(df)
    assert result.kept.height == 2


def test_word_count_rejects_inverted_bounds_and_unknown_parameters():
    with pytest.raises(OperatorParameterError, match="greater than max_words"):
        WordCountFilter(min_words=10, max_words=5)
    with pytest.raises(OperatorParameterError, match="min_word"):
        WordCountFilter(min_word=3)


def test_exact_dedup_keeps_smallest_id_whatever_the_order():
    df = pl.DataFrame(
        {
            "_row_id": ["c", "a", "b", "d"],
            "text": ["Hello,  World!", "hello world", "HELLO WORLD.", "something else"],
        }
    )
    for ordering in (df, df.reverse()):
        result = ExactDedupFilter().run(ordering)
        assert sorted(result.kept["_row_id"]) == ["a", "d"]
        rejected = result.rejected.sort("_row_id")
        assert rejected["_reject_rule"].to_list() == ["exact_duplicate", "exact_duplicate"]
        assert rejected["_reject_detail"].to_list() == ["duplicate_of=a", "duplicate_of=a"]
        assert rejected["_reject_score"].to_list() == [3.0, 3.0]


def test_exact_dedup_can_respect_case_and_punctuation():
    df = pl.DataFrame({"_row_id": ["a", "b", "c"], "text": ["Hello world", "hello world", "Hello world"]})
    result = ExactDedupFilter(lowercase=False, ignore_punctuation=False).run(df)
    assert sorted(result.kept["_row_id"]) == ["a", "b"]
    assert result.rejected["_row_id"].to_list() == ["c"]


def test_eager_call_returns_kept_rows():
    df = frame(["one", "one two three"])
    assert WordCountFilter(min_words=2)(df, input_key="text")["_row_id"].to_list() == ["r1"]
