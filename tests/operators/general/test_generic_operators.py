"""The generic operators every domain builds on: a row filter and an evaluator on SQL expressions, and a
dataset-level distribution."""

import polars as pl
import pytest

from operators.errors import OperatorParameterError
from operators.general.evaluate.column_distribution import ColumnDistributionEvaluator
from operators.general.evaluate.expression_score import ExpressionScoreEvaluator
from operators.general.filter.row_filter import RowFilter
from tests.support import frame


def test_row_filter_keeps_rows_where_the_condition_holds_and_rejects_nulls():
    df = frame(["a", "b", "c", "d"], score=[5, 2, None, 4], lang=["en", "en", "en", "fr"])
    result = RowFilter(condition="score >= 4 AND lang = 'en'", reason="low_score").run(df)
    assert result.kept["_row_id"].to_list() == ["r0"]
    rejected = dict(result.rejected.select("_row_id", "_reject_rule").iter_rows())
    assert rejected == {"r1": "low_score", "r2": "low_score", "r3": "low_score"}
    assert result.scores.sort("_row_id")["low_score"].to_list() == [1.0, 0.0, None, 0.0]


def test_row_filter_names_the_columns_it_reads_and_refuses_bad_sql():
    assert sorted(RowFilter(condition="score >= 4 AND lang = 'en'").reads({})) == ["lang", "score"]
    with pytest.raises(OperatorParameterError, match=r"condition.*cannot parse"):
        RowFilter(condition="score >=")
    with pytest.raises(OperatorParameterError, match="reason"):
        RowFilter(condition="score > 1", reason="Not Snake")


def test_expression_score_writes_a_float_column():
    df = frame(["abcd", "ab"], other=["ab", "ab"])
    out = ExpressionScoreEvaluator(expression="length(text) / length(other)").run(df, output_key="ratio").kept
    assert out["ratio"].dtype == pl.Float64 and out["ratio"].to_list() == [2.0, 1.0]


def test_distribution_of_small_integers_has_one_bucket_per_value():
    df = frame([str(i) for i in range(6)], difficulty=[1, 3, 3, 4, 4, 4])
    result = ColumnDistributionEvaluator().run(df, input_key="difficulty")
    assert result.metrics.histograms["difficulty"] == {"1": 1, "2": 0, "3": 2, "4": 3}
    assert result.metrics.values["difficulty.mean"] == pytest.approx(19 / 6)
    table = result.kept
    assert {"_row_id", "metric", "bucket", "value"} <= set(table.columns)
    assert table.filter(pl.col("metric") == "difficulty.count")["value"].to_list() == [6.0]
    assert table["_row_id"].n_unique() == table.height


def test_distribution_of_floats_uses_equal_width_bins_and_categories_their_counts():
    floats = ColumnDistributionEvaluator(bins=2).run(frame(["a", "b", "c"], s=[0.0, 0.4, 1.0]), input_key="s")
    assert list(floats.metrics.histograms["s"].values()) == [2, 1]
    categories = ColumnDistributionEvaluator(top=1).run(frame(["a", "b", "c"], c=["x", "y", "x"]), input_key="c")
    assert categories.metrics.histograms["c"] == {"x": 2, "(other)": 1}


def test_distribution_per_partition_keeps_each_partition_apart():
    df = frame(["a", "b", "c"], d=[1, 2, 2], _partition=["p1", "p2", "p2"])
    table = ColumnDistributionEvaluator().run(df, input_key="d").kept
    counts = table.filter(pl.col("metric") == "d.count").sort("_partition")
    assert counts.select("_partition", "value").rows() == [("p1", 1.0), ("p2", 2.0)]
