import polars as pl

from operators.math.evaluate.math_distribution import MathDistributionEvaluator
from tests.support import frame


def test_histograms_of_difficulty_and_categories_with_summary_numbers():
    df = frame(
        ["a", "b", "c", "d"],
        column="question",
        difficulty=[3, 3, 7, None],
        primary_category=["Algebra", "Algebra", "Geometry", None],
        secondary_category=["linear equations", "quadratics", "circles", None],
    )
    result = MathDistributionEvaluator().run(df)
    histograms = result.metrics.histograms
    assert histograms["difficulty"] == {str(level): {3: 2, 7: 1}.get(level, 0) for level in range(1, 11)}
    assert histograms["primary_category"] == {"Algebra": 2, "Geometry": 1}
    values = result.metrics.values
    assert values["difficulty.unlabelled"] == 1 and values["difficulty_mean.Geometry"] == 7
    table = result.kept
    assert table.filter(pl.col("metric") == "difficulty", pl.col("bucket") == "3")["value"].to_list() == [2.0]


def test_an_empty_dataset_gives_empty_histograms_not_an_error():
    df = frame([], column="question", difficulty=[], primary_category=[], secondary_category=[])
    result = MathDistributionEvaluator().run(df.with_columns(pl.lit(None, pl.String).alias("_partition")))
    assert result.metrics.values["rows"] == 0
    assert sum(result.metrics.histograms["difficulty"].values()) == 0
