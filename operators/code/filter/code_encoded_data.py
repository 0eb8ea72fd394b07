from __future__ import annotations

import polars as pl
from pydantic import Field

from operators.base import Filter, Read, Rule
from operators.code.base import CodeColumns
from operators.registry import register

BASE64 = r"[A-Za-z0-9+/]{64,}={0,2}"
HEX = r"(?:\b(?:0x|\\x)?[0-9a-fA-F]{2}(?:,\s*|\s+|\b)){8,}"
UNICODE_ESCAPES = r"(?:\\u[0-9a-fA-F]{4}){8,}"


@register("code_encoded_data")
class CodeEncodedDataFilter(CodeColumns, Filter):
    """Reject files that are mostly encoded data: base64 blobs, hex byte arrays, runs of ``\\u`` escapes.

    Embedded images, fonts, firmware and compiled resources are not code. A match is a run of 64+ base64
    characters, of 8+ hex bytes (``0x1f, 0x2e...``, ``\\x1f\\x2e...``, ``1f 2e ...``) or of 8+ unicode escapes.
    Rejections: ``code_encoded_data_run`` when the longest run exceeds ``max_run_chars`` (1024), score its length;
    ``code_encoded_data_fraction`` when runs cover more than ``max_fraction`` (0.5) of the characters, score that
    fraction. The thresholds are StarCoder's; DataFlow's ``DataPatternFilter`` uses the same rule with the line
    breaks counted inside base64 runs, so a long stretch of ordinary wrapped text can match there; here a run
    stops at a line break.
    """

    references = ("Li et al. 2023, StarCoder: may the source be with you!, arXiv:2305.06161",)

    max_run_chars: int = Field(1024, ge=1, description="Longest encoded run a kept file may have (inclusive)")
    max_fraction: float = Field(0.5, ge=0, le=1, description="Largest share of characters in encoded runs kept")

    def rules(
        self, *, input_code_key: Read = "code", input_language_key: Read = "language", input_path_key: Read = "path"
    ) -> dict[str, Rule]:
        code = pl.col(input_code_key)
        lengths = code.str.extract_all(f"{BASE64}|{HEX}|{UNICODE_ESCAPES}").list.eval(pl.element().str.len_chars())
        longest = lengths.list.max().fill_null(0).alias("code_encoded_longest_run")
        fraction = (lengths.list.sum() / code.str.len_chars().clip(lower_bound=1)).alias("code_encoded_fraction")
        return {
            "code_encoded_data_run": Rule(score=longest, keep=longest <= self.max_run_chars),
            "code_encoded_data_fraction": Rule(score=fraction, keep=fraction <= self.max_fraction),
        }
