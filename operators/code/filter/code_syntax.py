from __future__ import annotations

import polars as pl
from pydantic import Field

from operators.base import Filter, Read, Rule
from operators.code import syntax
from operators.code.base import CodeColumns
from operators.code.languages import LANGUAGE
from operators.registry import register

_STATUS, _DETAIL = "__syntax_status", "__syntax_detail"


@register("code_syntax")
class CodeSyntaxFilter(CodeColumns, Filter):
    """Keep code that parses: Python with ``ast``, some 170 other languages with tree-sitter's bundled grammars.

    Rejections, with the place of the first error in the detail: ``code_syntax_error`` (also for a null code),
    ``code_syntax_unknown_language`` (no grammar for the row's language, or no language at all: such a row cannot
    be judged, so it is not waved through) and ``code_syntax_too_long`` (longer than ``max_chars``, not parsed).
    The score is 1 for a row that parses. tree-sitter recovers from errors and marks them in the tree; a row is
    rejected when the tree holds any error or missing node.
    """

    references = ("tree-sitter-language-pack 0.13 (bundled grammars)", "Python ast module")

    default_language: str | None = Field(
        "python", description="Language of rows with neither a language nor a path with a known extension"
    )
    max_chars: int = Field(200_000, ge=1, description="Longest code parsed; longer rows are rejected unparsed")

    def rules(
        self, *, input_code_key: Read = "code", input_language_key: Read = "language", input_path_key: Read = "path"
    ) -> dict[str, Rule]:
        status, detail = pl.col(_STATUS), pl.col(_DETAIL)
        parses = (status == "ok").cast(pl.Float64).alias("code_parses")
        return {
            "code_syntax_unknown_language": Rule(score=parses, keep=status != "unknown_language", detail=detail),
            "code_syntax_too_long": Rule(score=parses, keep=status != "too_long", detail=detail),
            "code_syntax_error": Rule(score=parses, keep=status == "ok", detail=detail),
        }

    def prepare(self, df: pl.DataFrame, keys: dict[str, str]) -> pl.DataFrame:
        prepared = super().prepare(df, keys)
        checked = [
            syntax.check(code, language, self.max_chars)
            for code, language in zip(prepared[keys["input_code_key"]], prepared[LANGUAGE], strict=True)
        ]
        return prepared.with_columns(
            pl.Series(_STATUS, [status for status, _ in checked], pl.String),
            pl.Series(_DETAIL, [detail for _, detail in checked], pl.String),
        )
