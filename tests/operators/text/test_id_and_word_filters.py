"""ID-card numbers by checksum, and DataFlow's alpha-word, stop-word and ID-term rules: one input per edge."""

import polars as pl
import pytest

from operators.text.filter.dataflow import AlphaWordsFilter, IdCardTermsFilter, StopWordFilter
from operators.text.filter.id_card_number import IdCardNumberFilter
from tests.support import frame


def decisions(result) -> dict[str, tuple]:
    return {row[0]: row[1:] for row in result.rejected.select("_row_id", "_reject_score", "_reject_detail").rows()}


def test_id_numbers_count_only_with_a_valid_check_character():
    texts = {
        "cn": "身份证号 11010519491231002X, 请核对",
        "cn_lower_x": "id 11010519491231002x",
        "cn_bad_check": "11010519491231002Y",
        "cn_no_such_day": "110105194902300021",
        "order_number": "order 123456789012345678 shipped",
        "es_dni": "DNI 12345678Z",
        "es_nie": "NIE X1234567-L",
        "es_bad": "12345678A",
        "sg": "NRIC S1234567D and T1234567J",
        "sg_bad": "S1234567A",
        "none": None,
    }
    result = IdCardNumberFilter().run(frame(texts))
    assert result.kept["_row_id"].to_list() == ["cn_bad_check", "cn_no_such_day", "order_number", "es_bad", "sg_bad"]
    assert decisions(result) == {
        "cn": (1.0, "cn_resident_id"),
        "cn_lower_x": (1.0, "cn_resident_id"),
        "es_dni": (1.0, "es_dni_nie"),
        "es_nie": (1.0, "es_dni_nie"),
        "sg": (2.0, "sg_nric"),
        "none": (None, ""),
    }


def test_id_numbers_allowed_up_to_max_count_and_per_kind():
    df = frame({"two": "11010519491231002X and 12345678Z", "one": "12345678Z"})
    assert IdCardNumberFilter(max_count=1).run(df).kept["_row_id"].to_list() == ["one"]
    assert IdCardNumberFilter(kinds=["cn_resident_id"]).run(df).kept["_row_id"].to_list() == ["one"]


def test_alpha_words_share_is_exclusive_and_ascii():
    df = frame(
        {"prose": "The 3 cats sat.", "numbers": "1 2 3 4 5 a", "half": "ab 12", "cjk": "中文 文本 a", "empty": " "}
    )
    result = AlphaWordsFilter(threshold=0.5).run(df)
    assert result.kept["_row_id"].to_list() == ["prose"]
    scores = dict(result.scores.select("_row_id", "dataflow_alpha_word_ratio").iter_rows())
    assert scores.pop("empty") is None
    assert scores == pytest.approx({"prose": 0.75, "numbers": 1 / 6, "half": 0.5, "cjk": 1 / 3})


def test_stop_words_need_a_share_above_threshold_and_more_than_two():
    df = frame({"prose": "the cat and the dog", "few": "the cat and dog", "list": "apple banana cherry"})
    result = StopWordFilter(threshold=0.3).run(df)
    assert result.kept["_row_id"].to_list() == ["prose"]
    assert dict(result.scores.select("_row_id", "dataflow_stop_word_ratio").iter_rows()) == {
        "prose": 0.6,
        "few": 0.5,  # two stop words of four: a share above 0.3 but not more than two
        "list": 0.0,
    }


def test_id_terms_filter_counts_words_not_numbers():
    df = frame({"talk": "Identity card: ID card number and identification", "number": "11010519491231002X", "no": "hi"})
    result = IdCardTermsFilter().run(df)
    assert result.kept["_row_id"].to_list() == ["number", "no"]
    assert result.rejected["_reject_rule"].to_list() == ["dataflow_id_card"]
    assert result.scores.filter(pl.col("_row_id") == "talk")["dataflow_id_card_terms"].item() >= 3
