from __future__ import annotations

import operator
import re
from functools import reduce

import polars as pl
from pydantic import Field, field_validator, model_validator

from operators.base import Filter, Read, Rule
from operators.registry import register
from operators.text.features import unix_lines

_ELLIPSIS = r"\.\.\.|…"


@register("gopher_quality")
class GopherQualityFilter(Filter):
    """Gopher's quality filters: reject pages too short or long, with odd words, symbols, lists or no English.

    Source: Rae et al. 2021, "Scaling Language Models: Methods, Analysis & Insights from Training Gopher",
    Appendix A.1.1 (MassiveWeb, quality filtering). Words are whitespace-separated (punctuation stays attached);
    lines are the non-blank lines, stripped. Rejections, in this order (the first failing one is reported), each
    scored with the measured value:

    * ``gopher_too_few_words`` / ``gopher_too_many_words``: the page must have between ``min_words`` (50) and
      ``max_words`` (100,000) words, both inclusive. Score: the word count.
    * ``gopher_mean_word_length_out_of_range``: the mean word length (characters) must lie between
      ``min_mean_word_length`` (3) and ``max_mean_word_length`` (10), inclusive: gibberish or concatenated tokens.
    * ``gopher_hash_ratio`` / ``gopher_ellipsis_ratio``: occurrences of ``#``, and of ``...`` or ``…``, per word
      must be at most ``max_hash_ratio`` / ``max_ellipsis_ratio`` (0.1): tag clouds and truncated teasers.
    * ``gopher_bullet_lines``: at most ``max_bullet_line_fraction`` (0.9) of lines may start with one of
      ``bullets``: a page that is only a list.
    * ``gopher_ellipsis_lines``: at most ``max_ellipsis_line_fraction`` (0.3) of lines may end with an ellipsis.
    * ``gopher_alpha_words``: at least ``min_alpha_word_fraction`` (0.8) of words must contain a letter (any
      script): numbers, symbols and markup are not prose.
    * ``gopher_stop_words``: the page must contain at least ``min_stop_words`` (2) different words of
      ``stop_words`` ("the", "be", "to", "of", "and", "that", "have", "with"), matched case-insensitively as whole
      words: ostensibly English pages without coherent English text. Score: how many different ones it has.

    A blank page has no ratios (0 / 0 is NaN) and fails ``gopher_too_few_words`` first. The measures are regex
    counts over the text rather than operations on a word list, so that a fused ``Sequential`` computes each once
    (see :mod:`operators.text.features`); the word count is the same expression as ``word_count``'s.

    Differences from datatrove's ``GopherQualityFilter``, where we follow the paper: it counts tokenizer words
    (spaCy's for English in datatrove 0.10, NLTK's before), punctuation split off, and for the word count and mean
    length only tokens that are not all punctuation; the paper does not define a word and we count
    whitespace-separated ones. Its letter-word, ``#`` and ellipsis ratios divide by all its tokens, punctuation
    included, although its word count leaves punctuation out. Its stop-word rule counts two different stop words,
    as we read the paper's "at least two of the following English words", but case-sensitively over its tokens;
    we match case-insensitively as whole words. It counts
    blank lines in the line ratios and treats only ``•`` and ``-`` as bullets; we skip blank lines (a
    blank-line-separated list is still a list) and take the configurable ``bullets``. Its letter test is Python's
    ``isalpha``, the same as our Unicode letter class.
    """

    min_words: int = Field(50, ge=0, description="Fewest words a kept page may have (inclusive); Gopher used 50")
    max_words: int = Field(100_000, ge=1, description="Most words a kept page may have (inclusive); Gopher: 100,000")
    min_mean_word_length: float = Field(3, ge=0, description="Shortest mean word length kept (inclusive); Gopher: 3")
    max_mean_word_length: float = Field(10, ge=0, description="Longest mean word length kept (inclusive); Gopher: 10")
    max_hash_ratio: float = Field(0.1, ge=0, description="Most '#' per word a kept page may have; Gopher: 0.1")
    max_ellipsis_ratio: float = Field(
        0.1, ge=0, description="Most ellipses ('...' or '…') per word a kept page may have; Gopher: 0.1"
    )
    max_bullet_line_fraction: float = Field(
        0.9,
        ge=0,
        le=1,
        description="Largest fraction of lines starting with a bullet a kept page may have; Gopher: 0.9",
    )
    max_ellipsis_line_fraction: float = Field(
        0.3,
        ge=0,
        le=1,
        description="Largest fraction of lines ending with an ellipsis a kept page may have; Gopher: 0.3",
    )
    min_alpha_word_fraction: float = Field(
        0.8, ge=0, le=1, description="Smallest fraction of words containing a letter a kept page may have; Gopher: 0.8"
    )
    min_stop_words: int = Field(2, ge=0, description="Fewest different stop words a kept page must contain; Gopher: 2")
    stop_words: tuple[str, ...] = Field(
        ("the", "be", "to", "of", "and", "that", "have", "with"),
        description="The stop words (Gopher's eight), matched case-insensitively as whole words",
    )
    bullets: tuple[str, ...] = Field(
        ("•", "‣", "◦", "▪", "●", "○", "■", "□", "➢", "-", "*"),
        description="Characters or strings that mark a line (after leading whitespace) as a bullet point",
    )

    @field_validator("stop_words")
    @classmethod
    def _stop_words_are_words(cls, stop_words: tuple[str, ...]) -> tuple[str, ...]:
        if not stop_words or any(not re.fullmatch(r"\w+", word) for word in stop_words):
            raise ValueError("stop_words must be a non-empty list of single words (letters, digits or '_')")
        return stop_words

    @field_validator("bullets")
    @classmethod
    def _bullets_not_blank(cls, bullets: tuple[str, ...]) -> tuple[str, ...]:
        if not bullets or any(not bullet.strip() for bullet in bullets):
            raise ValueError("bullets must be a non-empty list of non-blank strings")
        return bullets

    @model_validator(mode="after")
    def _bounds_ordered(self) -> GopherQualityFilter:
        if self.min_words > self.max_words:
            raise ValueError(f"min_words ({self.min_words}) is greater than max_words ({self.max_words})")
        if self.min_mean_word_length > self.max_mean_word_length:
            raise ValueError(
                f"min_mean_word_length ({self.min_mean_word_length}) is greater than "
                f"max_mean_word_length ({self.max_mean_word_length})"
            )
        return self

    def rules(self, *, input_key: Read = "text") -> dict[str, Rule]:
        text = pl.col(input_key)
        page = unix_lines(text)
        word_count = text.str.count_matches(r"\S+")  # the same expression as WordCountFilter's: computed once
        line_count = page.str.count_matches(r"(?m)^[^\S\n]*\S")
        bullet = "|".join(re.escape(b) for b in self.bullets)
        lowercase = text.str.to_lowercase()

        count = word_count.alias("gopher_word_count")
        word_chars = text.str.len_chars() - text.str.count_matches(r"\s")
        mean_length = (word_chars / word_count).alias("gopher_mean_word_length")
        hashes = (text.str.count_matches("#", literal=True) / word_count).alias("gopher_hash_ratio")
        ellipses = (text.str.count_matches(_ELLIPSIS) / word_count).alias("gopher_ellipsis_ratio")
        bullet_lines = page.str.count_matches(rf"(?m)^[^\S\n]*(?:{bullet})") / line_count
        ellipsis_lines = page.str.count_matches(rf"(?m)(?:{_ELLIPSIS})[^\S\n]*$") / line_count
        # a word with a letter matches once, from its first character; a word without letters never matches
        alpha_words = (text.str.count_matches(r"\S*\p{L}\S*") / word_count).alias("gopher_alpha_word_fraction")
        stop_words = reduce(
            operator.add,
            [lowercase.str.contains(rf"\b{re.escape(word.lower())}\b").cast(pl.UInt32) for word in self.stop_words],
        ).alias("gopher_stop_word_count")
        bullet_lines = bullet_lines.alias("gopher_bullet_line_fraction")
        ellipsis_lines = ellipsis_lines.alias("gopher_ellipsis_line_fraction")
        return {
            "gopher_too_few_words": Rule(score=count, keep=count >= self.min_words),
            "gopher_too_many_words": Rule(score=count, keep=count <= self.max_words),
            "gopher_mean_word_length_out_of_range": Rule(
                score=mean_length, keep=mean_length.is_between(self.min_mean_word_length, self.max_mean_word_length)
            ),
            "gopher_hash_ratio": Rule(score=hashes, keep=hashes <= self.max_hash_ratio),
            "gopher_ellipsis_ratio": Rule(score=ellipses, keep=ellipses <= self.max_ellipsis_ratio),
            "gopher_bullet_lines": Rule(score=bullet_lines, keep=bullet_lines <= self.max_bullet_line_fraction),
            "gopher_ellipsis_lines": Rule(score=ellipsis_lines, keep=ellipsis_lines <= self.max_ellipsis_line_fraction),
            "gopher_alpha_words": Rule(score=alpha_words, keep=alpha_words >= self.min_alpha_word_fraction),
            "gopher_stop_words": Rule(score=stop_words, keep=stop_words >= self.min_stop_words),
        }
