from __future__ import annotations

import re

import polars as pl
from pydantic import Field, field_validator

from operators.base import Filter, Read, Rule
from operators.registry import register

_SENTENCE_END = r"""(?m)[.!?]+["'\x{201D}\x{2019})\]]*(?:\s|$)|"$"""
"""A run of ``.``/``!``/``?`` (closing quotes or brackets may follow) before whitespace or the end of the text, or
a ``"`` ending a line (C4 counts a closing quotation mark as terminal punctuation)."""


@register("c4_quality")
class C4QualityFilter(Filter):
    """C4's page-level rules: reject placeholder text, code, too few sentences and (optionally) bad words.

    Source: Raffel et al. 2020, "Exploring the Limits of Transfer Learning with a Unified Text-to-Text
    Transformer" (T5), section 2.2. Rejections, in this order (the first failing one is reported):

    * ``c4_lorem_ipsum``: the page contains "lorem ipsum" (any case): placeholder text. Score: occurrences.
    * ``c4_curly_bracket``: the page contains ``{``, which "appears in many programming languages ... but not in
      natural text", so the page probably holds code. Score: number of ``{``.
    * ``c4_bad_words``: the page contains a word of ``bad_words``, matched case-insensitively as a whole word
      (no letter or digit glued to either side). Score: occurrences; detail: the first one found. C4 used the
      "List of Dirty, Naughty, Obscene or Otherwise Bad Words" (LDNOOBW), which is downloaded from GitHub and so
      not bundled here: pass its entries to enable the rule; with the default empty list the rule is absent.
    * ``c4_too_few_sentences``: fewer than ``min_sentences`` sentences (paper: 3). Score: the sentence count.
      A sentence ends at a run of ``.``, ``!`` or ``?`` (closing quotes or brackets may follow) before
      whitespace or the end of the text, or at a ``"`` ending a line. This is a count of end marks, not the
      sentence splitter TFDS (NLTK's Punkt) and datatrove 0.10 (spaCy's sentencizer) run, so an abbreviation such
      as "Dr. Smith" counts as an end (the count errs high, i.e. lenient).

    Run it after :class:`~operators.text.refine.c4_line_cleaner.C4LineCleanerRefiner`, as C4 did: sentences are then
    counted over the kept lines, and the other rules see the lines the reference code (TFDS ``clean_page``) checks
    them on: those that survived the punctuation and length rules, including a "javascript" or policy line that
    holds "lorem ipsum" and a policy line that holds ``{`` (``clean_page`` looks for lorem ipsum before dropping
    "javascript" lines and for ``{`` before dropping policy lines; the cleaner keeps such lines for this filter).
    Run it before the cleaner to apply the rules to the raw page, the literal reading of the paper's "any page
    that contained".

    Differences from datatrove's ``C4QualityFilter``: it requires 5 sentences per page and 3 words per line; the
    paper (and TFDS) say 3 sentences and 5 words, which we follow. Its bad-words rule is a separate
    ``C4BadWordsFilter``. TFDS's bad-word regex needs a non-letter on both sides of the word, so it misses a word
    at the very start or end of a line; the paper says "any word on the list", so we match there too.
    """

    min_sentences: int = Field(3, ge=0, description="Fewest sentences a kept page may have (inclusive); C4 used 3")
    bad_words: tuple[str, ...] = Field(
        (),
        description="Words or phrases that reject a page (C4 used the LDNOOBW list); empty: no bad-word rule",
    )

    @field_validator("bad_words")
    @classmethod
    def _words_not_blank(cls, words: tuple[str, ...]) -> tuple[str, ...]:
        if any(not word.strip() for word in words):
            raise ValueError("bad_words must not contain blank entries: they would match every page")
        return words

    def rules(self, *, input_key: Read = "text") -> dict[str, Rule]:
        text = pl.col(input_key)
        lorem = text.str.count_matches("(?i)lorem ipsum").alias("c4_lorem_ipsum_count")
        curly = text.str.count_matches("{", literal=True).alias("c4_curly_bracket_count")
        sentences = text.str.count_matches(_SENTENCE_END).alias("c4_sentence_count")
        rules = {
            "c4_lorem_ipsum": Rule(score=lorem, keep=lorem == 0),
            "c4_curly_bracket": Rule(score=curly, keep=curly == 0),
        }
        if self.bad_words:
            pattern = _whole_words_pattern(self.bad_words)
            hits = text.str.count_matches(pattern).alias("c4_bad_word_count")
            rules["c4_bad_words"] = Rule(score=hits, keep=hits == 0, detail=text.str.extract(pattern, 0))
        rules["c4_too_few_sentences"] = Rule(score=sentences, keep=sentences >= self.min_sentences)
        return rules


def _whole_words_pattern(words: tuple[str, ...]) -> str:
    """A case-insensitive regex for any of ``words``, each with a word boundary on a side that starts or ends with
    a letter or digit (``\\b`` next to punctuation, as in "a$$", would demand a letter beyond it)."""
    alternatives = [
        rf"{_boundary(word[0])}{re.escape(word)}{_boundary(word[-1])}"
        for word in sorted({w.strip() for w in words}, key=len, reverse=True)
    ]
    return f"(?i)({'|'.join(alternatives)})"


def _boundary(char: str) -> str:
    return r"\b" if char.isalnum() or char == "_" else ""
