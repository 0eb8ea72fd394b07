"""pass@k: the unbiased estimator against its binomial definition, and the dataset metrics."""

from math import comb

import polars as pl
import pytest

from operators.code.evaluate.pass_at_k import PassAtKEvaluator, pass_at_k


@pytest.mark.parametrize(("n", "c", "k"), [(10, 0, 1), (10, 3, 1), (10, 3, 5), (20, 19, 10), (5, 5, 5), (200, 7, 100)])
def test_the_estimator_is_one_minus_a_binomial_ratio(n, c, k):
    assert pass_at_k(n, c, k) == pytest.approx(1 - comb(n - c, k) / comb(n, k))


def test_pass_at_1_is_the_pass_rate():
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)


def test_dataset_metrics():
    df = pl.DataFrame(
        {
            "_row_id": [f"s{i}" for i in range(9)],
            "_parent_ids": [["p1"]] * 4 + [["p2"]] * 4 + [["p3"]],
            "execution_passed": [True, False, False, False, True, True, True, None, True],
        }
    )
    metrics = PassAtKEvaluator(ks=(1, 2, 5)).run(df).metrics
    p1, p2, p3 = pass_at_k(4, 1, 1), pass_at_k(4, 3, 1), 1.0
    assert metrics.values["pass@1"] == pytest.approx((p1 + p2 + p3) / 3)
    assert metrics.values["pass@2"] == pytest.approx((pass_at_k(4, 1, 2) + pass_at_k(4, 3, 2)) / 2)
    assert metrics.values["problems@2"] == 2  # p3 has one sample: not enough for pass@2
    assert "pass@5" not in metrics.values  # no problem has five samples
    assert (metrics.values["problems"], metrics.values["samples"]) == (3, 9)
    assert metrics.histograms["passing_samples"] == {"1": 2, "3": 1}
