"""GopherRepetitionFilter: for each rule a page exactly at the published threshold (kept) and one past it
(rejected), with the reason and score written out.

Pages are built from distinct 4-letter words (``u000``, ``u001`` ...), so every character fraction over words is
a fraction of word counts, and only the lines, paragraphs or n-grams a test repeats are repeated.
"""

from itertools import count

import polars as pl
import pytest

from operators.sequential import Sequential
from operators.text.filter.gopher_quality import GopherQualityFilter
from operators.text.filter.gopher_repetition import GopherRepetitionFilter


def distinct_words():
    return (f"u{i:03d}" for i in count())


def ngram_page(n: int, copies: int, total_words: int) -> str:
    """``copies`` occurrences of one n-gram, each after a distinct word, among distinct words: ``total_words``."""
    filler, repeated = distinct_words(), [f"r{i:03d}" for i in range(n)]
    words: list[str] = []
    for _ in range(copies):
        words += [next(filler), *repeated]
    words += [next(filler) for _ in range(total_words - len(words))]
    return " ".join(words)


def interleaved(unique: list[str], repeated: str, copies: int) -> list[str]:
    """``unique`` with ``repeated`` after each of its first ``copies`` items."""
    return [item for i, line in enumerate(unique) for item in ([line, repeated] if i < copies else [line])]


def distinct_lines(number: int, filler=None) -> list[str]:
    """``number`` lines of 10 distinct words (49 characters each)."""
    filler = filler or distinct_words()
    return [" ".join(next(filler) for _ in range(10)) for _ in range(number)]


def judge(texts: list[str | None], measure: str, **params: object) -> dict[str, tuple[str, float | None]]:
    """Row id -> (rejection reason or "kept", the row's score ``measure``)."""
    df = pl.DataFrame(
        {"_row_id": [f"r{i}" for i in range(len(texts))], "text": texts}, schema_overrides={"text": pl.String}
    )
    result = GopherRepetitionFilter(**params).run(df)
    reasons = dict(result.rejected.select("_row_id", "_reject_rule").iter_rows())
    return {
        row_id: (reasons.get(row_id, "kept"), score)
        for row_id, score in result.scores.select("_row_id", measure).iter_rows()
    }


def test_at_most_30_percent_of_lines_are_duplicates_every_copy_counted():
    def page(copies: int) -> str:
        return "\n".join(interleaved(distinct_lines(10 - copies), "dupe", copies))

    assert judge([page(3), page(4)], "gopher_dup_line_fraction") == {
        "r0": ("kept", 0.3),  # 3 of 10 lines (datatrove counts 2: the copies after the first)
        "r1": ("gopher_dup_line_fraction", 4 / 10),
    }


def test_at_most_20_percent_of_line_characters_in_duplicate_lines():
    def page(length: int) -> str:
        twice = "w" * length
        unique = distinct_lines(8)
        return "\n".join([twice, *unique[:4], twice, *unique[4:]])

    assert judge([page(49), page(50)], "gopher_dup_line_char_fraction") == {
        "r0": ("kept", 0.2),  # 2 x 49 of 98 + 8 x 49 characters
        "r1": ("gopher_dup_line_chars", 100 / 492),
    }


def test_at_most_30_percent_of_paragraphs_are_duplicates():
    def page(copies: int) -> str:
        filler = distinct_words()
        unique = ["\n".join(distinct_lines(5, filler)) for _ in range(10 - copies)]
        return "\n\n".join(interleaved(unique, "dupe", copies))

    assert judge([page(3), page(4)], "gopher_dup_para_fraction") == {
        "r0": ("kept", 0.3),  # lines: 3 duplicates of 38
        "r1": ("gopher_dup_para_fraction", 4 / 10),  # lines: 4 duplicates of 34
    }


def test_at_most_20_percent_of_paragraph_characters_in_duplicate_paragraphs():
    def page(unique_paragraphs: int) -> str:
        words = [f"{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(unique_paragraphs)]  # "aa", "ab" ...
        twice = "x\ny\nz"  # 5 characters in paragraphs, 3 in lines: its newlines count only for paragraphs
        return "\n\n".join([twice, *words[:5], twice, *words[5:]])

    assert judge([page(20), page(14)], "gopher_dup_para_char_fraction") == {
        "r0": ("kept", 0.2),  # 10 of 10 + 40 paragraph characters; lines: 6 of 26, 6 of 46 characters
        "r1": ("gopher_dup_para_chars", 10 / 38),  # lines: 6 of 20 (at the line threshold), 6 of 34 characters
    }


@pytest.mark.parametrize(
    ("n", "threshold", "kept", "rejected"),
    [(2, 0.20, (5, 50), (5, 45)), (3, 0.18, (3, 50), (3, 45)), (4, 0.16, (2, 50), (2, 45))],
)
def test_most_frequent_ngram_characters(n, threshold, kept, rejected):
    """Occurrences x characters of the most frequent n-gram over the word characters; the kept page is at the
    threshold: 5 x 2 of 50 words, 3 x 3 of 50, 2 x 4 of 50."""
    copies, total = rejected
    assert judge([ngram_page(n, *kept), ngram_page(n, *rejected)], f"gopher_top_{n}gram_char_fraction") == {
        "r0": ("kept", threshold),
        "r1": (f"gopher_top_{n}gram", pytest.approx(copies * n / total)),
    }


@pytest.mark.parametrize(
    ("n", "threshold", "kept", "rejected"),
    [
        (5, 0.15, (3, 100), (3, 90)),  # 15 of 100 words; 15 of 90
        (6, 0.14, (7, 300), (2, 82)),  # 42 of 300; 12 of 82, within the 5-gram threshold
        (7, 0.13, (13, 700), (2, 104)),
        (8, 0.12, (3, 200), (2, 128)),
        (9, 0.11, (11, 900), (2, 156)),
        (10, 0.10, (2, 200), (2, 190)),
    ],
)
def test_characters_covered_by_duplicate_ngrams(n, threshold, kept, rejected):
    """Every copy of a repeated n-gram is covered; the kept page is at the threshold."""
    copies, total = rejected
    assert judge([ngram_page(n, *kept), ngram_page(n, *rejected)], f"gopher_dup_{n}gram_char_fraction") == {
        "r0": ("kept", threshold),
        "r1": (f"gopher_dup_{n}gram", pytest.approx(copies * n / total)),
    }


def test_overlapping_ngrams_are_counted_once():
    filler = distinct_words()
    twice = ["s1", "s2", "s3", "s4", "s5", "s6"]  # two repeated 5-grams overlap in each copy
    words = [next(filler), *twice, next(filler), *twice] + [next(filler) for _ in range(86)]
    scores = GopherRepetitionFilter().run(pl.DataFrame({"text": [" ".join(words)]})).scores.row(0, named=True)
    # 12 words of 2 characters covered, of 12 x 2 + 88 x 4 (datatrove's greedy scan counts the second copy's
    # first 5-gram only)
    assert [scores[f"gopher_dup_{n}gram_char_fraction"] for n in range(5, 11)] == [24 / 376, 24 / 376, 0, 0, 0, 0]


def test_ngram_ties_and_pages_without_repeats():
    scores = (
        GopherRepetitionFilter()
        .run(pl.DataFrame({"text": ["aa b aa b ccc dd ccc dd", "one two three", "", "ab ab ab ab"]}))
        .scores
    )
    assert scores["gopher_top_2gram_char_fraction"].to_list() == [
        2 * 5 / 16,  # "ccc dd" and "aa b" both twice: the longer one
        0.0,  # nothing repeats (datatrove takes the first 2-gram seen once: 7 of 13 characters, rejected)
        0.0,
        3 * 4 / 8,  # overlapping occurrences each count in full: "ab ab" 3 times
    ]


def test_null_text_rejected_and_statistics_column_not_leaked():
    df = pl.DataFrame({"_row_id": ["a", "b"], "text": [None, ""]}, schema_overrides={"text": pl.String})
    result = GopherRepetitionFilter().run(df)
    assert result.kept.columns == ["_row_id", "text"]
    assert result.kept["_row_id"].to_list() == ["b"]
    assert result.rejected.columns == ["_row_id", "text", "_reject_rule", "_reject_score", "_reject_detail"]
    assert result.rejected.row(0)[2:4] == ("gopher_dup_line_fraction", None)
    assert result.scores.columns[:3] == ["_row_id", "gopher_dup_line_fraction", "gopher_dup_line_char_fraction"]
    assert len(result.scores.columns) == 14


def test_runs_fused_inside_a_sequential():
    texts = ["the of", "these words " * 30, ngram_page(2, 1, 60)]
    df = pl.DataFrame({"_row_id": ["short", "repeats", "fine"], "text": texts})
    stage = Sequential(GopherQualityFilter(min_words=50, min_stop_words=0), GopherRepetitionFilter())
    result = stage.run([df])
    assert result.kept["_row_id"].to_list() == ["fine"]
    assert dict(result.rejected.select("_row_id", "_reject_rule").iter_rows()) == {
        "short": "gopher_too_few_words",
        "repeats": "gopher_top_2gram",
    }
    # Fused with the quality rules in one pass: every row is scored, and the prepared statistics do not leak.
    assert result.scores.filter(pl.col("_row_id") == "short")["gopher_top_2gram_char_fraction"].to_list() == [0.0]
    assert "_gopher_repetition" not in result.kept.columns + result.rejected.columns


def test_thresholds_are_parameters():
    page = ngram_page(2, 5, 50)  # top 2-gram at 0.20
    assert judge([page], "gopher_top_2gram_char_fraction", max_top_2gram_char_fraction=0.19) == {
        "r0": ("gopher_top_2gram", 0.2)
    }
