from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Literal

import polars as pl
from pydantic import Field

from operators.base import Filter, Read, Rule
from operators.registry import register

IdKind = Literal["cn_resident_id", "es_dni_nie", "sg_nric"]

_B = r"(?-u:\b)"
_CN_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]
"""ISO 7064 MOD 11-2 weights of the 17 digits before the check character: 2^(17-i) mod 11."""


def _digit(text: pl.Expr, at: int) -> pl.Expr:
    return text.str.slice(at, 1).cast(pl.Int64, strict=False)


def _cn_valid(match: pl.Expr) -> pl.Expr:
    """GB 11643-1999: a real birth date (YYYYMMDD at 7-14) and the ISO 7064 MOD 11-2 check character, where the
    check value (12 - sum(d_i * w_i) mod 11) mod 11 is written 0-9 or X for 10."""
    total = pl.sum_horizontal([_digit(match, i) * weight for i, weight in enumerate(_CN_WEIGHTS)])
    check = (12 - total % 11) % 11
    written = match.str.slice(17, 1).str.to_uppercase()
    expected = pl.when(check == 10).then(pl.lit("X")).otherwise(check.cast(pl.String))
    born = match.str.slice(6, 8).str.to_date("%Y%m%d", strict=False).is_not_null()
    return born & (written == expected)


def _es_valid(match: pl.Expr) -> pl.Expr:
    """Spain's DNI (8 digits) and NIE (X, Y or Z for 0, 1, 2, then 7 digits): the letter is
    ``TRWAGMYFPDXBNJZSQVHLCKE`` at the number modulo 23."""
    bare = match.str.replace_all("-", "", literal=True).str.to_uppercase()
    number = bare.str.head(8).str.replace("^X", "0").str.replace("^Y", "1").str.replace("^Z", "2").cast(pl.Int64)
    letters = pl.lit(list("TRWAGMYFPDXBNJZSQVHLCKE"), dtype=pl.List(pl.String))
    return bare.str.slice(8, 1) == letters.list.get(number % 23)


def _sg_valid(match: pl.Expr) -> pl.Expr:
    """Singapore's NRIC/FIN (S, T, F, G, a 7-digit number, a check letter): weights 2 7 6 5 4 3 2, plus 4 for the
    T and G series, the sum modulo 11 indexes ``JZIHGFEDCBA`` (S, T) or ``XWUTRQPNMLK`` (F, G)."""
    prefix = match.str.slice(0, 1).str.to_uppercase()
    total = pl.sum_horizontal([_digit(match, i + 1) * w for i, w in enumerate((2, 7, 6, 5, 4, 3, 2))])
    total = total + pl.when(prefix.is_in(["T", "G"])).then(4).otherwise(0)
    citizen = pl.lit(list("JZIHGFEDCBA"), dtype=pl.List(pl.String)).list.get(total % 11)
    foreigner = pl.lit(list("XWUTRQPNMLK"), dtype=pl.List(pl.String)).list.get(total % 11)
    expected = pl.when(prefix.is_in(["S", "T"])).then(citizen).otherwise(foreigner)
    return match.str.slice(8, 1).str.to_uppercase() == expected


@dataclass(frozen=True)
class _Kind:
    pattern: str
    valid: Callable[[pl.Expr], pl.Expr]


_KINDS: dict[IdKind, _Kind] = {
    "cn_resident_id": _Kind(
        rf"{_B}[1-9][0-9]{{5}}(?:18|19|20)[0-9]{{2}}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{{3}}[0-9Xx]{_B}",
        _cn_valid,
    ),
    "es_dni_nie": _Kind(rf"{_B}(?:[0-9]{{8}}|[XYZxyz][0-9]{{7}})-?[A-HJ-NP-TV-Za-hj-np-tv-z]{_B}", _es_valid),
    "sg_nric": _Kind(rf"{_B}[STFGstfg][0-9]{{7}}[A-Za-z]{_B}", _sg_valid),
}


@register("id_card_number")
class IdCardNumberFilter(Filter):
    """Reject texts that contain identity-card numbers, recognised by their format and check character.

    Kinds: the Chinese resident identity number (18 characters: region, birth date, sequence, and an ISO 7064
    MOD 11-2 check character, GB 11643-1999; the date must exist), Spain's DNI and NIE (8 digits, or X/Y/Z and 7
    digits, and a mod-23 check letter) and Singapore's NRIC/FIN (a series letter, 7 digits, a weighted mod-11 check
    letter). A candidate that fails its check does not count, so order numbers, phone numbers and other digit runs
    of the same length pass: a random 18-digit run is taken for a Chinese ID about once in 11 times 30 (the date).
    DataFlow's ``IDCardFilter`` counts identity-related *words* instead (kept as ``dataflow_id_card``). The
    score ``id_card_numbers`` is the number of valid ID numbers; a text with more than ``max_count`` is rejected
    as ``id_card_number`` with the kinds found as the detail. Null texts are rejected.
    """

    references: ClassVar[tuple[str, ...]] = (
        "GB 11643-1999, Citizen identification number (China); ISO 7064:2003 MOD 11-2",
        "Real Decreto 1553/2005 (Spain's DNI check letter)",
    )

    kinds: list[IdKind] = Field(
        default_factory=lambda: list(_KINDS),
        min_length=1,
        description="Which ID numbers to look for: cn_resident_id, es_dni_nie, sg_nric",
    )
    max_count: int = Field(0, ge=0, description="Most valid ID numbers a kept text may contain")

    def rules(self, *, input_key: Read = "text") -> dict[str, Rule]:
        text = pl.col(input_key)
        counts = {
            name: text.str.extract_all(kind.pattern).list.eval(kind.valid(pl.element())).list.sum()
            for name, kind in _KINDS.items()
            if name in self.kinds
        }
        total = pl.sum_horizontal(counts.values()).alias("id_card_numbers")
        found = pl.concat_list([pl.when(count > 0).then(pl.lit(name)) for name, count in counts.items()])
        total = pl.when(text.is_not_null()).then(total)
        return {
            "id_card_number": Rule(
                score=total, keep=total <= self.max_count, detail=found.list.drop_nulls().list.join(",")
            )
        }
