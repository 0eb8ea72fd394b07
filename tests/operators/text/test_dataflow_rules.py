"""DataFlow's pre-training rules: per rule a text it rejects and one it keeps, at the bounds DataFlow's code uses.

The expected decisions are those of DataFlow's own filters (open-dataflow 1.0.13), including their oddities.
"""

import re
import unicodedata

import polars as pl
import pytest

from operators import Filter, Sequential
from operators.errors import OperatorParameterError
from operators.registry import get_operator
from operators.text.filter import dataflow
from operators.text.filter.dataflow import (
    BlocklistFilter,
    CapitalWordsFilter,
    CharNumberFilter,
    ColonEndFilter,
    ContentNullFilter,
    CurlyBracketFilter,
    HtmlEntityFilter,
    LineEndWithEllipsisFilter,
    LineStartWithBulletpointFilter,
    LineWithJavascriptFilter,
    LoremIpsumFilter,
    MeanWordLengthFilter,
    NoPuncFilter,
    SentenceNumberFilter,
    SpecialCharacterFilter,
    SymbolWordRatioFilter,
    UniqueWordsFilter,
    WatermarkFilter,
    WordNumberFilter,
)
from operators.text.filter.dataflow._text import PYTHON_WHITESPACE, WHITESPACE, WORD
from tests.support import frame


def words(count: int, word: str = "word") -> str:
    return " ".join([word] * count)


def lines(*texts: str) -> str:
    return "\n".join(texts)


def case(op: Filter, text: str | None, score: float | None, kept: bool, name: str):
    """One text for one rule: the score DataFlow's rule measures and whether DataFlow keeps the text."""
    return pytest.param(op, text, score, kept, id=f"{op.name.removeprefix('dataflow_')}-{name}")


CASES = [
    case(ColonEndFilter(), "Ingredients:", 1, False, "rejects-final-colon"),
    case(ColonEndFilter(), "Ingredients: ", 0, True, "no-strip"),
    case(ColonEndFilter(), "Ingredients\uff1a", 0, True, "ascii-colon-only"),
    case(SentenceNumberFilter(), "One. Two. Three.", 3, True, "min-inclusive"),
    case(SentenceNumberFilter(), "Mr. Smith left. -- . Fine", 3, True, "symbol-run-no-count"),
    case(SentenceNumberFilter(), "One. Two.", 2, False, "too-few"),
    case(SentenceNumberFilter(max_sentences=3), "a. b! c?", 3, True, "max-inclusive"),
    case(SentenceNumberFilter(max_sentences=3), "a. b! c?\nd", 4, False, "too-many"),
    case(LineEndWithEllipsisFilter(), lines("a...", *"bcdefghij"), 0.1, True, "few"),
    case(LineEndWithEllipsisFilter(), lines("a...", "b…", "c...", *"defghij"), 0.3, False, "exclusive"),
    case(LineEndWithEllipsisFilter(), "a … \t\n\n   \nb", 0.5, False, "blank-lines-skipped"),
    case(LineEndWithEllipsisFilter(), " \n ", None, False, "no-lines"),
    case(ContentNullFilter(), "x", 1, True, "keeps-text"),
    case(ContentNullFilter(), " \t\n\x1c\x1f", 0, False, "python-whitespace"),
    case(ContentNullFilter(), None, None, False, "null"),
    case(MeanWordLengthFilter(), "aaa bb", 2.5, False, "short"),
    case(MeanWordLengthFilter(), words(199, "abc") + " ab", 3.0, True, "2.995-rounds-up"),
    case(MeanWordLengthFilter(), words(199, "a" * 10) + " " + "a" * 9, 9.99, True, "9.995"),
    case(MeanWordLengthFilter(), words(249, "a" * 10) + " " + "a" * 9, 10.0, False, "max-excl"),
    case(MeanWordLengthFilter(), words(5, "abc"), 3.0, True, "min-inclusive"),
    case(SymbolWordRatioFilter(), "wait... what", 1 / 3, True, "punct-tokens"),
    case(SymbolWordRatioFilter(), "# # a b c", 0.4, False, "exclusive"),
    case(SymbolWordRatioFilter(), "#a #b", 0.5, False, "hashtags"),
    case(SymbolWordRatioFilter(), "e\u0301... x", 1 / 3, True, "mark-in-word"),
    case(HtmlEntityFilter(), "Tom &amp; Jerry", 1, False, "entity"),
    case(HtmlEntityFilter(), "an &ample supply", 1, False, "no-semicolon-needed"),
    case(HtmlEntityFilter(), "fish \uff06lt\uff1b chips", 1, False, "full-width"),
    case(HtmlEntityFilter(), "&AMP; &#39; R&D", 0, True, "case-sensitive"),
    case(NoPuncFilter(), words(112), 112, True, "inclusive"),
    case(NoPuncFilter(), words(113), 113, False, "too-long"),
    case(NoPuncFilter(), words(60) + ", " + words(53), 60, True, "comma-splits"),
    case(NoPuncFilter(), words(60) + ": " + words(53), 113, False, "colon-does-not"),
    case(NoPuncFilter(), " \t ", 0, True, "whitespace-kept"),
    case(SpecialCharacterFilter(), "see u200e here", 1, False, "written-u200e"),
    case(SpecialCharacterFilter(), "a\u200eb", 0, True, "real-mark-passes"),
    case(SpecialCharacterFilter(), "bad \ufffd char", 1, False, "replacement-char"),
    case(SpecialCharacterFilter(), "code U+26:= here", 1, False, "range-quirk"),
    case(SpecialCharacterFilter(), "sunny \u2600 day", 0, True, "real-emoji-passes"),
    case(WatermarkFilter(), "Copyrighted work, Confidential", 2, False, "found"),
    case(WatermarkFilter(), "copyright CONFIDENTIAL", 0, True, "case-sensitive"),
    case(WatermarkFilter(watermarks=("(?i)draft",)), "DRAFT", 1, False, "entries-are-regexes"),
    case(CurlyBracketFilter(), "{" + "a" * 39, 0.025, False, "exclusive"),
    case(CurlyBracketFilter(), "{" + "a" * 40, 1 / 41, True, "below"),
    case(CapitalWordsFilter(), "I went to the shop", 0.2, True, "inclusive"),
    case(CapitalWordsFilter(), "NASA and the ESA agree on a plan", 0.25, False, "too-many"),
    case(CapitalWordsFilter(), "COVID-19 data 2024 42", 0.25, False, "digits-not-upper"),
    case(CapitalWordsFilter(), "   ", 0.0, True, "no-words-kept"),
    case(LoremIpsumFilter(), "Lorem Ipsum dolor sit amet", 1 / 26, False, "found"),
    case(LoremIpsumFilter(), "lorem  ipsum", 0.0, True, "one-space-only"),
    case(LoremIpsumFilter(threshold=0.05), "lorem ipsum 12345678", 0.05, True, "inclusive"),
    case(UniqueWordsFilter(), words(10, "spam"), 0.1, False, "exclusive"),
    case(UniqueWordsFilter(), words(9, "spam") + " eggs", 0.2, True, "above"),
    case(UniqueWordsFilter(), "End end END.", 2 / 3, True, "lowercase-keeps-punct"),
    case(CharNumberFilter(), "a" * 100, 100, True, "inclusive"),
    case(CharNumberFilter(), " a" * 99 + "\n\t ", 99, False, "spaces-removed"),
    case(CharNumberFilter(), "a" * 49 + "\u3000\r" + "a" * 49, 100, True, "other-spaces-count"),
    case(LineStartWithBulletpointFilter(), lines(*["\u2022 x"] * 9, "x"), 0.9, True, "inclusive"),
    case(LineStartWithBulletpointFilter(), lines("  \u2022 a", "\u2013 b"), 1.0, False, "all"),
    case(LineStartWithBulletpointFilter(), lines("- a", "* b"), 0.0, True, "ascii-not-bullets"),
    case(LineWithJavascriptFilter(), lines(*["javascript"] * 3), 0, True, "three-lines-kept"),
    case(LineWithJavascriptFilter(), lines("a", "b", "javascript", "JS: JavaScript"), 2, False, "few-clean"),
    case(LineWithJavascriptFilter(), lines("a", "b", "c", "Enable Java-Script"), 3, True, "inclusive"),
    case(LineWithJavascriptFilter(), lines("a", "b", "java.script", "javascrip\u0163"), 2, False, "normalized"),
    case(LineWithJavascriptFilter(), lines("a", "---", "...", "java script"), 2, True, "punct-lines"),
    case(BlocklistFilter(), "this is anal", 1, True, "inclusive"),
    case(BlocklistFilter(), "Anal ANUS", 2, False, "lowercased"),
    case(BlocklistFilter(), "anal, anus.", 0, True, "punctuation-kept-on-words"),
    case(BlocklistFilter(threshold=0), "2 girls 1 cup", 0, True, "phrases-never-match"),
    case(BlocklistFilter(blocklist=(" Spam ",)), "spam SPAM eggs", 2, False, "custom-list"),
    case(WordNumberFilter(), words(20), 20, True, "min-inclusive"),
    case(WordNumberFilter(), words(19), 19, False, "too-few"),
    case(WordNumberFilter(max_words=25), words(25), 25, False, "max-exclusive"),
    case(WordNumberFilter(max_words=25), words(24), 24, True, "below-max"),
    case(WordNumberFilter(), None, 0, False, "null-is-zero-words"),
]


@pytest.mark.parametrize(("op", "text", "score", "kept"), CASES)
def test_rule_decides_and_scores_like_dataflow(op: Filter, text: str | None, score: float | None, kept: bool):
    result = op.run(frame([text]))
    (score_column,) = [c for c in result.scores.columns if c != "_row_id"]
    assert result.scores[score_column].to_list() == [pytest.approx(score) if score is not None else None]
    assert result.kept.height == int(kept)
    if not kept:
        assert result.rejected["_reject_rule"].to_list() == [op.name]
        assert result.rejected["_reject_score"].to_list() == result.scores[score_column].to_list()


RULES = [getattr(dataflow, name) for name in dataflow.__all__]
GUARDED = [cls for cls in RULES if cls not in (ContentNullFilter, WordNumberFilter)]


@pytest.mark.parametrize("op_class", GUARDED, ids=lambda cls: cls.__name__)
def test_null_and_empty_texts_are_rejected_without_a_score(op_class: type[Filter]):
    """DataFlow's ``if text:``: whatever the thresholds say about an empty text, it is rejected."""
    result = op_class().run(frame([None, ""]))
    assert result.kept.height == 0
    assert result.rejected["_reject_rule"].to_list() == [op_class.name] * 2
    assert result.rejected["_reject_score"].to_list() == [None, None]


def test_word_number_keeps_null_text_when_zero_words_are_allowed():
    assert WordNumberFilter(min_words=0).run(frame([None, ""])).kept.height == 2


def test_character_classes_are_pythons():
    """``str.isspace`` and ``re``'s ``\\w``, checked on every character up to U+FFFF."""
    characters = [chr(code) for code in range(0x10000) if not 0xD800 <= code < 0xE000]
    assert set(PYTHON_WHITESPACE) == {c for c in characters if c.isspace()}
    series = pl.Series(characters)
    assert series.str.contains(f"^[{WHITESPACE}]$").to_list() == [c.isspace() for c in characters]
    python_word = [re.fullmatch(r"\w", c) is not None for c in characters]
    matches = series.str.contains(f"^[{WORD}]$").to_list()
    differing = [c for c, ours, theirs in zip(characters, matches, python_word, strict=True) if ours != theirs]
    assert all(unicodedata.category(c) == "Cn" for c in differing)  # newer in polars' Unicode tables than Python's


def test_every_rule_is_registered_under_its_module_name_with_the_dataflow_prefix():
    for cls in RULES:
        module = cls.__module__.rsplit(".", 1)[1]
        assert cls.name == f"dataflow_{module}"
        assert get_operator(cls.name) is cls
        assert cls.domain == "text"
        assert list(cls().rules()) == [cls.name]


def test_bounds_are_validated():
    with pytest.raises(OperatorParameterError, match="exceeds max_sentences"):
        SentenceNumberFilter(min_sentences=8, max_sentences=7)
    with pytest.raises(OperatorParameterError, match="greater than max_length"):
        MeanWordLengthFilter(min_length=5, max_length=4)
    with pytest.raises(OperatorParameterError, match="must be less than max_words"):
        WordNumberFilter(min_words=10, max_words=10)
    with pytest.raises(OperatorParameterError, match="at least 1 item"):
        WatermarkFilter(watermarks=())


def test_sequential_reports_the_first_failing_rule_and_keeps_every_score():
    good = (
        "The committee met on Monday. It reviewed the budget for the coming year, and the members agreed on most of "
        "the proposals. A final vote is planned for the next session, after the public consultation closes."
    )
    texts = [good, good + " Copyright 2024.", good + "\nSee more:", "Short text."]
    stage = Sequential(*(cls() for cls in RULES))
    result = stage.run([frame(texts)])
    assert result.kept["_row_id"].to_list() == ["r0"]
    reasons = dict(zip(result.rejected["_row_id"], result.rejected["_reject_rule"], strict=True))
    # Rules run in the stage's order (alphabetical here): char_number comes before word_number and the others.
    assert reasons == {"r1": "dataflow_watermark", "r2": "dataflow_colon_end", "r3": "dataflow_char_number"}
    assert result.scores.height == 4
    assert len(result.scores.columns) == 1 + len(RULES)
