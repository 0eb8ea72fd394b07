from __future__ import annotations

import polars as pl
from pydantic import Field

from operators.base import Read, Refiner, Write
from operators.registry import register

_LINE_BREAK = r"\r\n|[\r\x0b\x0c\x1c\x1d\x1e\x{85}\x{2028}\x{2029}]"
"""Every break Python's ``str.splitlines`` (used by the reference code) splits on, besides ``\\n``."""

_CITATION = r"\[\d*\]|\[edit\]|\[citation needed\]"
"""Wikipedia-style citation markers, as in the reference code's regex."""

_LINE_EDGE_SPACE = r"(?m)^[^\S\n]+|[^\S\n]+$"
"""Whitespace at the start or end of a line."""

_NON_BLANK_LINE = r"(?m)^[^\S\n]*\S"
"""The start of a line holding something other than whitespace: counting its matches counts non-blank lines."""

_JAVASCRIPT = "javascript"
"""The word whose line is dropped: the "enable Javascript" notices."""

_POLICY = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies")
"""The policy phrases of the paper whose line is dropped."""


@register("c4_line_cleaner")
class C4LineCleanerRefiner(Refiner):
    """C4's line-level cleaning: keep only the lines of a page that look like prose sentences.

    Source: Raffel et al. 2020, "Exploring the Limits of Transfer Learning with a Unified Text-to-Text
    Transformer" (T5), section 2.2, and its reference code (TFDS ``c4_utils.clean_page``). Each line is stripped
    and citation markers (``[1]``, ``[edit]``, ``[citation needed]``) are removed from it; it is then kept only if

    * it ends in a terminal punctuation mark (``.``, ``?``, ``!``, ``"``) but not in an ellipsis ``...``
      (the ellipsis exception is the reference code's: a trailing "..." marks a truncated teaser, not a sentence);
    * it has at least ``min_words_per_line`` whitespace-separated words. The paper says 5 ("only retained lines
      that contained at least 5 words"), as does TFDS; datatrove's ``C4QualityFilter`` defaults to 3 (and to 5
      sentences per page, the two numbers swapped), which we do not follow;
    * it does not contain "javascript" or a policy phrase ("terms of use", "privacy policy", "cookie policy",
      "uses cookies", "use of cookies", "use cookies"), case-insensitively.

    Kept lines are joined with ``\\n``. The page-level rules (lorem ipsum, curly bracket, bad words, fewer than
    3 sentences) are :class:`~operators.text.filter.c4_quality.C4QualityFilter`'s job, and they must see the lines
    the reference's ``clean_page`` checks them on. It takes each line that passed the punctuation and length
    rules through, in order: "lorem ipsum" rejects the page, "javascript" drops the line, ``{`` rejects the page,
    a policy phrase drops the line. So "lorem ipsum" on a line dropped for "javascript" or a policy phrase, and
    ``{`` on a line dropped for a policy phrase, still reject the page, while ``{`` on a "javascript" line goes
    with that line. This cleaner keeps such evidence lines, so that the filter after it rejects the page as the
    reference does (C4 never outputs such a page).

    Not done here: the reference code also drops lines holding a word over 1000 characters, which the paper does
    not mention. Citation markers are removed before the line is stripped, so "Text. [1]" keeps its terminal
    period (the reference code strips first and would drop that line).

    ``removed_lines_key`` receives, per row, how many non-blank lines were dropped (a line holding only a citation
    marker counts as dropped).
    """

    min_words_per_line: int = Field(5, ge=0, description="Fewest words a kept line may have (inclusive); C4 used 5")
    remove_citations: bool = Field(True, description="Remove Wikipedia-style citation markers such as [1] first")

    def expressions(
        self,
        *,
        input_key: Read = "text",
        output_key: Write = "text",
        removed_lines_key: Write = "c4_lines_removed",
    ) -> dict[str, pl.Expr]:
        text = pl.col(input_key).str.replace_all(_LINE_BREAK, "\n")
        lines = text.str.replace_all(_CITATION, "") if self.remove_citations else text
        lines = lines.str.replace_all(_LINE_EDGE_SPACE, "")
        prose = lines.str.replace_all(_not_prose_pattern(self.min_words_per_line), "")
        cleaned = prose.str.replace_all(_BOILERPLATE_LINE, "${1}${2}").str.strip_chars_end("\n")
        removed = text.str.count_matches(_NON_BLANK_LINE) - cleaned.str.count_matches(_NON_BLANK_LINE)
        return {output_key: cleaned, removed_lines_key: removed}


def _not_prose_pattern(min_words: int) -> str:
    """A whole (already stripped) line that fails C4's punctuation or length rule, with its line break. Each
    alternative is one rule, so one regex pass over the page removes every such line without a list of lines."""
    dropped = [
        r'|.*[^.?!"\n]',  # blank, or not ending in a terminal mark: . ? ! or a closing (ASCII) quotation mark
        r".*\.\.\.",  # ending in an ellipsis
    ]
    if min_words > 1:
        dropped.append(rf"\S+(?:[^\S\n]+\S+){{0,{min_words - 2}}}")  # 1 to min_words - 1 words
    return rf"(?m)^(?:{'|'.join(dropped)})$\n?"


_BOILERPLATE_LINE = (
    r"(?m)^(?:"
    r"((?i:.*lorem ipsum.*)$\n?)"
    rf"|(?i:.*{_JAVASCRIPT}.*)$\n?"
    r"|(.*\{.*$\n?)"
    rf"|(?i:.*(?:{'|'.join(_POLICY)}).*)$\n?"
    r")"
)
"""A prose line matched by the first of ``clean_page``'s remaining rules it meets, in the reference's order:
"lorem ipsum" (kept, as evidence for the page rule), "javascript" (dropped), ``{`` (kept), a policy phrase
(dropped). The kept alternatives are captured, so replacing each match with its captures removes exactly the
dropped lines. Rust's regex has no look-ahead to say "a javascript line without lorem ipsum" in a plain pass;
the captures make the cleaner about 1.25x as costly as one plain pass that drops these lines whatever they hold
(measured on 20,000 synthetic pages), which loses the evidence."""
