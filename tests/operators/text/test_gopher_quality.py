"""GopherQualityFilter: for each rule a page exactly at the published threshold (kept) and one past it
(rejected), with the reason and score written out."""

import polars as pl
import pytest

from operators.errors import OperatorParameterError
from operators.text.filter.gopher_quality import GopherQualityFilter

LINE = "the cat of our town"
"""5 words of 3 letters (mean length 3), 2 stop words; every helper page is built from it."""


def prose(words: int) -> str:
    """``words`` words of plain prose on one line: mean word length 3, stop words present, no symbols."""
    return " ".join([LINE] * (words // 5))


def lines(*content: str) -> str:
    return "\n".join(content)


def judge(texts: list[str | None], measure: str, **params: object) -> dict[str, tuple[str, float | None]]:
    """Row id -> (rejection reason or "kept", the row's score ``measure``)."""
    df = pl.DataFrame(
        {"_row_id": [f"r{i}" for i in range(len(texts))], "text": texts}, schema_overrides={"text": pl.String}
    )
    result = GopherQualityFilter(**params).run(df)
    reasons = dict(result.rejected.select("_row_id", "_reject_rule").iter_rows())
    return {
        row_id: (reasons.get(row_id, "kept"), score)
        for row_id, score in result.scores.select("_row_id", measure).iter_rows()
    }


def test_every_score_of_a_small_page():
    page = "The cat... #tag\n• of 42\n\n- dogs…"
    scores = GopherQualityFilter().run(pl.DataFrame({"_row_id": ["p"], "text": [page]})).scores
    assert scores.row(0, named=True) == {
        "_row_id": "p",
        "gopher_word_count": 8.0,  # The cat... #tag • of 42 - dogs…
        "gopher_mean_word_length": 24 / 8,
        "gopher_hash_ratio": 1 / 8,
        "gopher_ellipsis_ratio": 2 / 8,  # "..." and "…"
        "gopher_bullet_line_fraction": 2 / 3,  # the blank line is not a line
        "gopher_ellipsis_line_fraction": 1 / 3,  # "cat..." is not at the end of its line
        "gopher_alpha_word_fraction": 5 / 8,  # not "•", "42", "-"
        "gopher_stop_word_count": 2.0,  # "The" and "of"
    }


def test_word_count_between_50_and_100000_inclusive():
    assert judge([prose(45), prose(50), prose(100_000), prose(100_005), None], "gopher_word_count") == {
        "r0": ("gopher_too_few_words", 45.0),
        "r1": ("kept", 50.0),
        "r2": ("kept", 100_000.0),
        "r3": ("gopher_too_many_words", 100_005.0),
        "r4": ("gopher_too_few_words", None),  # a null text cannot be judged: rejected, not waved through
    }


def test_mean_word_length_between_3_and_10_inclusive():
    ten_letters = ["abcdefghij"] * 47 + ["the", "of"]  # 475 characters in 49 words
    assert judge(
        [
            prose(45) + " a b c d e",  # 140 characters in 50 words
            prose(50),
            " ".join([*ten_letters, "a" * 25]),  # 500 characters in 50 words
            " ".join([*ten_letters, "a" * 26]),
        ],
        "gopher_mean_word_length",
    ) == {
        "r0": ("gopher_mean_word_length_out_of_range", 140 / 50),
        "r1": ("kept", 3.0),
        "r2": ("kept", 10.0),
        "r3": ("gopher_mean_word_length_out_of_range", 501 / 50),
    }


def test_at_most_one_hash_per_ten_words():
    def with_hashes(count: int) -> str:
        words = prose(50).split()
        for i in range(count):
            words[5 * i + 1] = "#" + words[5 * i + 1]  # "#cat"
        return " ".join(words)

    assert judge([with_hashes(5), with_hashes(6)], "gopher_hash_ratio") == {
        "r0": ("kept", 0.1),
        "r1": ("gopher_hash_ratio", 6 / 50),
    }


def test_at_most_one_ellipsis_per_ten_words():
    def with_ellipses(count: int) -> str:
        words = prose(50).split()
        for i in range(count):
            words[5 * i + 1] += "..." if i % 2 else "…"  # "cat..." or "cat…", never at the end of the line
        return " ".join(words)

    assert judge([with_ellipses(5), with_ellipses(6)], "gopher_ellipsis_ratio") == {
        "r0": ("kept", 0.1),
        "r1": ("gopher_ellipsis_ratio", 6 / 50),
    }


def test_at_most_90_percent_of_lines_start_with_a_bullet():
    item = "the cats of these towns"  # with its bullet: 6 words, 20 characters
    ten_items = [f"• {item}", f"  - {item}", f"* {item}", f"➢ {item}", f"■ {item}"] * 2
    assert judge(
        [
            lines(*ten_items[:9], item),
            lines(*ten_items[:5], "", "", *ten_items[5:]),  # blank lines are not lines
            "\r\n".join(ten_items),  # any line break separates lines
        ],
        "gopher_bullet_line_fraction",
    ) == {
        "r0": ("kept", 0.9),
        "r1": ("gopher_bullet_lines", 1.0),
        "r2": ("gopher_bullet_lines", 1.0),
    }


def test_at_most_30_percent_of_lines_end_with_an_ellipsis():
    def ending_in_ellipsis(count: int) -> str:
        return lines(*[LINE + ("...  " if i % 2 else "…") if i < count else LINE for i in range(10)])

    assert judge([ending_in_ellipsis(3), ending_in_ellipsis(4)], "gopher_ellipsis_line_fraction") == {
        "r0": ("kept", 0.3),
        "r1": ("gopher_ellipsis_lines", 4 / 10),
    }


def test_at_least_80_percent_of_words_contain_a_letter():
    assert judge(
        [
            prose(40) + " 1234" * 10,
            prose(40) + " 1234" * 11,
            prose(40) + " 東京大阪" * 5 + " x1 ü 1ab" + " 2024" * 2,  # any script's letters count
        ],
        "gopher_alpha_word_fraction",
    ) == {
        "r0": ("kept", 0.8),
        "r1": ("gopher_alpha_words", 40 / 51),
        "r2": ("kept", 48 / 50),
    }


def test_at_least_two_different_stop_words():
    filler = " ".join(["cat our town big red"] * 10)  # 50 words, no stop word
    assert judge(
        [
            filler + " The of,",  # case and attached punctuation do not matter
            filler + " the the THE",  # one stop word, however often
            filler + " theory often",  # whole words only
        ],
        "gopher_stop_word_count",
    ) == {
        "r0": ("kept", 2.0),
        "r1": ("gopher_stop_words", 1.0),
        "r2": ("gopher_stop_words", 0.0),
    }


def test_thresholds_are_parameters():
    assert judge([prose(10)], "gopher_stop_word_count", min_words=10, min_stop_words=3) == {
        "r0": ("gopher_stop_words", 2.0)
    }


def test_rejects_inconsistent_or_unknown_parameters():
    with pytest.raises(OperatorParameterError, match="greater than max_words"):
        GopherQualityFilter(min_words=10, max_words=5)
    with pytest.raises(OperatorParameterError, match="greater than max_mean_word_length"):
        GopherQualityFilter(min_mean_word_length=4, max_mean_word_length=3)
    with pytest.raises(OperatorParameterError, match="single words"):
        GopherQualityFilter(stop_words=("the end",))
    with pytest.raises(OperatorParameterError, match="non-blank"):
        GopherQualityFilter(bullets=("•", " "))
    with pytest.raises(OperatorParameterError, match="min_word"):
        GopherQualityFilter(min_word=3)
