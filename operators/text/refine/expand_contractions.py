from __future__ import annotations

import polars as pl

from operators.base import Read, Refiner, Write
from operators.registry import register
from operators.text.refine._rewrite_matches import rewrite_matches

_CONTRACTIONS = {
    "ain't": "is not", "aren't": "are not", "can't": "cannot", "could've": "could have", "couldn't": "could not",
    "didn't": "did not", "doesn't": "does not", "don't": "do not", "hadn't": "had not", "hasn't": "has not",
    "haven't": "have not", "he'd": "he would", "he'll": "he will", "he's": "he is", "how'd": "how did",
    "how'll": "how will", "how's": "how is", "i'd": "I would", "i'll": "I will", "i'm": "I am", "i've": "I have",
    "isn't": "is not", "it'd": "it would", "it'll": "it will", "it's": "it is", "let's": "let us",
    "ma'am": "madam", "mightn't": "might not", "might've": "might have", "mustn't": "must not",
    "must've": "must have", "needn't": "need not", "o'clock": "of the clock", "shan't": "shall not",
    "she'd": "she would", "she'll": "she will", "she's": "she is", "should've": "should have",
    "shouldn't": "should not", "that'd": "that would", "that'll": "that will", "that's": "that is",
    "there'd": "there would", "there'll": "there will", "there's": "there is", "they'd": "they would",
    "they'll": "they will", "they're": "they are", "they've": "they have", "wasn't": "was not", "we'd": "we would",
    "we'll": "we will", "we're": "we are", "we've": "we have", "weren't": "were not", "what'll": "what will",
    "what're": "what are", "what's": "what is", "what've": "what have", "when's": "when is", "where'd": "where did",
    "where's": "where is", "where've": "where have", "who'd": "who would", "who'll": "who will",
    "who're": "who are", "who's": "who is", "who've": "who have", "why's": "why is", "won't": "will not",
    "would've": "would have", "wouldn't": "would not", "y'all": "you all", "you'd": "you would",
    "you'll": "you will", "you're": "you are", "you've": "you have",
}  # fmt: skip
"""English contractions with their usual expansion. Ambiguous ones take the more frequent reading, as the
``contractions`` package does: ``'d`` -> would (not had), ``'s`` after a pronoun -> is (not has); ``'s`` after a
noun is a possessive and is not listed."""

_PATTERN = (
    r"(?i)\b(?:"
    + "|".join(k.replace("'", "['\\x{2019}]") for k in sorted(_CONTRACTIONS, key=len, reverse=True))
    + r")\b"
)


@register("expand_contractions")
class ExpandContractionsRefiner(Refiner):
    """Expand English contractions: "don't" -> "do not", "It's" -> "It is", "WON'T" -> "WILL NOT".

    Covers DataFlow's ``RemoveContractionsRefiner``, which calls the ``contractions`` package row by row; this one
    is a fixed table of 84 contractions (written out in the module, so the output does not change with a package
    version), matched as whole words with a straight or curly apostrophe, in one vectorized pass. The case of the
    match is kept: lower case, a capital first letter, or all capitals. Ambiguous forms take the more frequent
    reading ("he'd" -> "he would", "she's" -> "she is"); "'s" after a noun (a possessive) is never touched.
    """

    def expressions(self, *, input_key: Read = "text", output_key: Write = "text") -> dict[str, pl.Expr]:
        return {output_key: rewrite_matches(pl.col(input_key), _PATTERN, _expanded)}


def _expanded(match: pl.Expr) -> pl.Expr:
    expansion = match.str.to_lowercase().str.replace_all("\u2019", "'", literal=True).replace_strict(_CONTRACTIONS)
    upper = (match == match.str.to_uppercase()) & (match.str.len_chars() > 1)
    capital = match.str.slice(0, 1) == match.str.slice(0, 1).str.to_uppercase()
    first_capital = pl.concat_str(expansion.str.slice(0, 1).str.to_uppercase(), expansion.str.slice(1))
    return pl.when(upper).then(expansion.str.to_uppercase()).when(capital).then(first_capital).otherwise(expansion)
