from __future__ import annotations

import polars as pl
from pydantic import Field

from operators.base import Filter, Read, Rule
from operators.registry import register
from operators.text.filter.dataflow._text import judged

_TERMS = (
    r"(?i)(身\s{0,10}份|id\s{0,10}number\s{0,10}|identification|identity|\s{0,10}ID\s{0,10}No\s{0,10}|"
    r"id\s{0,10}card\s{0,10}|NRIC\s{0,10}number\s{0,10}|IC\s{0,10}number\s{0,10}|"
    r"resident\s{0,10}registration\s{0,10}|I.D.\s{0,10}Number\s{0,10})"
)
"""DataFlow's pattern, unchanged (its ``I.D.`` dots match any character)."""


@register("dataflow_id_card")
class IdCardTermsFilter(Filter):
    """Reject texts that talk about identity documents: DataFlow's ID-card rule, which counts words, not numbers.

    Reproduces DataFlow's ``IDCardFilter`` (``rule_based_filter.py``, default 3): the text is rejected when its
    pattern of identity-document terms (身份, "id number", "identification", "identity", "ID No", "id card", "NRIC
    number", "IC number", "resident registration", "I.D. Number"; case-insensitive) matches ``threshold`` times or
    more. It finds no number and rejects an essay on identity politics; to find actual ID numbers by their
    checksums use ``id_card_number``. Score ``dataflow_id_card_terms``; null and empty texts are rejected.
    """

    threshold: int = Field(3, ge=1, description="Matches of the identity-document terms at which a text is rejected")

    def rules(self, *, input_key: Read = "text") -> dict[str, Rule]:
        count = judged(input_key, pl.col(input_key).str.count_matches(_TERMS)).alias("dataflow_id_card_terms")
        return {self.name: Rule(score=count, keep=count < self.threshold)}
