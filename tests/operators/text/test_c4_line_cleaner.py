"""C4LineCleanerRefiner: input pages and the cleaned text written out, line by line."""

import polars as pl
import pytest

from operators.text.refine.c4_line_cleaner import C4LineCleanerRefiner


def clean(texts: list[str | None], **params: object) -> list[tuple[str | None, int | None]]:
    df = pl.DataFrame({"text": texts}, schema={"text": pl.String})
    kept = C4LineCleanerRefiner(**params).run(df).kept
    return list(zip(kept["text"], kept["c4_lines_removed"], strict=True))


def test_each_line_rule_on_one_page():
    page = "\n".join(
        [
            "  The museum opens at nine every day.  ",  # kept, stripped
            "Home",  # no terminal punctuation
            "",  # blank: dropped, not counted
            "Four words only here.",  # 4 words < 5
            "Exactly five words are here.",  # 5 words: kept (boundary)
            "Please enable JavaScript to see the comments.",  # "javascript", any case
            "This site uses cookies to track your visits.",  # policy phrase
            "Read the full story on our site...",  # ends in an ellipsis
            "The river floods every spring, locals say.[1]",  # citation removed, then kept
            'She said it was "over"',  # a closing quotation mark is terminal
            "Is this the last line of the page?",
        ]
    )
    expected = (
        "The museum opens at nine every day.\n"
        "Exactly five words are here.\n"
        "The river floods every spring, locals say.\n"
        'She said it was "over"\n'
        "Is this the last line of the page?"
    )
    assert clean([page]) == [(expected, 5)]


@pytest.mark.parametrize(
    "phrase", ["terms of use", "Privacy Policy", "cookie policy", "uses cookies", "use of cookies", "use cookies"]
)
def test_policy_lines_are_dropped(phrase: str):
    page = f"Please read the {phrase} of this website first.\nThis sentence has nothing to hide at all."
    assert clean([page]) == [("This sentence has nothing to hide at all.", 1)]


def test_terminal_marks_and_ellipsis():
    page = "\n".join(
        [
            "Does this line end in a question?",
            "This line ends with an exclamation mark!",
            "This line ends with a colon, so it goes:",
            "This line trails off into four dots....",
            "This line ends with a single quote, 'no'",
        ]
    )
    assert clean([page]) == [("Does this line end in a question?\nThis line ends with an exclamation mark!", 3)]


def test_other_line_breaks_split_lines_too():
    page = "First line has five words.\r\nSecond line has five words!\u2028too short.\rThird line, also five words."
    assert clean([page]) == [
        ("First line has five words.\nSecond line has five words!\nThird line, also five words.", 1)
    ]


def test_citation_markers_and_their_option():
    page = "Rivers flood in spring, it says.[12]\n[citation needed]\nThe dam was built in 1950 [edit]."
    assert clean([page]) == [("Rivers flood in spring, it says.\nThe dam was built in 1950 .", 1)]
    # Without citation removal the first line ends in "]" and is dropped; "[citation needed]" too.
    assert clean([page], remove_citations=False) == [("The dam was built in 1950 [edit].", 2)]


def test_min_words_per_line_is_inclusive():
    page = "Three words here.\nOnly two.\nOne."
    assert clean([page], min_words_per_line=3) == [("Three words here.", 2)]
    assert clean([page], min_words_per_line=1) == [("Three words here.\nOnly two.\nOne.", 0)]


def test_null_empty_and_fully_removed_pages():
    assert clean([None, "", "\n \n", "Home\nAbout"]) == [(None, None), ("", 0), ("", 0), ("", 2)]


def test_output_keys_leave_the_input_alone():
    df = pl.DataFrame({"raw": ["Menu\nThe garden is open all year round."]})
    kept = C4LineCleanerRefiner().run(df, input_key="raw", output_key="clean", removed_lines_key="dropped").kept
    assert kept.row(0, named=True) == {
        "raw": "Menu\nThe garden is open all year round.",
        "clean": "The garden is open all year round.",
        "dropped": 1,
    }


def test_lines_carrying_page_evidence_stay_for_the_page_rules():
    """clean_page looks for "lorem ipsum" before dropping a "javascript" line and for "{" before dropping a policy
    line: such a line stays, so that C4QualityFilter after the cleaner rejects the page as the reference does."""
    lorem_on_javascript = "Enable JavaScript to read the lorem ipsum text.\nThe river is wide and deep."
    curly_on_policy = "Our privacy policy is at {site} for you.\nThis site uses cookies to track you."
    curly_on_javascript = "Enable JavaScript to see {comments} below.\nThe river is wide and deep."
    assert clean([lorem_on_javascript, curly_on_policy, curly_on_javascript]) == [
        (lorem_on_javascript, 0),  # "lorem ipsum" is looked for before "javascript" lines are dropped
        ("Our privacy policy is at {site} for you.", 1),  # "{" is looked for before policy lines are dropped
        ("The river is wide and deep.", 1),  # "javascript" drops the line before "{" is looked at
    ]


def test_evidence_on_a_line_failing_punctuation_or_length_is_never_seen():
    page = "Lorem ipsum dolor sit.\nUse {braces} here\nThe river is wide and deep."  # 4 words; no end mark
    assert clean([page]) == [("The river is wide and deep.", 2)]
