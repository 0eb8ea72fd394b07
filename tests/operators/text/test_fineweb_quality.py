"""FineWebQualityFilter: pages on both sides of each published threshold, reasons and scores written out."""

import polars as pl
import pytest

from operators.text.filter.fineweb_quality import FineWebQualityFilter


def prose_line(i: int, end: str = ".") -> str:
    """A distinct line of 9 words, longer than 30 characters."""
    return f"Line number {i} of this page is about the river{end}"


def judge(texts: list[str | None], **params: object) -> tuple[list[str], dict[str, tuple[str, float | None]]]:
    """Kept row ids and ``{row id: (reason, score)}`` of the rejected rows."""
    df = pl.DataFrame(
        {"_row_id": [f"r{i}" for i in range(len(texts))], "text": texts}, schema_overrides={"text": pl.String}
    )
    result = FineWebQualityFilter(**params).run(df)
    rejected = {r["_row_id"]: (r["_reject_rule"], r["_reject_score"]) for r in result.rejected.iter_rows(named=True)}
    return result.kept["_row_id"].to_list(), rejected


def scores(text: str) -> dict[str, float]:
    return FineWebQualityFilter().run(pl.DataFrame({"text": [text]})).scores.row(0, named=True)


def test_line_punctuation_ratio_at_most_0_12_rejects():
    def page(punctuated: int) -> str:
        return "\n".join(prose_line(i, "." if i < punctuated else "") for i in range(25))

    kept, rejected = judge([page(3), page(4), "", None])
    assert kept == ["r1"]  # 4 / 25 = 0.16
    assert rejected == {
        "r0": ("fineweb_line_punct_ratio", 0.12),  # 3 / 25: the published bound is inclusive
        "r2": ("fineweb_line_punct_ratio", 0.0),  # no lines
        "r3": ("fineweb_line_punct_ratio", None),  # null cannot be judged
    }


def test_line_ends_counted_without_blank_lines_or_trailing_space():
    text = "A long line of prose that ends here.  \r\n\n\nAnother 'quoted' line that ends in a quote'\nNo end"
    assert scores(text)["fineweb_line_punct_ratio"] == pytest.approx(2 / 3)  # blank lines are not lines


def test_short_line_ratio_at_least_0_67_rejects():
    def page(short: int) -> str:
        return "\n".join([f"Short line {i}." for i in range(short)] + [prose_line(i) for i in range(100 - short)])

    kept, rejected = judge([page(67), page(66)])
    assert kept == ["r1"]  # 0.66
    assert rejected == {"r0": ("fineweb_short_lines", 0.67)}


def test_short_line_length_is_inclusive_and_ignores_surrounding_space():
    thirty, thirty_one = "x" * 29 + ".", "y" * 30 + "."
    assert scores(f"  {thirty}  \n{thirty_one}")["fineweb_short_line_ratio"] == 0.5


def test_duplicated_line_chars_at_least_0_1_rejects():
    repeated = "This 40-character line will be repeated."
    unique = [f"Unique line {i:02d} is exactly forty letters." for i in range(9)]
    assert {len(line) for line in [repeated, *unique]} == {40}
    at_bound = "\n".join([repeated, *unique[:4], repeated, *unique[4:8]])  # 40 of 400 characters
    below = "\n".join([repeated, *unique[:5], repeated, *unique[5:]])  # 40 of 440 characters
    kept, rejected = judge([at_bound, below])
    assert kept == ["r1"]
    assert rejected == {"r0": ("fineweb_dup_line_chars", 0.1)}
    assert scores(below)["fineweb_dup_line_char_ratio"] == pytest.approx(40 / 440)


def test_lines_are_compared_stripped_and_blank_lines_never_repeat():
    text = "A line that appears twice here.\n\n\n  A line that appears twice here.\t\nSomething else entirely."
    # the second copy's 31 characters (stripped) out of the 31 + 34 + 24 characters that are not newlines
    assert scores(text)["fineweb_dup_line_char_ratio"] == pytest.approx(31 / 89)


def test_more_than_0_3_newlines_per_word_is_list_like():
    four_lines = [
        "Incomprehensibilities notwithstanding.",  # 3 tokens: two words and "."
        "Counterrevolutionaries everywhere.",  # 3
        "Pneumonoultramicroscopicsilicovolcanoconiosis.",  # 2
        "Supercalifragilisticexpialidocious.",  # 2
    ]
    at_bound = "\n".join(four_lines)  # 3 newlines / 10 tokens = 0.3: kept
    above = "\n".join([*four_lines, "Antidisestablishmentarianism."])  # 4 / 12
    kept, rejected = judge([at_bound, above])
    assert kept == ["r0"]
    assert rejected == {"r1": ("fineweb_list_like", pytest.approx(1 / 3))}


def test_blank_lines_count_as_newlines_for_the_list_rule():
    assert scores("One two three four five.\n\n\nSix seven eight nine ten.")["fineweb_newline_word_ratio"] == 0.25


def test_first_failing_rule_is_reported():
    kept, rejected = judge(["Home\nAbout\nContact"])  # unpunctuated, short and list-like
    assert (kept, rejected) == ([], {"r0": ("fineweb_line_punct_ratio", 0.0)})


def test_thresholds_are_parameters():
    page = "\n".join(prose_line(i, "." if i < 3 else "") for i in range(25))
    kept, rejected = judge([page], line_punct_threshold=0.1)
    assert (kept, rejected) == (["r0"], {})
