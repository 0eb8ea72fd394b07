from __future__ import annotations

from pydantic import Field

from operators.base import Filter, Read, Rule
from operators.registry import register
from operators.text.filter.dataflow._text import judged, lowercase

LOREM_IPSUM = "lorem [i\u0131]p[s\u017f]um"
"""DataFlow's case-insensitive ``lorem ipsum`` on the lowercased text: Python's ``re.IGNORECASE`` also takes the
dotless i (U+0131) for ``i`` and the long s (U+017F) for ``s``."""


@register("dataflow_lorem_ipsum")
class LoremIpsumFilter(Filter):
    """Reject texts containing "lorem ipsum" placeholder text.

    Reproduces DataFlow's ``LoremIpsumFilter`` (``rule_based_filter.py``, default 3e-8): occurrences of "lorem
    ipsum" (any case, one space between) over the length of the lowercased text may be at most ``threshold``
    (inclusive). At 3e-8 a single occurrence rejects any text shorter than 33 million characters, so in practice
    the rule is "no lorem ipsum". Score ``dataflow_lorem_ipsum_ratio``; null and empty texts are rejected without
    one.
    """

    threshold: float = Field(3e-8, ge=0, description="Largest 'lorem ipsum' count per character a kept text may have")

    def rules(self, *, input_key: Read = "text") -> dict[str, Rule]:
        text = lowercase(input_key)
        share = judged(input_key, text.str.count_matches(LOREM_IPSUM) / text.str.len_chars())
        share = share.alias("dataflow_lorem_ipsum_ratio")
        return {self.name: Rule(score=share, keep=share <= self.threshold)}
