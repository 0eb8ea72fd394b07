from __future__ import annotations

import polars as pl
from pydantic import Field, field_validator

from operators.base import Filter, Read, Rule
from operators.code.base import CodeColumns
from operators.code.languages import LANGUAGE
from operators.registry import register

LONG_LINE_LANGUAGES = ("html", "json", "markdown", "text", "xml", "csv", "tsv", "svg", "latex", "rst")
"""Formats whose lines are legitimately long (one JSON document per line, wrapped prose): StarCoder's exceptions."""


@register("code_length")
class CodeLengthFilter(CodeColumns, Filter):
    """Reject files with too few or too many lines, or with lines too long for their language (minified code).

    Rejections, scored with the measured value: ``code_too_few_lines`` / ``code_too_many_lines`` (between
    ``min_lines`` and ``max_lines``, inclusive; a trailing newline does not start a line, an empty file has none),
    ``code_line_too_long`` (the longest line, in characters, above the language's limit in
    ``max_line_length``) and ``code_mean_line_too_long`` (the mean line length above the language's limit in
    ``max_mean_line_length``; a language mapped to None there has no such limit). Both maps hold a ``default``
    for languages they do not name. The defaults are StarCoder's and DataFlow's ``CodeLengthFilter``: at most
    100,000 lines, lines of at most 1,000 characters and a mean of at most 100, except for data and markup formats
    (up to 100,000-character lines, no mean limit).
    """

    references = ("Li et al. 2023, StarCoder: may the source be with you!, arXiv:2305.06161",)

    min_lines: int = Field(1, ge=0, description="Fewest lines a kept file may have (inclusive)")
    max_lines: int = Field(100_000, ge=1, description="Most lines a kept file may have (inclusive)")
    max_line_length: dict[str, int] = Field(
        {"default": 1000, **dict.fromkeys(LONG_LINE_LANGUAGES, 100_000)},
        description="Longest line kept, in characters, by language ('default' for the others)",
    )
    max_mean_line_length: dict[str, float | None] = Field(
        {"default": 100, **dict.fromkeys(LONG_LINE_LANGUAGES)},
        description="Largest mean line length kept, by language ('default' for the others; None: no limit)",
    )

    @field_validator("max_line_length", "max_mean_line_length")
    @classmethod
    def _has_default(cls, limits: dict) -> dict:
        if "default" not in limits:
            raise ValueError("the limits need a 'default' entry for the languages they do not name")
        return limits

    def rules(
        self, *, input_code_key: Read = "code", input_language_key: Read = "language", input_path_key: Read = "path"
    ) -> dict[str, Rule]:
        code = pl.col(input_code_key).str.replace(r"\n$", "")
        lines = code.str.split("\n")
        count = pl.when(code == "").then(0).otherwise(lines.list.len()).alias("code_line_count")
        longest = lines.list.eval(pl.element().str.len_chars()).list.max().alias("code_longest_line")
        mean = pl.when(count > 0).then((code.str.len_chars() - count + 1) / count).alias("code_mean_line_length")
        language = pl.col(LANGUAGE).fill_null("default")
        max_line = language.replace_strict(
            self.max_line_length, default=self.max_line_length["default"], return_dtype=pl.Int64
        )
        max_mean = language.replace_strict(
            self.max_mean_line_length, default=self.max_mean_line_length["default"], return_dtype=pl.Float64
        )  # null: no limit for that language
        return {
            "code_too_few_lines": Rule(score=count, keep=count >= self.min_lines),
            "code_too_many_lines": Rule(score=count, keep=count <= self.max_lines),
            "code_line_too_long": Rule(score=longest, keep=longest <= max_line),
            "code_mean_line_too_long": Rule(score=mean, keep=max_mean.is_null() | mean.is_null() | (mean <= max_mean)),
        }
