from __future__ import annotations

from typing import ClassVar

import polars as pl

from operators.base import Evaluator, Read, Write
from operators.registry import register

_WORD = r"[A-Za-z]+(?:['\x{2019}][A-Za-z]+)*"
_SENTENCE_END = r"[.!?]+(?:[\"'\x{2019}\x{201D})\]]*)(?:\s|$)"


def _syllables(word: pl.Expr) -> pl.Expr:
    """Syllables of an English word by the usual heuristic (the one textstat and the Flesch tools approximate):
    groups of vowels (a e i o u y), less a silent final "e" (not "le"), at least one."""
    lower = word.str.to_lowercase()
    groups = lower.str.count_matches(r"[aeiouy]+")
    silent = (lower.str.ends_with("e") & ~lower.str.ends_with("le") & (groups > 1)).cast(pl.UInt32)
    return pl.max_horizontal(groups - silent, pl.lit(1, pl.UInt32))


@register("readability")
class ReadabilityEvaluator(Evaluator):
    """Score English texts with the classic readability formulas: Flesch reading ease, Flesch-Kincaid grade,
    Gunning fog, SMOG, Coleman-Liau and the automated readability index.

    Counts: words are runs of ASCII letters (with inner apostrophes), sentences end at ``.``, ``!`` or ``?`` runs
    followed by whitespace or the end (a text with words and no end mark is one sentence), syllables by the
    vowel-group rule (see ``_syllables``; it misjudges some words, as every rule-based counter does), letters are
    the words' letters. With W words, S sentences, Y syllables, P words of 3+ syllables, L letters:
    Flesch RE = 206.835 - 1.015 W/S - 84.6 Y/W; FK grade = 0.39 W/S + 11.8 Y/W - 15.59; fog = 0.4 (W/S + 100 P/W);
    SMOG = 1.0430 sqrt(30 P/S) + 3.1291; Coleman-Liau = 0.0588 (100 L/W) - 0.296 (100 S/W) - 15.8;
    ARI = 4.71 L/W + 0.5 W/S - 21.43. Texts without a word get nulls. All counts are polars expressions.
    """

    references: ClassVar[tuple[str, ...]] = (
        "Flesch, A new readability yardstick, Journal of Applied Psychology 32(3), 1948",
        "Kincaid, Fishburne, Rogers & Chissom, Derivation of new readability formulas, 1975",
        "Gunning, The Technique of Clear Writing, 1952",
        "McLaughlin, SMOG grading: a new readability formula, Journal of Reading 12(8), 1969",
        "Coleman & Liau, A computer readability formula designed for machine scoring, J. Appl. Psych. 60(2), 1975",
        "Senter & Smith, Automated Readability Index, AMRL-TR-66-220, 1967",
    )
    key_docs: ClassVar[dict[str, str]] = {
        "flesch_reading_ease_key": "Flesch reading ease (higher is easier; 60-70 plain English, below 30 academic)",
        "flesch_kincaid_grade_key": "Flesch-Kincaid US school grade level",
        "gunning_fog_key": "Gunning fog index (years of schooling)",
        "smog_key": "SMOG grade (years of schooling)",
        "coleman_liau_key": "Coleman-Liau index (US grade)",
        "ari_key": "Automated readability index (US grade)",
    }

    def expressions(
        self,
        *,
        input_key: Read = "text",
        flesch_reading_ease_key: Write = "flesch_reading_ease",
        flesch_kincaid_grade_key: Write = "flesch_kincaid_grade",
        gunning_fog_key: Write = "gunning_fog",
        smog_key: Write = "smog",
        coleman_liau_key: Write = "coleman_liau",
        ari_key: Write = "ari",
    ) -> dict[str, pl.Expr]:
        text = pl.col(input_key)
        words = text.str.extract_all(_WORD)
        syllables = words.list.eval(_syllables(pl.element()))
        count = words.list.len().cast(pl.Float64).replace(0, None)
        sentences = pl.max_horizontal(text.str.count_matches(_SENTENCE_END), pl.lit(1)).cast(pl.Float64)
        total_syllables = syllables.list.sum().cast(pl.Float64)
        polysyllables = syllables.list.eval(pl.element() >= 3).list.sum().cast(pl.Float64)
        letters = text.str.count_matches(r"[A-Za-z]").cast(pl.Float64)
        per_sentence, per_word = count / sentences, total_syllables / count
        return {
            flesch_reading_ease_key: 206.835 - 1.015 * per_sentence - 84.6 * per_word,
            flesch_kincaid_grade_key: 0.39 * per_sentence + 11.8 * per_word - 15.59,
            gunning_fog_key: 0.4 * (per_sentence + 100 * polysyllables / count),
            smog_key: pl.when(count.is_not_null()).then(1.0430 * (30 * polysyllables / sentences).sqrt() + 3.1291),
            coleman_liau_key: 0.0588 * (100 * letters / count) - 0.296 * (100 * sentences / count) - 15.8,
            ari_key: 4.71 * letters / count + 0.5 * per_sentence - 21.43,
        }
