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

_BOILERPLATE = (
    "javascript",
    "terms of use",
    "privacy policy",
    "cookie policy",
    "uses cookies",
    "use of cookies",
    "use cookies",
)
"""Phrases whose line is dropped: the "enable Javascript" notices and the policy strings of the paper."""


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
    3 sentences) are :class:`~operators.text.filter.c4_quality.C4QualityFilter`'s job. Not done here: the reference
    code also drops lines holding a word over 1000 characters, which the paper does not mention. Citation
    markers are removed before the line is stripped, so "Text. [1]" keeps its terminal period (the reference
    code strips first and would drop that line).

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
        cleaned = lines.str.replace_all(_dropped_line_pattern(self.min_words_per_line), "").str.strip_chars_end("\n")
        removed = text.str.count_matches(_NON_BLANK_LINE) - cleaned.str.count_matches(_NON_BLANK_LINE)
        return {output_key: cleaned, removed_lines_key: removed}


def _dropped_line_pattern(min_words: int) -> str:
    """A whole (already stripped) line that C4 drops, with its line break. Each alternative is one of the rules,
    so one regex pass over the page removes every dropped line without splitting it into a list."""
    dropped = [
        r'|.*[^.?!"\n]',  # blank, or not ending in a terminal mark: . ? ! or a closing (ASCII) quotation mark
        r".*\.\.\.",  # ending in an ellipsis
        rf"(?i:.*(?:{'|'.join(_BOILERPLATE)}).*)",  # a Javascript notice or a policy phrase
    ]
    if min_words > 1:
        dropped.append(rf"\S+(?:[^\S\n]+\S+){{0,{min_words - 2}}}")  # 1 to min_words - 1 words
    return rf"(?m)^(?:{'|'.join(dropped)})$\n?"
