"""HTML, URL and emoji removal on written-out inputs with the expected text."""

import polars as pl
import pytest

from operators.general.refine.normalize_text import NormalizeTextRefiner
from operators.sequential import Sequential
from operators.text.refine.remove_emoji import RemoveEmojiRefiner
from operators.text.refine.remove_html import RemoveHtmlRefiner
from operators.text.refine.remove_urls import RemoveUrlsRefiner


def refined(op, texts: list[str | None]) -> list[str | None]:
    df = pl.DataFrame(
        {"_row_id": [f"r{i}" for i in range(len(texts))], "text": texts}, schema_overrides={"text": pl.String}
    )
    result = op.run(df).kept
    assert result["_row_id"].to_list() == df["_row_id"].to_list()
    return result["text"].to_list()


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>Hello <b>world</b>!</p><p>Bye</p>", "\nHello world!\n\nBye\n"),
        ("Line one<br>line two<BR/>three", "Line one\nline two\nthree"),
        ("<ul><li>tea</li><li>milk</li></ul>", "\n\ntea\n\nmilk\n\n"),
        ("<table><tr><td>Name</td><td>Age</td></tr></table>", "\n\n Name  Age \n\n"),
        ('<a href="https://x.org/?a=1&amp;b=2" title="a > b">link</a> after', "link after"),
        ("<img alt=don't src=x.png> stray quote", " stray quote"),
        ("<!DOCTYPE html><?xml version='1.0'?>ok <my-widget data-x='1'>custom</my-widget>", "ok custom"),
    ],
)
def test_remove_html_strips_tags_and_keeps_blocks_apart(html: str, text: str):
    assert refined(RemoveHtmlRefiner(), [html]) == [text]


def test_remove_html_drops_scripts_styles_and_comments_with_their_content():
    html = (
        "<html><head><style type='text/css'>p { color: red }</style>"
        "<SCRIPT>if (a < b) { alert('<b>hi</b>') }</SCRIPT></head>"
        "<body>Text<!-- a <p> comment --> stays</body></html>"
    )
    assert refined(RemoveHtmlRefiner(), [html, "before <script>never closed", "a <!-- open comment"]) == [
        "Text stays",
        "before ",
        "a ",
    ]


def test_remove_html_decodes_every_kind_of_character_reference_once():
    texts = [
        "Tom &amp; Jerry &lt;3 &quot;cats&quot;&nbsp;&copy; &CounterClockwiseContourIntegral;",
        "it&#39;s &#x27;hex&#X27; &#8217; &#233;t&#xE9; &#x4E2D;&#25991; &#x1F600;",
        "&amp;lt;b&amp;gt; is escaped twice, &lt;b&gt; once",
        "&#146;cp1252&#150; &#0; &#xD800; &#1114112; &bogus; &amp no semicolon",
    ]
    assert refined(RemoveHtmlRefiner(), texts) == [
        'Tom & Jerry <3 "cats"\u00a0© ∳',
        "it's 'hex' \u2019 été 中文 😀",
        "&lt;b&gt; is escaped twice, <b> once",
        "\u2019cp1252\u2013 \ufffd \ufffd \ufffd &bogus; &amp no semicolon",
    ]


def test_remove_html_leaves_plain_text_code_and_nulls_alone():
    texts = [
        "a < b and c > d, x<3",
        "#include <stdio.h>\nstd::vector<int> v; List<String> names;",
        "From: Ann <ann@example.org>",
        "plain text",
        "",
        None,
    ]
    assert refined(RemoveHtmlRefiner(), texts) == texts


def test_remove_html_removes_custom_and_namespaced_tags_but_not_a_stray_closing_script():
    texts = ["<my-widget x='1'>custom</my-widget> and Word<o:p></o:p>", "</script> the text after stays"]
    assert refined(RemoveHtmlRefiner(), texts) == ["custom and Word", " the text after stays"]


def test_remove_html_then_normalize_text_gives_clean_paragraphs():
    stage = Sequential(RemoveHtmlRefiner(), NormalizeTextRefiner())
    df = pl.DataFrame({"_row_id": ["a"], "text": ["<h1>Title</h1>\n  <p>First   para.</p>\n<p>Second</p>"]})
    assert stage(df)["text"].to_list() == ["Title\n\nFirst para.\n\nSecond"]


def test_remove_urls_keeps_trailing_punctuation():
    texts = [
        "Visit https://example.com/path?q=1&x=2#frag today.",
        "See www.example.org, or http://a.b/c).",
        "Read (https://en.wikipedia.org/wiki/Foo_(bar)) first",
        "SHOUT HTTPS://EXAMPLE.COM/UP!",
    ]
    assert refined(RemoveUrlsRefiner(), texts) == ["Visit  today.", "See , or ).", "Read () first", "SHOUT !"]


def test_remove_urls_leaves_other_schemes_bare_domains_and_words_alone():
    texts = ["no url: example.com, mailto:a@b.c, ftp://x.y", "awww.nope and xhttps://nope", "$5 only", None]
    assert refined(RemoveUrlsRefiner(), texts) == texts


def test_remove_urls_can_put_a_marker_in_place():
    texts = ["go to https://x.org/a now"]
    assert refined(RemoveUrlsRefiner(replacement="<URL>"), texts) == ["go to <URL> now"]
    assert refined(RemoveUrlsRefiner(replacement="$0 $$"), texts) == ["go to $0 $$ now"]  # no group expansion


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Great job 🎉🎉!", "Great job !"),
        ("I ❤️ NY", "I  NY"),  # heart + variation selector 16
        ("👩‍💻 coding", " coding"),  # ZWJ sequence
        ("family 👨‍👩‍👧‍👦 photo", "family  photo"),
        ("thumbs 👍🏽 up", "thumbs  up"),  # skin tone
        ("flags 🇫🇷🇩🇪 pair", "flags  pair"),  # regional indicators
        ("scotland 🏴󠁧󠁢󠁳󠁣󠁴󠁿 flag", "scotland  flag"),  # tag sequence
        ("keys 1️⃣ #️⃣ 5", "keys   5"),  # keycaps
        ("🏳️‍🌈 and ❤️‍🔥", " and "),
        ("⌚⏰⭐⭕ ☀ ✂ ✔", "   "),
        ("new 🫠🪿 emoji", "new  emoji"),
        ("😀😀😀", ""),
    ],
)
def test_remove_emoji_removes_whole_sequences(text: str, expected: str):
    assert refined(RemoveEmojiRefiner(), [text]) == [expected]


def test_remove_emoji_keeps_text_symbols_digits_and_joiners_outside_emoji():
    texts = [
        "© 2024 ACME™ ←→ # * 123",
        "क्\u200dष keeps its joiner",  # Devanagari ZWJ
        "葛\U000e0100 keeps its ideographic variation selector",
        "",
        None,
    ]
    assert refined(RemoveEmojiRefiner(), texts) == texts
    assert refined(RemoveEmojiRefiner(), ["©️ ™️ ↔️ with selector"]) == ["   with selector"]
