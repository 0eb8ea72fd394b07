from __future__ import annotations

from html.entities import html5

import polars as pl

from operators.base import Read, Refiner, Write
from operators.registry import register
from operators.text.refine._rewrite_matches import rewrite_matches

_ATTRIBUTES = r"""(?:[^<>"']|"[^"<]*"|'[^'<]*')*>|[^<>]*>"""
"""The rest of a tag after its name: a ``>`` inside a quoted attribute value does not close it, and a stray quote
(``alt=don't``) falls back to the first ``>``."""


def _tag(names: str, *, closing: bool = True) -> str:
    """An opening (or, with ``closing``, also a closing) tag, any case, whose name is one of ``names``, a regex
    alternation. The boundary after the name is ASCII: a Unicode ``\\b`` keeps the regex engine off its fast
    automaton on non-ASCII text."""
    return rf"(?i)<{'/?' if closing else ''}(?:{names})(?-u:\b)(?:{_ATTRIBUTES})"


_DROPPED = (
    rf"(?s){_tag('script', closing=False)}.*?(?:</script\s*>|\z)"
    rf"|{_tag('style', closing=False)}.*?(?:</style\s*>|\z)"
    r"|<!--.*?(?:-->|\z)"
)
"""Scripts, style sheets and comments with their content; one left open runs to the end of the text."""

_BLOCK_TAG = _tag(
    "address|article|aside|blockquote|br|caption|dd|div|dl|dt|fieldset|figcaption|figure|footer|form|h[1-6]|"
    "header|hr|li|main|nav|ol|p|pre|section|table|tbody|tfoot|thead|tr|ul"
)
"""Tags that break a line in a browser: they become ``\\n`` so that paragraphs and list items stay apart."""

_CELL_TAG = _tag("td|th")
"""Table cells: they become a space so that neighbouring cells do not run together."""

_INLINE_NAMES = (
    "a|abbr|acronym|area|audio|b|base|basefont|bdi|bdo|big|blink|body|button|canvas|center|cite|code|col|colgroup|"
    "data|datalist|del|details|dfn|dialog|dir|em|embed|font|frame|frameset|head|hgroup|html|i|iframe|img|input|ins|"
    "kbd|label|legend|link|map|mark|marquee|menu|meta|meter|nobr|noframes|noscript|object|optgroup|option|output|"
    "param|picture|progress|q|rp|rt|ruby|s|samp|script|search|select|slot|small|source|span|strike|strong|style|sub|"
    "summary|sup|svg|template|textarea|time|title|track|tt|u|var|video|wbr"
)
_OTHER_TAG = (
    _tag(rf"{_INLINE_NAMES}|[a-z][a-z0-9]*-[a-z0-9-]*|[a-z][a-z0-9-]*:[a-z][a-z0-9-]*")
    + r"|(?i)<!doctype[^<>]*>|<\?xml[^<>]*>"
)
"""Every other HTML element's tags, custom elements (``<my-widget>``) and namespaced ones (Word's ``<o:p>``),
doctypes and XML declarations. Only these: ``#include <stdio.h>``, ``vector<int>`` or ``Ann <ann@x.org>`` in
code and mail are not tags."""

_ENTITY = r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});"
"""A character reference: decimal, hexadecimal or named, with its semicolon."""

_NAMED = {f"&{name}": text for name, text in html5.items() if name.endswith(";")}
"""The HTML5 named references; the legacy forms without a semicolon (``&amp``) are left alone."""

_C1_REMAP = {
    code: ord(bytes([code]).decode("cp1252"))
    for code in range(0x80, 0xA0)
    if code not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)
}
"""``&#128;``-``&#159;`` name windows-1252 characters in practice (``&#146;`` is a right single quotation mark),
and browsers decode them so."""


@register("remove_html")
class RemoveHtmlRefiner(Refiner):
    """Strip HTML markup from text: drop tags, scripts, styles and comments, and decode character references.

    Meant for text that carries stray markup (snippets, forum posts, fields of a crawl), not for raw web pages:
    it is a handful of regular expressions, not an HTML parser, and it does not extract the main content. For
    whole pages use an extractor such as trafilatura or resiliparse, which also drop menus and boilerplate.

    What it does, in order: comments and ``<script>``/``<style>`` elements go with their content; block-level tags
    (``<p>``, ``<br>``, ``<div>``, ``<li>``, headings, ...) become a newline and table cells a space, so that blocks
    stay apart; the tags of every other HTML element, of custom elements and of namespaced ones are removed, while
    angle brackets around anything else (``#include <stdio.h>``) stay; then every character reference is decoded
    in one pass (``&amp;lt;`` becomes ``&lt;``, not ``<``): the HTML5 named references, decimal and hexadecimal
    ones, ``&#128;``-``&#159;`` as windows-1252 (as browsers do), and invalid code points as U+FFFD. Whitespace is
    left as it is: follow with ``normalize_text`` to collapse the runs the removed markup leaves.

    Not handled: malformed markup (``a <b and c> d`` loses ``<b and c>``, an unterminated tag stays), SVG and
    MathML inner elements (``<path>``, ``<mi>``), CDATA sections, the raw-text content of ``<textarea>`` and
    ``<title>`` (kept as text), named references without a semicolon (``&amp``), and the whitespace collapsing a
    browser applies to inline text.
    """

    def expressions(self, *, input_key: Read = "text", output_key: Write = "text") -> dict[str, pl.Expr]:
        text = (
            pl.col(input_key)
            .str.replace_all(_DROPPED, "")
            .str.replace_all(_BLOCK_TAG, "\n")
            .str.replace_all(_CELL_TAG, " ")
            .str.replace_all(_OTHER_TAG, "")
        )
        return {output_key: rewrite_matches(text, _ENTITY, _decode_entity)}


def _decode_entity(entity: pl.Expr) -> pl.Expr:
    """The text a character reference stands for; an unknown name stays as written."""
    digits = entity.str.strip_chars("&#;")
    code_point = (
        pl.when(entity.str.to_lowercase().str.starts_with("&#x"))
        .then(digits.str.slice(1).str.to_integer(base=16, strict=False))
        .when(entity.str.starts_with("&#"))
        .then(digits.str.to_integer(strict=False))
    )
    named = entity.replace_strict(_NAMED, default=entity, return_dtype=pl.String)
    return pl.when(code_point.is_null()).then(named).otherwise(_character(code_point))


def _character(code_point: pl.Expr) -> pl.Expr:
    """The character of a code point, built from its UTF-8 bytes (polars has no ``chr``)."""
    invalid = (code_point == 0) | code_point.is_between(0xD800, 0xDFFF) | (code_point > 0x10FFFF)
    code = pl.when(invalid).then(0xFFFD).otherwise(code_point.replace(_C1_REMAP))
    length = pl.when(code < 0x80).then(1).when(code < 0x800).then(2).when(code < 0x10000).then(3).otherwise(4)
    lead_mark = pl.when(length == 1).then(0).when(length == 2).then(0xC0).when(length == 3).then(0xE0).otherwise(0xF0)
    lead = lead_mark + code // 64 ** (length - 1)
    continuation = [pl.when(length > k).then(0x80 + code // 64 ** (k - 1) % 64) for k in (3, 2, 1)]
    utf8 = pl.concat_list(lead, *continuation).list.drop_nulls().cast(pl.List(pl.UInt8)).cast(pl.Binary)
    return utf8.cast(pl.String)
