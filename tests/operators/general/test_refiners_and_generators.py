"""Refiners, evaluators and generators on tiny inputs with the expected output written out."""

import polars as pl
import pytest

from operators import (
    ColumnExpressionRefiner,
    ConcatRowsRefiner,
    NormalizeTextRefiner,
    SplitParagraphsGenerator,
    TextStatsEvaluator,
)
from operators.errors import DataflowError, OperatorParameterError


def test_normalize_text_collapses_spaces_keeps_paragraphs_and_applies_nfkc():
    df = pl.DataFrame({"_row_id": ["a"], "text": ["  ﬁne\u00a0 \t text \n\n\n\n next   para  "]})
    out = NormalizeTextRefiner().run(df).kept
    assert out["text"].to_list() == ["fine text\n\nnext para"]
    lowered = NormalizeTextRefiner(lowercase=True)(df, output_key="clean")
    assert lowered.columns == ["_row_id", "text", "clean"]
    assert lowered["clean"].to_list() == ["fine text\n\nnext para"]


def test_text_stats_scores():
    df = pl.DataFrame({"_row_id": ["a", "b"], "text": ["ab cdef", ""]})
    out = TextStatsEvaluator().run(df).kept
    assert out.select("char_count", "word_count", "mean_word_length").rows() == [(7, 2, 3.0), (0, 0, None)]


def test_column_expression_reads_the_columns_of_its_expression():
    op = ColumnExpressionRefiner(expression="char_count / word_count")
    assert op.reads({"output_key": "ratio"}) == ["char_count", "word_count"]
    df = pl.DataFrame({"char_count": [10, 9], "word_count": [2, 3]})
    assert op(df, output_key="ratio")["ratio"].to_list() == [5.0, 3.0]


def test_column_expression_rejects_unparseable_sql():
    with pytest.raises(OperatorParameterError, match="cannot parse expression"):
        ColumnExpressionRefiner(expression="length(text")


def test_split_paragraphs_mints_stable_ids_and_records_parents():
    df = pl.DataFrame({"_row_id": ["p1", "p2"], "text": ["first para here\n\nsecond one", "x"]})
    op = SplitParagraphsGenerator(min_chars=2)
    out = op.run(df).kept
    assert out["paragraph"].to_list() == ["first para here", "second one"]
    assert out["_parent_ids"].to_list() == [["p1"], ["p1"]]
    assert out["_row_id"].n_unique() == 2
    assert not set(out["_row_id"]) & {"p1", "p2"}
    assert op.run(df).kept["_row_id"].to_list() == out["_row_id"].to_list()  # deterministic
    other_params = SplitParagraphsGenerator(min_chars=1).run(df).kept
    assert set(other_params["_row_id"]).isdisjoint(out["_row_id"])  # ids depend on the generating step


def test_concat_rows_stacks_branches_and_refuses_copies():
    a = pl.DataFrame({"_row_id": ["1"], "text": ["x"]})
    b = pl.DataFrame({"_row_id": ["2"], "text": ["y"], "score": [0.5]})
    out = ConcatRowsRefiner().run(a, b).kept
    assert out.rows() == [("1", "x", None), ("2", "y", 0.5)]
    with pytest.raises(DataflowError, match="more than one input"):
        ConcatRowsRefiner().run(a, a)
