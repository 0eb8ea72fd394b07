from __future__ import annotations

import polars as pl
from pydantic import Field

from operators.base import Filter, Read, Rule
from operators.registry import register
from operators.text.filter.dataflow._blocklist_en import EN_BLOCKLIST
from operators.text.filter.dataflow._text import judged, lowercase_words


@register("dataflow_blocklist")
class BlocklistFilter(Filter):
    """Reject texts with more than ``threshold`` blocklisted words: pornographic and obscene content.

    Reproduces DataFlow's ``BlocklistFilter`` (``blocklist_filter.py``, defaults ``language='en'``,
    ``threshold=1``, ``use_tokenizer=False``; its ``get_desc`` says 'zh' and True): the words of
    ``text.lower().split()`` found in the list are counted, and a text with at most ``threshold`` of them is kept
    (inclusive: one blocklisted word passes). The default list is DataFlow's ``blocklist/en.txt``, stripped and
    lowercased as DataFlow loads it. Words keep their punctuation ("anal," is not "anal"), and the 124 entries of
    several words ("2 girls 1 cup") can never equal one word, so they never match, in DataFlow as here. Score
    ``dataflow_blocklisted_word_count``; null and empty texts are rejected without one.
    """

    threshold: int = Field(1, ge=0, description="Most blocklisted words a kept text may have (inclusive)")
    blocklist: tuple[str, ...] = Field(EN_BLOCKLIST, description="Blocked words (default: DataFlow's en.txt)")

    def rules(self, *, input_key: Read = "text") -> dict[str, Rule]:
        blocked = sorted({word.strip().lower() for word in self.blocklist if word.strip()})
        hits = lowercase_words(input_key).list.eval(pl.element().is_in(blocked)).list.sum()
        hits = judged(input_key, hits).alias("dataflow_blocklisted_word_count")
        return {self.name: Rule(score=hits, keep=hits <= self.threshold)}
