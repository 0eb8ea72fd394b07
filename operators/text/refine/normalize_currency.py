from __future__ import annotations

import re

import polars as pl
from pydantic import Field

from operators.base import Read, Refiner, Write
from operators.registry import register
from operators.text.refine._rewrite_matches import rewrite_matches

_SYMBOLS = {
    "US$": "USD", "$": "USD", "C$": "CAD", "CA$": "CAD", "A$": "AUD", "AU$": "AUD", "NZ$": "NZD", "HK$": "HKD",
    "S$": "SGD", "R$": "BRL", "€": "EUR", "£": "GBP", "¥": "JPY", "￥": "JPY", "元": "CNY", "₹": "INR",
    "₩": "KRW", "₽": "RUB", "₺": "TRY", "₫": "VND", "₱": "PHP", "₪": "ILS", "₦": "NGN", "₴": "UAH", "₿": "BTC",
}  # fmt: skip
"""Currency signs and the ISO 4217 code each is read as. ``$`` and ``¥`` are ambiguous (¥ is also the yuan):
override them with ``symbols``."""

_AMOUNT = r"[0-9]+(?:[,.][0-9]+)*"
_MAGNITUDE = r"(?:\s?(?:thousand|million|billion|trillion|bn|mn|[kKmMbB])\b)?"


@register("normalize_currency")
class NormalizeCurrencyRefiner(Refiner):
    """Write money amounts as amount and ISO 4217 code: "$12.50" -> "12.50 USD", "€5 million" -> "5 million EUR".

    Covers the currency half of DataFlow's ``TextNormalizationRefiner``, which turns ``$`` followed by digits into
    "digits USD" and drops the cents ("$12.50" -> "12 USD.50"). Here an amount keeps its decimals and thousands
    separators as written, a magnitude word after it (thousand, million, bn, k, ...) stays with it, signs are
    read before the amount (``$5``, ``US$ 5``, ``HK$5``) or after it (``5€``, ``5 €``, ``100元``), and each sign
    maps to a code through ``symbols`` (defaults: the module's ``_SYMBOLS``; ``$`` is USD and ``¥`` JPY unless
    you say otherwise). A sign without an amount, and amounts written with codes already ("12 USD"), stay.
    """

    symbols: dict[str, str] = Field(
        default_factory=lambda: dict(_SYMBOLS),
        min_length=1,
        description="Currency sign -> ISO 4217 code, e.g. {'$': 'CAD', '¥': 'CNY'}; replaces the default table",
    )

    def expressions(self, *, input_key: Read = "text", output_key: Write = "text") -> dict[str, pl.Expr]:
        signs = "|".join(re.escape(sign) for sign in sorted(self.symbols, key=len, reverse=True))
        before = rf"(?:{signs})\s?{_AMOUNT}{_MAGNITUDE}"
        after = rf"\b{_AMOUNT}\s?(?:{signs})"
        signs_group = rf"^(?:({signs})\s?({_AMOUNT}{_MAGNITUDE})|({_AMOUNT})\s?({signs}))$"

        def rewrite(match: pl.Expr) -> pl.Expr:
            amount = pl.coalesce(match.str.extract(signs_group, 2), match.str.extract(signs_group, 3))
            sign = pl.coalesce(match.str.extract(signs_group, 1), match.str.extract(signs_group, 4))
            return pl.format("{} {}", amount, sign.replace_strict(self.symbols, default=None))

        return {output_key: rewrite_matches(pl.col(input_key), f"{before}|{after}", rewrite)}
