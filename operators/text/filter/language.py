from __future__ import annotations

import polars as pl
from pydantic import Field

from operators.base import Filter, Read, Rule
from operators.registry import register


@register("language")
class LanguageFilter(Filter):
    """Keep rows whose identified language is one of ``languages`` and whose language score is at least
    ``min_score``.

    Source: RefinedWeb (Penedo et al. 2023, section 3.1, language identification) removes documents whose top
    language score is below 0.65, which mostly catches pages without natural text; FineWeb (Penedo et al. 2024)
    keeps English documents scoring at least 0.65. Both score with CCNet's fastText classifier. The rules read the
    columns ``language_id`` writes (or any other identifier's). Rejections, in order: ``language_not_allowed`` when
    the language is not in ``languages`` (or is null: a text without letters), ``language_low_confidence`` when
    the score is below ``min_score``; the score is the language score, the detail the language code.

    The default 0.65 is RefinedWeb's and FineWeb's threshold. It was set on fastText's probabilities; ``language_id``
    tempers its probabilities by text length, so paragraphs in one language score above 0.97 and 0.65 removes
    few of them: texts of a few words (one in ten of our five-to-ten-word sentences) and pages split evenly
    between two languages. Datatrove's
    ``LanguageFilter`` keeps a document when the score of *any* allowed language exceeds the threshold, strictly;
    we follow the published rule (top language allowed, score at least the threshold), which decides the same for
    thresholds above 0.5 except at exactly the threshold.
    """

    languages: list[str] = Field(
        default_factory=lambda: ["en"], min_length=1, description="Language codes to keep, as language_id writes them"
    )
    min_score: float = Field(0.65, ge=0, le=1, description="Lowest language score a kept row may have (inclusive)")

    def rules(self, *, language_key: Read = "language", score_key: Read = "language_score") -> dict[str, Rule]:
        language = pl.col(language_key)
        score = pl.col(score_key).alias("language_score")
        return {
            "language_not_allowed": Rule(score=score, keep=language.is_in(self.languages), detail=language),
            "language_low_confidence": Rule(score=score, keep=score >= self.min_score, detail=language),
        }
