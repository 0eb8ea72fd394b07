from __future__ import annotations

import polars as pl
from pydantic import Field

from operators.base import Filter, Read, Rule
from operators.registry import register
from operators.text.features import lines, paragraphs, words

TOP_NGRAMS = (2, 3, 4)
DUPLICATE_NGRAMS = (5, 6, 7, 8, 9, 10)

MEASURES = {
    "gopher_dup_line_fraction": "gopher_dup_line_fraction",
    "gopher_dup_line_chars": "gopher_dup_line_char_fraction",
    "gopher_dup_para_fraction": "gopher_dup_para_fraction",
    "gopher_dup_para_chars": "gopher_dup_para_char_fraction",
    **{f"gopher_top_{n}gram": f"gopher_top_{n}gram_char_fraction" for n in TOP_NGRAMS},
    **{f"gopher_dup_{n}gram": f"gopher_dup_{n}gram_char_fraction" for n in DUPLICATE_NGRAMS},
}
"""Rejection reason -> the measure (score) it tests; its threshold is the field ``max_<measure without gopher_>``."""

_STATISTICS = "_gopher_repetition"
"""Hidden struct column holding every measure of a row while the rules run; dropped from the output."""

_BATCH_CHARS = 20_000_000
"""Characters per batch of :func:`repetition_statistics`: some 3 million words, 400 MB of word tables."""

_MULTIPLIER = 0x9E3779B97F4A7C15
"""Odd, so ``key * _MULTIPLIER + next_token`` (wrapping at 64 bits) mixes one more word into an n-gram key."""

_POSITION = pl.col("position")
"""A word's or n-gram's position among all the words of a batch, laid end to end."""

_COUNT_SHIFT = 2**32
"""Packs an n-gram's occurrence count above its character count: one maximum then picks the most frequent n-gram
and, among equally frequent ones, the longest."""


def _threshold(default: float, what: str) -> float:
    return Field(default, ge=0, description=f"Reject when {what} exceeds this; Gopher: {default}")


@register("gopher_repetition")
class GopherRepetitionFilter(Filter):
    """Gopher's repetition filters: reject pages made of repeated lines, paragraphs or word n-grams.

    Source: Rae et al. 2021, "Scaling Language Models: Methods, Analysis & Insights from Training Gopher",
    Appendix A.1.1 (MassiveWeb, repetition removal), thresholds from Table A1. Repetition marks boilerplate and
    spam, and repetitive training text teaches a model to repeat itself. A page is rejected when a measure
    exceeds its threshold (exactly at it is kept); the score is the measure:

    * ``gopher_dup_line_fraction`` (0.30) / ``gopher_dup_line_chars`` (0.20): the fraction of lines that are
      duplicates, and of line characters inside them. Lines are the non-blank lines, stripped; a line is a
      duplicate when the page holds it more than once, and every copy counts.
    * ``gopher_dup_para_fraction`` (0.30) / ``gopher_dup_para_chars`` (0.20): the same for paragraphs (runs of
      non-blank lines between blank ones).
    * ``gopher_top_{n}gram`` for n = 2, 3, 4 (0.20, 0.18, 0.16): the characters of the most frequent word n-gram
      times its number of occurrences, over the page's word characters. Only an n-gram that occurs at least
      twice counts (a page without any repeat scores 0); of equally frequent ones the longest is taken.
    * ``gopher_dup_{n}gram`` for n = 5 ... 10 (0.15, 0.14, 0.13, 0.12, 0.11, 0.10): the fraction of word
      characters covered by n-grams that occur more than once, every occurrence included, a character covered by
      several overlapping n-grams counted once.

    Words are whitespace-separated and compared exactly (case and attached punctuation included); the characters
    of an n-gram or a page are those of its words, whitespace excluded. n-grams are compared by a 64-bit hash that
    includes the row; two different n-grams of a page collide with a probability of about 2^-64.

    Differences from datatrove's ``GopherRepetitionFilter`` (we follow the paper): for lines, paragraphs and
    n = 5 ... 10 it counts only the copies after a first occurrence, and for n-grams it scans greedily, jumping
    past a repeat once found, so overlapping repeats are missed rather than counted once, where the paper counts
    "all duplicate n-grams". It divides by the whole text's length, spaces and newlines included, and counts the
    spaces inside the top n-gram. It also counts a most frequent n-gram that occurs only once, so a short page
    without any repetition fails ``top_2gram``. Its words come from a tokenizer (spaCy's for English in datatrove
    0.10, NLTK's before), its paragraphs are split on ``\\n\\n`` only (a line of spaces does not separate them) and
    its lines are not stripped. Like datatrove, and as the paper asks overlaps to be counted once only for
    n = 5 ... 10, the top n-gram counts every occurrence in full even where occurrences overlap ("a a a"), so that
    score can exceed 1 on such degenerate pages.

    The statistics are computed for the whole frame at once (words laid end to end, n-grams built with shifts and
    counted by group) and stored in a hidden column before the rules run, rather than inside the rule
    expressions: polars (2.1) would compute such intermediate tables again for every rule using them, as its
    common-subexpression elimination skips expressions with ``over`` or ``list.eval`` and shares only the
    outermost repeated expression. That is what ``Filter.prepare`` is for: a ``Sequential`` prepares the column
    before the fused pass and drops it after.
    """

    max_dup_line_fraction: float = _threshold(0.30, "the fraction of lines that are duplicates")
    max_dup_line_char_fraction: float = _threshold(0.20, "the fraction of line characters in duplicate lines")
    max_dup_para_fraction: float = _threshold(0.30, "the fraction of paragraphs that are duplicates")
    max_dup_para_char_fraction: float = _threshold(0.20, "the fraction of paragraph characters in duplicates")
    max_top_2gram_char_fraction: float = _threshold(0.20, "the character fraction of the most frequent 2-gram")
    max_top_3gram_char_fraction: float = _threshold(0.18, "the character fraction of the most frequent 3-gram")
    max_top_4gram_char_fraction: float = _threshold(0.16, "the character fraction of the most frequent 4-gram")
    max_dup_5gram_char_fraction: float = _threshold(0.15, "the character fraction covered by repeated 5-grams")
    max_dup_6gram_char_fraction: float = _threshold(0.14, "the character fraction covered by repeated 6-grams")
    max_dup_7gram_char_fraction: float = _threshold(0.13, "the character fraction covered by repeated 7-grams")
    max_dup_8gram_char_fraction: float = _threshold(0.12, "the character fraction covered by repeated 8-grams")
    max_dup_9gram_char_fraction: float = _threshold(0.11, "the character fraction covered by repeated 9-grams")
    max_dup_10gram_char_fraction: float = _threshold(0.10, "the character fraction covered by repeated 10-grams")

    def rules(self, *, input_key: Read = "text") -> dict[str, Rule]:
        """The rules read the statistics ``prepare`` adds for ``input_key`` (see :func:`repetition_statistics`)."""
        rules = {}
        for reason, measure in MEASURES.items():
            score = pl.col(_STATISTICS).struct.field(measure).alias(measure)
            rules[reason] = Rule(score=score, keep=score <= getattr(self, "max_" + measure.removeprefix("gopher_")))
        return rules

    def prepare(self, df: pl.DataFrame, keys: dict[str, str]) -> pl.DataFrame:
        return df.with_columns(repetition_statistics(df[keys["input_key"]]).alias(_STATISTICS))


def repetition_statistics(texts: pl.Series) -> pl.Series:
    """Every repetition measure of each text, as a struct per row (null where the text is null).

    Consecutive pages of about ``_BATCH_CHARS`` characters in all are processed together, which bounds the memory
    of the word tables (some 130 bytes per word at the peak).
    """
    pages = pl.DataFrame({"text": texts}).with_columns(
        (pl.col("text").str.len_chars().fill_null(0).cum_sum() // _BATCH_CHARS).alias("batch")
    )
    batches = pages.partition_by("batch", maintain_order=True, include_key=False) or [pages.drop("batch")]
    return pl.concat([_batch_statistics(batch) for batch in batches])


def _batch_statistics(pages: pl.DataFrame) -> pl.Series:
    text = pl.col("text")
    measures = pl.concat(
        [
            pages.select(lines(text)).select(_duplicate_fractions("line")),
            pages.select(paragraphs(text)).select(_duplicate_fractions("para")),
            pl.DataFrame(_ngram_fractions(pages.select(words(text)).to_series())),
        ],
        how="horizontal",
    )
    return measures.select(pl.when(pages["text"].is_not_null()).then(pl.struct(pl.all()))).to_series()


def _duplicate_fractions(unit: str) -> tuple[pl.Expr, pl.Expr]:
    """The fractions of a page's lines (or paragraphs), the only column, that occur more than once in it, by
    count and by characters."""
    items = pl.first()
    duplicated = pl.element().is_duplicated()
    count, duplicates = items.list.len(), items.list.eval(duplicated).list.sum()
    chars = items.list.eval(pl.element().str.len_chars()).list.sum()
    duplicate_chars = items.list.agg(pl.element().filter(duplicated).str.len_chars().sum())
    return (
        (duplicates / count).fill_nan(0.0).alias(f"gopher_dup_{unit}_fraction"),
        (duplicate_chars / chars).fill_nan(0.0).alias(f"gopher_dup_{unit}_char_fraction"),
    )


def _ngram_fractions(page_words: pl.Series) -> list[pl.Series]:
    """The top (n = 2 ... 4) and duplicate (n = 5 ... 10) n-gram character fractions of each page.

    All pages' words are laid end to end (global positions); the n-gram at a position gets a key mixing its words'
    hashes and its page. Only n-grams that occur twice on their page are kept, and an (n+1)-gram can only repeat
    where the n-grams at p and p+1 both do, so each size after 2 looks at the few positions its predecessor left.
    """
    rows = len(page_words)
    flat = (
        pl.DataFrame({"word": page_words})
        .with_row_index("row")
        .explode("word", keep_nulls=False)
        .select(
            "row",
            (pl.col("word").hash() ^ pl.col("row").hash()).alias("token"),
            pl.col("word").str.len_chars().cast(pl.Int64).alias("length"),
        )
    )
    token = pl.lit(flat["token"])
    chars_before = pl.lit(pl.concat([pl.Series([0], dtype=pl.Int64), flat["length"].cum_sum()]))  # at a position
    word_chars = _per_row(flat.select("row", "length").group_by("row").sum(), rows)

    fractions: list[pl.Series] = []
    grams = flat.select(
        pl.int_range(pl.len()).alias("position"), "row", (token * _MULTIPLIER + token.shift(-1)).alias("key")
    ).filter(pl.col("row") == pl.col("row").shift(-1))
    for n in range(2, max(DUPLICATE_NGRAMS) + 1):
        repeated = grams.lazy().with_columns(pl.len().over("key").alias("count")).filter(pl.col("count") > 1).collect()
        if n in TOP_NGRAMS:
            counted, kind = _top_ngram_chars(repeated, n, chars_before, rows), "top"
        else:
            counted, kind = _covered_chars(repeated, n, chars_before, rows), "dup"
        fractions.append((counted / word_chars).fill_nan(0.0).alias(f"gopher_{kind}_{n}gram_char_fraction"))
        grams = repeated.filter(_POSITION.shift(-1) == _POSITION + 1).select(
            _POSITION, "row", pl.col("key") * _MULTIPLIER + token.gather(_POSITION + n)
        )
    return fractions


def _top_ngram_chars(repeated: pl.DataFrame, n: int, chars_before: pl.Expr, rows: int) -> pl.Series:
    """Per page, occurrences x characters of its most frequent repeated n-gram (the longest of a tie), else 0."""
    chars = chars_before.gather(_POSITION + n) - chars_before.gather(_POSITION)
    packed = pl.col("count").cast(pl.UInt64) * _COUNT_SHIFT + chars.cast(pl.UInt64)
    best = _per_row(repeated.select("row", packed).group_by("row").max(), rows)
    return (best // _COUNT_SHIFT) * (best % _COUNT_SHIFT)


def _covered_chars(repeated: pl.DataFrame, n: int, chars_before: pl.Expr, rows: int) -> pl.Series:
    """Per page, the characters of the words its repeated n-grams cover, each counted once: in position order,
    each n-gram covers its words up to where the next one starts."""
    covered_until = pl.min_horizontal(_POSITION + n, _POSITION.shift(-1).fill_null(_POSITION + n))
    covered = chars_before.gather(covered_until) - chars_before.gather(_POSITION)
    return _per_row(repeated.select("row", covered).group_by("row").sum(), rows)


def _per_row(grouped: pl.DataFrame, rows: int) -> pl.Series:
    """A per-row aggregate (columns ``row`` and the value) as a column of all ``rows`` rows, 0 where absent."""
    row, value = grouped.columns
    return pl.zeros(rows, grouped[value].dtype, eager=True).scatter(grouped[row], grouped[value])
