from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import polars as pl
from pydantic import Field

from operators.base import Read, Refiner, Write
from operators.registry import register
from operators.text.refine._rewrite_matches import rewrite_matches

PiiKind = Literal["email", "ip_address", "credit_card", "phone"]

_B = r"(?-u:\b)"
"""An ASCII word boundary: Unicode ``\\b`` keeps the regex engine off its fast automaton on non-ASCII text
(measured 20 times slower), and every boundary here sits next to a digit or a hexadecimal letter."""

_EMAIL = r"[\w.%+-]+@(?:[\w-]+\.)+\p{L}{2,}"
"""A local part, ``@``, and a domain whose last label is letters (so ``user@1.2.3.4`` is not an address)."""

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_IPV4 = rf"^{_OCTET}(?:\.{_OCTET}){{3}}$"
"""Dotted decimal, four octets 0-255 without leading zeros."""

_DOTTED_NUMBERS = rf"{_B}[0-9]{{1,3}}(?:\.[0-9]{{1,3}}){{3,}}{_B}"
"""An IPv4 candidate: the whole dotted run is taken and redacted only when it is exactly an IPv4 address, so
that a dotted phone number (01.23.45.67.89) or version (1.2.3.4.5) does not lose four of its parts."""

_HEXTET = r"[0-9A-Fa-f]{1,4}"
_IPV6 = (
    rf"{_B}(?:{_HEXTET}:){{7}}{_HEXTET}{_B}"  # all eight groups
    rf"|{_B}(?:{_HEXTET}:){{1,6}}(?::{_HEXTET}){{1,6}}{_B}"  # "::" with groups on both sides
)
"""IPv6 in full or with ``::`` between groups. Left out, to spare ``std::`` and ratios: addresses that start or
end with ``::`` (``::1``, ``fe80::``) and IPv4-mapped ones (``::ffff:1.2.3.4``)."""

_CARD = rf"{_B}[2-6](?:[ -]?[0-9]){{12,18}}{_B}"
"""13 to 19 digits, optionally grouped by spaces or dashes, starting with 2-6 (the ISO/IEC 7812 industry digits of
the payment networks: Mastercard 2/5, Amex/Diners/JCB 3, Visa 4, Discover/UnionPay 6); redacted only when the
Luhn checksum holds."""

_PHONE = (
    r"\+[1-9][0-9]{0,2}(?:[ .-]?(?:\([0-9]{1,5}\)|[0-9]{1,5})){1,6}"  # international: +44 (0)20 7946 0958
    rf"|(?:{_B}1[ .-])?(?:{_B}[2-9][0-9]{{2}}[ .-]|\([2-9][0-9]{{2}}\) ?)[2-9][0-9]{{2}}[ .-][0-9]{{4}}{_B}"  # NANP
    rf"|(?:{_B}0[1-9][0-9]{{0,3}}|\(0[1-9][0-9]{{0,3}}\))(?:[ ./-][0-9]{{2,8}}){{1,4}}{_B}"  # trunk 0: 030 1234567
)
"""Three written forms of a phone number, each with separators, so that a bare run of digits (an id, an amount)
never matches: ``+`` and a country code (+44 (0)20 7946 0958); the North American 3-3-4 digits with separators
or the area code in parentheses, area code and exchange starting with 2-9 ((415) 555-2671, 1-800-555-0199); a
national number starting with the trunk prefix 0, as in most of Europe, in separated groups (01 23 45 67 89).
Redacted only with 9 to 15 digits (E.164 allows at most 15), which spares dates such as 01.02.2024 and short
codes."""


def _luhn_valid(number: pl.Expr) -> pl.Expr:
    """True when the digits of ``number`` pass the Luhn checksum: from the right, every second digit is doubled
    (9 subtracted when that exceeds 9), and the sum of all is a multiple of 10."""
    digits = number.str.replace_all(r"[^0-9]", "").str.reverse().str.split("").cast(pl.List(pl.Int64))
    doubled = digits.list.gather_every(2, offset=1).list.eval(pl.element() * 2 - pl.element().ge(5).cast(pl.Int64) * 9)
    return (digits.list.gather_every(2).list.sum() + doubled.list.sum()) % 10 == 0


@dataclass(frozen=True)
class _Kind:
    placeholder: str
    pattern: str
    """What a candidate looks like."""
    valid: Callable[[pl.Expr], pl.Expr]
    """Whether a candidate is redacted."""


_KINDS: dict[PiiKind, _Kind] = {
    "email": _Kind("<EMAIL>", _EMAIL, lambda match: pl.lit(True)),
    "ip_address": _Kind(
        "<IP_ADDRESS>",
        f"{_IPV6}|{_DOTTED_NUMBERS}",
        lambda match: match.str.contains(":", literal=True) | match.str.contains(_IPV4),
    ),
    "credit_card": _Kind("<CREDIT_CARD>", _CARD, _luhn_valid),
    "phone": _Kind("<PHONE>", _PHONE, lambda match: match.str.count_matches(r"[0-9]").is_between(9, 15)),
}
"""The kinds, in the order they are tried where two could match at the same place."""


@register("redact_pii")
class RedactPiiRefiner(Refiner):
    """Replace personal data in text by typed placeholders: ``<EMAIL>``, ``<IP_ADDRESS>``, ``<CREDIT_CARD>``,
    ``<PHONE>``.

    Pre-training corpora are scrubbed of contact and payment data so that a model cannot memorise and repeat it.
    Each kind has a regular expression for its candidates, documented beside it; the text is scanned once for all
    of them, leftmost match first and, where several start at the same place, in the order above. Candidates are
    checked per match before they are replaced, without Python: an IPv4 candidate must be exactly four octets,
    a card number must pass the Luhn checksum, a phone number must have 9 to 15 digits; a candidate that fails
    stays as written. The patterns lean towards missing data rather than eating ordinary numbers: years, prices,
    dates, bare digit runs and local numbers without an area code (555-0199) are not touched; four-part version
    strings (1.2.3.4) are taken for addresses. ``pii_count_key`` receives the number of redactions in each row.
    """

    kinds: list[PiiKind] = Field(
        default_factory=lambda: list(_KINDS),
        min_length=1,
        description="Which kinds of personal data to redact: email, ip_address, credit_card, phone",
    )

    def expressions(
        self, *, input_key: Read = "text", output_key: Write = "text", pii_count_key: Write = "pii_count"
    ) -> dict[str, pl.Expr]:
        kinds = [kind for name, kind in _KINDS.items() if name in self.kinds]
        candidate = "|".join(f"(?:{kind.pattern})" for kind in kinds)
        text = pl.col(input_key)
        redacted = rewrite_matches(text, candidate, lambda match: pl.coalesce(_placeholder(match, kinds), match))
        # Counted on the candidates rather than on the output: eager polars would compute the output twice.
        count = text.str.extract_all(candidate).list.eval(_placeholder(pl.element(), kinds).is_not_null()).list.sum()
        return {output_key: redacted, pii_count_key: count.cast(pl.Int64)}


def _placeholder(match: pl.Expr, kinds: list[_Kind]) -> pl.Expr:
    """The placeholder of the first kind whose pattern the whole match fits and whose check it passes; else null."""
    return pl.coalesce(
        [
            pl.when(match.str.contains(f"^(?:{kind.pattern})$") & kind.valid(match)).then(pl.lit(kind.placeholder))
            for kind in kinds
        ]
    )
