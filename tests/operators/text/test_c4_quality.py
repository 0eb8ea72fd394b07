"""C4QualityFilter: pages that trigger each page-level rule and pages that do not, reasons and scores written out."""

import polars as pl
import pytest

from operators.errors import OperatorParameterError
from operators.text.filter.c4_quality import C4QualityFilter

THREE_SENTENCES = "The river is wide. It floods in spring! Do the farmers mind?"


def judge(op: C4QualityFilter, texts: list[str | None]) -> tuple[list[str], dict[str, tuple[str, float | None]]]:
    """Kept row ids and ``{row id: (reason, score)}`` of the rejected rows."""
    df = pl.DataFrame(
        {"_row_id": [f"r{i}" for i in range(len(texts))], "text": texts}, schema_overrides={"text": pl.String}
    )
    result = op.run(df)
    rejected = {r["_row_id"]: (r["_reject_rule"], r["_reject_score"]) for r in result.rejected.iter_rows(named=True)}
    return result.kept["_row_id"].to_list(), rejected


def test_lorem_ipsum_in_any_case_rejects():
    kept, rejected = judge(
        C4QualityFilter(),
        [
            f"Lorem Ipsum dolor sit amet. {THREE_SENTENCES} lorem ipsum again.",
            f"Lorem and ipsum apart are fine. {THREE_SENTENCES}",
        ],
    )
    assert kept == ["r1"]
    assert rejected == {"r0": ("c4_lorem_ipsum", 2.0)}


def test_curly_bracket_rejects():
    kept, rejected = judge(
        C4QualityFilter(),
        [f"var x = {{a: 1}}; {{ {THREE_SENTENCES}", f"Round (and square [brackets]) pass. {THREE_SENTENCES}"],
    )
    assert kept == ["r1"]
    assert rejected == {"r0": ("c4_curly_bracket", 2.0)}


def test_three_sentences_is_the_inclusive_minimum():
    kept, rejected = judge(
        C4QualityFilter(),
        ["The river is wide. It floods in spring!", THREE_SENTENCES, "No end mark at all", None],
    )
    assert kept == ["r1"]
    assert rejected == {
        "r0": ("c4_too_few_sentences", 2.0),
        "r2": ("c4_too_few_sentences", 0.0),
        "r3": ("c4_lorem_ipsum", None),  # a null page cannot be judged: rejected by the first rule
    }
    kept, rejected = judge(C4QualityFilter(min_sentences=2), ["The river is wide. It floods in spring!"])
    assert (kept, rejected) == (["r0"], {})


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("One. Two! Three?", 3),
        ('He said "stop." Then he left.', 2),  # closing quote after the period
        ('He said "stop"\nThe next line.', 2),  # a quotation mark ending a line ends a sentence (C4's end marks)
        ("Wait... what?", 2),  # a run of marks is one end
        ("Dr. Smith came.", 2),  # no abbreviation list: counts high
        ("Version 1.2.3 is out", 0),  # marks inside a token are not ends
    ],
)
def test_sentence_count(text: str, sentences: int):
    scores = C4QualityFilter().run(pl.DataFrame({"text": [text]})).scores
    assert scores["c4_sentence_count"].to_list() == [float(sentences)]


def test_bad_words_are_absent_by_default():
    result = C4QualityFilter().run(pl.DataFrame({"text": [THREE_SENTENCES]}))
    assert result.scores.columns == ["c4_lorem_ipsum_count", "c4_curly_bracket_count", "c4_sentence_count"]


def test_bad_words_match_whole_words_in_any_case():
    op = C4QualityFilter(bad_words=("damn", "hell no", "a$$"))
    df = pl.DataFrame(
        {
            "_row_id": ["r0", "r1", "r2", "r3"],
            "text": [
                f"Damn. {THREE_SENTENCES}",  # first word of the page, capitalised
                f"{THREE_SENTENCES} Hell no, said the a$$.",  # a phrase, and a word ending in symbols
                f"The damned hellhole, goddamn. {THREE_SENTENCES}",  # only inside longer words
                f"Is the lorem ipsum damn {{? {THREE_SENTENCES}",  # earlier rules report first
            ],
        }
    )
    result = op.run(df)
    assert result.kept["_row_id"].to_list() == ["r2"]
    assert result.rejected.select("_row_id", "_reject_rule", "_reject_score").rows() == [
        ("r0", "c4_bad_words", 1.0),
        ("r1", "c4_bad_words", 2.0),
        ("r3", "c4_lorem_ipsum", 1.0),
    ]
    assert result.rejected["_reject_detail"][:2].to_list() == ["Damn", "Hell no"]  # the first bad word found


def test_blank_bad_word_is_refused():
    with pytest.raises(OperatorParameterError, match="blank"):
        C4QualityFilter(bad_words=("ok", " "))
