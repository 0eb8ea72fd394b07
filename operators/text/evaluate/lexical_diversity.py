from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
import polars as pl
from pydantic import Field

from operators.base import Evaluator, Read, Write
from operators.registry import register

_WORD = r"\w+(?:['\x{2019}]\w+)*"


@register("lexical_diversity")
class LexicalDiversityEvaluator(Evaluator):
    """Score each text's lexical diversity with MTLD and HD-D, the two measures McCarthy & Jarvis (2010) validated
    as independent of text length.

    Tokens are the lower-cased words (``\\w+`` with inner apostrophes). **MTLD** (measure of textual lexical
    diversity): walking through the tokens, a *factor* ends each time the running type-token ratio falls to
    ``mtld_threshold`` (0.72) and the count restarts; the remainder adds a partial factor ``(1 - TTR) / (1 -
    0.72)``; MTLD is tokens over factors, the mean of a forward and a backward pass. It is null when no factor
    forms (every token distinct). **HD-D**: for each type, the hypergeometric probability that it appears in a
    random draw of ``hdd_sample`` (42) tokens, divided by 42 and summed over types (the expected type-token ratio
    of a 42-token sample, McCarthy & Jarvis' reading of vocd-D); null for texts shorter than the draw. DataFlow's
    ``LexicalDiversitySampleEvaluator`` computes the same two measures; here they are exact (log-gamma
    combinatorics, not a sampled vocd curve) and a text too short for a measure gets null instead of a number.
    """

    references: ClassVar[tuple[str, ...]] = (
        "McCarthy & Jarvis, MTLD, vocd-D, and HD-D: A validation study of sophisticated approaches to lexical "
        "diversity assessment, Behavior Research Methods 42(2), 2010",
    )
    key_docs: ClassVar[dict[str, str]] = {
        "mtld_key": "MTLD: tokens per factor of type-token ratio 0.72 (higher is more diverse; ~70-100 in prose)",
        "hdd_key": "HD-D: expected type-token ratio of a 42-token sample (0-1; higher is more diverse)",
    }

    mtld_threshold: float = Field(0.72, gt=0, lt=1, description="Type-token ratio at which an MTLD factor ends")
    hdd_sample: int = Field(42, ge=1, description="Tokens drawn in HD-D's hypergeometric sample")

    def expressions(
        self, *, input_key: Read = "text", mtld_key: Write = "mtld", hdd_key: Write = "hdd"
    ) -> dict[str, pl.Expr]:
        tokens = pl.col(input_key).str.to_lowercase().str.extract_all(_WORD)
        return {
            mtld_key: tokens.map_elements(self._mtld, return_dtype=pl.Float64, skip_nulls=True),
            hdd_key: tokens.map_elements(self._hdd, return_dtype=pl.Float64, skip_nulls=True),
        }

    def _mtld(self, tokens: pl.Series) -> float | None:
        words = tokens.to_list()
        passes = [_mtld_pass(words, self.mtld_threshold), _mtld_pass(words[::-1], self.mtld_threshold)]
        return None if None in passes else (passes[0] + passes[1]) / 2

    def _hdd(self, tokens: pl.Series) -> float | None:
        total, draw = tokens.len(), self.hdd_sample
        if total < draw:
            return None
        counts = tokens.value_counts()["count"].to_numpy()
        # log P(type absent from the draw) = log C(total - count, draw) - log C(total, draw)
        rest = total - counts
        absent = np.zeros(len(counts))
        possible = rest >= draw
        absent[possible] = np.exp([_log_choose(int(r), draw) - _log_choose(total, draw) for r in rest[possible]])
        return float(((1 - absent) / draw).sum())


def _mtld_pass(words: list[str], threshold: float) -> float | None:
    factors, types, count = 0.0, set(), 0
    for word in words:
        types.add(word)
        count += 1
        if len(types) / count <= threshold:
            factors, types, count = factors + 1, set(), 0
    if count:
        factors += (1 - len(types) / count) / (1 - threshold)
    return len(words) / factors if factors > 0 else None


def _log_choose(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
