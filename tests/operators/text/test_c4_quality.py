"""C4QualityFilter: pages that trigger each page-level rule and pages that do not, reasons and scores written out."""

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from operators.errors import OperatorParameterError
from operators.sequential import Sequential
from operators.text.filter.c4_quality import C4QualityFilter
from operators.text.refine.c4_line_cleaner import C4LineCleanerRefiner
from tests.support import frame

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


# --- after the line cleaner, as in C4: the page rules see what the reference's clean_page sees ---

PROSE = "The river is wide and deep."


def after_cleaner(pages: list[str], **params: object) -> tuple[list[str], dict[str, str]]:
    """Kept row ids and ``{row id: reason}`` of ``Sequential(C4LineCleanerRefiner(), C4QualityFilter())``."""
    stage = Sequential(C4LineCleanerRefiner(), C4QualityFilter(**params))
    result = stage.run([frame(pages)])
    rejected = (
        dict(result.rejected.select("_row_id", "_reject_rule").iter_rows()) if result.rejected is not None else {}
    )
    return result.kept["_row_id"].to_list(), rejected


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("Please enable JavaScript, lorem ipsum dolor sit.", "c4_lorem_ipsum"),  # lorem is checked first
        ("Read our privacy policy, lorem ipsum dolor sit.", "c4_lorem_ipsum"),
        ("Read our privacy policy at {site} right now.", "c4_curly_bracket"),  # "{" comes before policy
        ("Please enable JavaScript to see {comments} here.", None),  # "javascript" comes before "{"
        ("Lorem ipsum dolor sit amet.", "c4_lorem_ipsum"),  # 5 words: the line reaches the rules
        ("Lorem ipsum dolor sit.", None),  # 4 words: dropped for its length before any rule sees it
        ("Read the {terms of use} first...", None),  # an ellipsis drops it first
    ],
)
def test_page_rules_see_the_lines_the_cleaner_drops(line: str, reason: str | None):
    kept, rejected = after_cleaner([f"{THREE_SENTENCES}\n{line}\n{PROSE}"], min_sentences=0)
    assert (kept, rejected) == (([], {"r0": reason}) if reason else (["r0"], {}))


def test_lorem_ipsum_is_reported_before_a_curly_bracket_on_an_earlier_line():
    page = f"Read our privacy policy at {{site}} right now.\nEnable JavaScript for the lorem ipsum here.\n{PROSE}"
    assert after_cleaner([page], min_sentences=0) == ([], {"r0": "c4_lorem_ipsum"})


POLICY = ["terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies"]


def clean_page(page: str) -> str | None:
    """The reference's line loop (TFDS ``c4_utils.clean_page``) restated: the cleaned page, or the page rule that
    rejects it (lorem ipsum reported first, as the filter reports its first failing rule). Citations, over-long
    words, bad words and the sentence count are left out."""
    kept, curly = [], False
    for raw in page.split("\n"):
        line, lower = raw.strip(), raw.strip().lower()
        if not line.endswith((".", "?", "!", '"')) or line.endswith("...") or len(line.split()) < 5:
            continue
        if "lorem ipsum" in lower:
            return "c4_lorem_ipsum"
        if "javascript" in lower:
            continue
        curly = curly or "{" in line
        if not any(phrase in lower for phrase in POLICY):
            kept.append(line)
    return "c4_curly_bracket" if curly else "\n".join(kept)


fragments = st.sampled_from(["the river", "is wide", "JavaScript", "privacy policy", "lorem ipsum", "{", "and deep"])
lines_ = st.builds(
    lambda words, end: " ".join(words) + end, st.lists(fragments, min_size=1, max_size=4), st.sampled_from('.!"?…')
)


@settings(max_examples=40, derandomize=True, database=None, deadline=None)
@given(st.lists(st.lists(lines_ | st.sampled_from(["...", "", "  "]), max_size=5).map("\n".join), min_size=1))
def test_the_stage_decides_as_the_reference_clean_page(pages: list[str]):
    stage = Sequential(C4LineCleanerRefiner(), C4QualityFilter(min_sentences=0))
    result = stage.run([frame(pages)])
    rejected = (
        dict(result.rejected.select("_row_id", "_reject_rule").iter_rows()) if result.rejected is not None else {}
    )
    cleaned = dict(result.kept.select("_row_id", "text").iter_rows())
    for index, page in enumerate(pages):
        expected = clean_page(page)
        got = rejected.get(f"r{index}") or cleaned[f"r{index}"]
        assert got == expected, page
