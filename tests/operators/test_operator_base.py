"""The operator contract: key declarations, key binding errors, the registry and the Sequential stage."""

from typing import ClassVar

import polars as pl
import pytest

from operators import (
    Category,
    ExactDedupFilter,
    Filter,
    NormalizeTextRefiner,
    Read,
    Refiner,
    Rule,
    Sequential,
    SplitParagraphsGenerator,
    TextStatsEvaluator,
    WordCountFilter,
    Write,
    get_operator,
    list_operators,
)
from operators.base import apply_rules
from operators.errors import (
    DataflowError,
    KeyValidationError,
    OperatorDefinitionError,
    PipelineDefinitionError,
)


def test_key_parameters_must_be_annotated_read_or_write():
    with pytest.raises(OperatorDefinitionError, match="must be annotated Read or Write"):

        class Broken(Refiner):
            def expressions(self, *, input_key: str = "text") -> dict[str, pl.Expr]:
                return {}


def test_reads_and_writes_follow_the_bound_keys():
    op = NormalizeTextRefiner()
    keys = op.bind_keys({"output_key": "clean"})
    assert keys == {"input_key": "text", "output_key": "clean"}
    assert op.reads(keys) == ["text"]
    assert op.writes(keys) == ["clean"]


def test_unknown_key_parameter_names_operator_and_valid_keys():
    with pytest.raises(KeyValidationError, match=r"WordCountFilter has no key parameter 'input'") as error:
        WordCountFilter().bind_keys({"input": "text"})
    assert "input_key" in str(error.value)


def test_fingerprint_changes_with_parameters_and_keys_only():
    op = WordCountFilter(min_words=3)
    keys = op.bind_keys({})
    assert op.fingerprint(keys) == WordCountFilter(min_words=3).fingerprint(keys)
    assert op.fingerprint(keys) != WordCountFilter(min_words=4).fingerprint(keys)
    assert op.fingerprint(keys) != op.fingerprint(op.bind_keys({"input_key": "body"}))


def test_registry_lists_every_category_with_parameters():
    infos = {info.name: info for info in list_operators()}
    assert {info.category for info in infos.values()} == set(Category)
    word_count = infos["word_count"]
    assert word_count.category is Category.FILTER
    assert [p.name for p in word_count.parameters] == ["min_words", "max_words"]
    assert word_count.parameters[0].default == 5 and word_count.parameters[0].description
    assert word_count.keys == {"input_key": "read 'text'"}
    with pytest.raises(DataflowError, match="did you mean word_count"):
        get_operator("word_cont")


class ShoutFilter(Filter):
    """Reject rows that end with an exclamation mark (a filter defined in a test)."""

    version: ClassVar[int] = 1

    def rules(self, *, input_key: Read = "text") -> dict[str, Rule]:
        bangs = pl.col(input_key).str.count_matches("!").alias("exclamations")
        return {"too_many_exclamations": Rule(score=bangs, keep=bangs < 2)}


def test_sequential_runs_in_one_pass_and_names_the_rule_of_each_rejection():
    df = pl.DataFrame(
        {
            "_row_id": ["a", "b", "c", "d"],
            "text": [
                "Plenty of words in this row",
                "few",
                "plenty of words in this row!!",
                "Plenty of words in this row",
            ],
        }
    )
    stage = Sequential(
        NormalizeTextRefiner(),
        TextStatsEvaluator(),
        WordCountFilter(min_words=3),
        ShoutFilter(),
        ExactDedupFilter(),
    )
    result = stage.run([df])
    assert result.kept["_row_id"].to_list() == ["a"]
    reasons = dict(result.rejected.select("_row_id", "_reject_rule").iter_rows())
    assert reasons == {"b": "word_count_too_short", "c": "too_many_exclamations", "d": "exact_duplicate"}
    scores = result.scores.sort("_row_id")
    assert scores.columns == ["_row_id", "word_count", "exclamations", "duplicate_group_size"]
    # Fused row-local filters score every row; dedup is not row-local, so only the rows kept so far reach it.
    assert scores.row(1) == ("b", 1.0, 0.0, None)


def test_sequential_refuses_generators():
    with pytest.raises(PipelineDefinitionError, match="generator"):
        Sequential(SplitParagraphsGenerator())


def test_sequential_validates_keys_of_its_items():
    stage = Sequential((WordCountFilter(), {"input_key": "body"}))
    with pytest.raises(KeyValidationError, match="'body'"):
        stage.columns_after([["_row_id", "text"]], where="test")


class Upper(Refiner):
    """Upper-case a column (a refiner defined in a test)."""

    def expressions(self, *, input_key: Read = "text", output_key: Write = "text") -> dict[str, pl.Expr]:
        return {output_key: pl.col(input_key).str.to_uppercase()}


def test_a_custom_refiner_needs_no_registration_to_run():
    assert Upper()(pl.DataFrame({"text": ["a"]}))["text"].to_list() == ["A"]


def test_fused_filters_on_different_columns_keep_distinct_reasons_and_scores():
    df = pl.DataFrame(
        {"_row_id": ["a", "b", "c"], "title": ["x", "two words", "three word title"], "text": ["a b c"] * 3}
    )
    stage = Sequential(
        (WordCountFilter(min_words=3), {"input_key": "text"}), (WordCountFilter(min_words=2), {"input_key": "title"})
    )
    result = stage.run([df])
    assert result.kept["_row_id"].to_list() == ["b", "c"]
    assert result.rejected.select("_row_id", "_reject_rule", "_reject_score").rows() == [
        ("a", "word_count_too_short.2", 1.0)
    ]
    assert result.scores.columns == ["_row_id", "word_count", "word_count.2"]


def test_rows_rejected_earlier_in_a_stage_cannot_win_a_dedup_group():
    df = pl.DataFrame({"_row_id": ["a", "b"], "text": ["the same text here!!", "the same text here"]})
    result = Sequential(ShoutFilter(), ExactDedupFilter()).run([df])
    assert result.kept["_row_id"].to_list() == ["b"]
    assert dict(result.rejected.select("_row_id", "_reject_rule").iter_rows()) == {"a": "too_many_exclamations"}


def test_a_rejected_row_carries_the_score_and_detail_of_the_first_failing_rule():
    text = pl.col("text")
    rules = {
        "first": Rule(score=pl.lit(None, pl.Float64).alias("unknown"), keep=text.str.len_chars() > 100),
        "second": Rule(score=text.str.len_chars().alias("chars"), keep=pl.lit(False), detail=pl.lit("from second")),
    }
    rejected = apply_rules(pl.DataFrame({"_row_id": ["a"], "text": ["short"]}), rules).rejected
    assert rejected.select("_reject_rule", "_reject_score", "_reject_detail").row(0) == ("first", None, None)
