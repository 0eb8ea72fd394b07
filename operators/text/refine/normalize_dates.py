from __future__ import annotations

import polars as pl
from pydantic import Field

from operators.base import Read, Refiner, Write
from operators.registry import register
from operators.text.refine._rewrite_matches import rewrite_matches

_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4, "may": 5,
    "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9,
    "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}  # fmt: skip
_MONTH = "(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"[0-9]{1,2}(?:st|nd|rd|th)?"
_NUMERIC = r"([0-9]{1,2})(?:/([0-9]{1,2})/|\.([0-9]{1,2})\.|-([0-9]{1,2})-)([0-9]{4})"
"""A numeric date with the same separator twice (the regex engine has no back-references: one branch each)."""
_MONTH_FIRST = rf"({_MONTH})\s+({_DAY}),?\s+([0-9]{{4}})"
_DAY_FIRST = rf"({_DAY})\s+(?:of\s+)?({_MONTH}),?\s+([0-9]{{4}})"
_CANDIDATE = rf"(?i)\b(?:{_NUMERIC}|{_MONTH_FIRST}|{_DAY_FIRST})\b"
"""Dates written with a four-digit year: 5/3/2024, 05.03.2024, 5-3-2024; March 5, 2024, Mar. 5th 2024;
5 March 2024, 5th of March, 2024."""


@register("normalize_dates")
class NormalizeDatesRefiner(Refiner):
    """Rewrite dates in text as ISO 8601 (``2024-03-05``): "5/3/2024", "March 5, 2024", "5th of March 2024".

    Covers the date half of DataFlow's ``TextNormalizationRefiner``. DataFlow rewrites ``d/m/y`` with any 2-4
    digit year and no check ("31/31/99" becomes "99-31-31") and converts only the first "Month D, YYYY" or
    "D Month YYYY" date of a text (with ``strptime``'s locale-dependent month names). Here every date is
    rewritten, English month names and their abbreviations are read in any case, ordinal days (5th) are allowed,
    and a date is rewritten only when it exists (30 February stays as written). Numeric dates need a four-digit
    year and the same separator twice; whether 5/3/2024 is 5 March or May 3 is ``day_first`` (day first, as in most
    of the world, by default; False for the US order).
    """

    day_first: bool = Field(True, description="Read 5/3/2024 as 5 March (True) or as May 3 (False)")

    def expressions(self, *, input_key: Read = "text", output_key: Write = "text") -> dict[str, pl.Expr]:
        return {output_key: rewrite_matches(pl.col(input_key), _CANDIDATE, self._iso)}

    def _iso(self, match: pl.Expr) -> pl.Expr:
        def part(pattern: str, group: int) -> pl.Expr:
            return match.str.extract(f"(?i)^{pattern}$", group)

        def month(name: pl.Expr) -> pl.Expr:
            return name.str.to_lowercase().str.strip_chars_end(".").replace_strict(_MONTHS, default=None)

        def day(text: pl.Expr) -> pl.Expr:
            return text.str.extract(r"^([0-9]+)", 1)

        first, second = part(_NUMERIC, 1), pl.coalesce(part(_NUMERIC, 2), part(_NUMERIC, 3), part(_NUMERIC, 4))
        days = pl.coalesce(first if self.day_first else second, day(part(_MONTH_FIRST, 2)), day(part(_DAY_FIRST, 1)))
        months = pl.coalesce(
            (second if self.day_first else first).cast(pl.Int64),
            month(part(_MONTH_FIRST, 1)),
            month(part(_DAY_FIRST, 2)),
        )
        years = pl.coalesce(part(_NUMERIC, 5), part(_MONTH_FIRST, 3), part(_DAY_FIRST, 3))
        date = pl.format("{}-{}-{}", years, months, days).str.to_date("%Y-%m-%d", strict=False)
        return pl.coalesce(date.dt.to_string("%Y-%m-%d"), match)
