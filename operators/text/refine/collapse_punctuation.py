from __future__ import annotations

import polars as pl

from operators.base import Read, Refiner, Write
from operators.registry import register
from operators.text.refine._rewrite_matches import rewrite_matches

_RUN = r"[\p{P}\p{S}--/]{2,}"
"""Two or more punctuation or symbol characters in a row (not ``/``: "https://" and paths keep their slashes);
each run is rewritten so that no character follows an equal one."""


@register("collapse_punctuation")
class CollapsePunctuationRefiner(Refiner):
    """Collapse repeated punctuation to one character: "Really!!!" -> "Really!", "why??!!" -> "why?!", "____" -> "_".

    Covers DataFlow's ``RemoveRepetitionsPunctuationRefiner`` (regex ``([^\\w\\s_])\\1+|(_)\\2+``): a character
    repeated right after itself is kept once. Here that holds for every Unicode punctuation and symbol character
    but ``/`` (so URLs keep ``//``); polars' regex engine has no back-references, so runs of punctuation are found
    and each is rewritten by dropping the characters equal to the one before. An ellipsis "..." becomes "." as in
    DataFlow; "--" becomes "-". Meant for prose: code and ASCII tables lose their ``==``, ``**`` and ``---``.
    """

    def expressions(self, *, input_key: Read = "text", output_key: Write = "text") -> dict[str, pl.Expr]:
        return {output_key: rewrite_matches(pl.col(input_key), _RUN, _collapsed)}


def _collapsed(match: pl.Expr) -> pl.Expr:
    characters = match.str.split("")
    return characters.list.eval(pl.element().filter(pl.element() != pl.element().shift().fill_null(""))).list.join("")
