from __future__ import annotations

import re

import polars as pl

from operators.base import Read, Refiner, Write
from operators.registry import register
from operators.text.refine._rewrite_matches import rewrite_matches

_EMOTICONS = (  # noqa: SIM905 (126 quoted literals read worse)
    ":-) :) :-)) :)) :-] :] :-> :> :-} :} :o) :c) :^) =) =] 8-) :-D :D 8-D 8D x-D xD X-D XD =D =3 B^D :-( :( "
    ":-(( :(( :-[ :[ :-< :< :-{ :{ :'-( :'( :'-) :') :-O :O :-o :o :-0 8-0 >:O :-* :* :x ;-) ;) *-) ;-] ;] "
    ";^) ;D :-P :P X-P :-p :p :-b :b >:P :-/ :/ :-. >:\\ >:/ :\\ =/ =\\ :L =L :S :-| :| :$ :-X :X :-# :# "
    "O:-) O:) 0:-3 0:3 0:-) 0:) >:-) >:) }:-) }:) 3:-) 3:) >;) |;-) |-O :-J #-) %-) %) <:-| </3 <\\3 <3 ^_^ ^^ "
    "^-^ ^.^ -_- -.- >_< >.< o_O O_o o_o O_O T_T ;_; :3 :-3 D-': D:< ¯\\_(ツ)_/¯"
).split()
"""Western ASCII emoticons (smiles, frowns, winks, tongues, surprise, skepticism, hearts) and common Eastern ones
(``^_^``, ``-_-``, ``T_T``), from Wikipedia's "List of emoticons", less those that are also ordinary words or
markers (``XP``, ``D:``, ``8)`` after a list number, ``*)`` after a footnote)."""

_CANDIDATE = r"(?:^|\s)(?:" + "|".join(re.escape(e) for e in sorted(_EMOTICONS, key=len, reverse=True)) + r")\S*"
"""Whitespace (or the start) and a word that begins with an emoticon; it is removed only if the word *is* one."""


@register("remove_emoticons")
class RemoveEmoticonsRefiner(Refiner):
    """Remove ASCII emoticons such as ``:-)``, ``;D``, ``<3`` and ``^_^`` from text, where they stand as words.

    Covers DataFlow's ``RemoveEmoticonsRefiner``, which deletes every occurrence of about 220 emoticon strings
    anywhere in the text, so ``:P`` inside ``C:Program`` or ``8)`` in "(see 8)" goes too; here an emoticon is
    removed only as a whole whitespace-separated word (a list of 126 written out in the module), so code, times,
    ratios and parenthesised numbers are left alone. An emoticon glued to a word or to punctuation (``great:)``,
    ``:).``) stays. For emoji (pictographs) use ``remove_emoji``. Whitespace around a removal stays: follow with
    ``normalize_text`` to collapse it.
    """

    def expressions(self, *, input_key: Read = "text", output_key: Write = "text") -> dict[str, pl.Expr]:
        return {output_key: rewrite_matches(pl.col(input_key), _CANDIDATE, _without_emoticon)}


def _without_emoticon(match: pl.Expr) -> pl.Expr:
    word = match.str.strip_chars_start()
    return pl.when(word.is_in(_EMOTICONS)).then(match.str.head(-word.str.len_chars().cast(pl.Int64))).otherwise(match)
