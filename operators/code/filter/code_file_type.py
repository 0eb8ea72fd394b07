from __future__ import annotations

import polars as pl
from pydantic import Field

from operators.base import Filter, Read, Rule
from operators.code.base import CodeColumns
from operators.code.languages import LANGUAGE
from operators.registry import register

_PATH = "__code_path"


@register("code_file_type")
class CodeFileTypeFilter(CodeColumns, Filter):
    """Rules by file type: allowed languages, data files that are too big, HTML without text, stray text files.

    Rejections, in this order, each scored with what it measured:

    * ``code_language_not_allowed``: with ``allowed_languages`` set, a file of another (or unknown) language.
    * ``code_data_file_too_long``: a data file (``data_languages``: JSON, YAML, CSV...) of more than
      ``max_data_lines`` lines (512): dumps, not code. Score: its lines.
    * ``code_html_little_text``: an HTML file whose visible text (without tags, scripts and styles) is shorter
      than ``min_html_text_chars`` (100) or less than ``min_html_text_fraction`` (0.2) of the file. Score: the
      fraction.
    * ``code_text_file_name``: a plain-text file (``.txt``, language ``text``) not named like project
      documentation (``text_file_names``: readme, notes, todo, description, cmakelists, or containing
      "requirement"); without a path it cannot be judged and is rejected.
    * ``code_xml_header``: a file that is not XML but starts (first 100 characters) with an XML declaration, as
      NeMo Curator's ``XMLHeaderFilter``.

    The rules are StarCoder's, as DataFlow's ``FileTypeFilter`` carries them; there the text-file rule can never
    apply, since text files go through its size check first.
    """

    references = (
        "Li et al. 2023, StarCoder: may the source be with you!, arXiv:2305.06161",
        "NVIDIA NeMo Curator, code filters (XMLHeaderFilter)",
    )

    allowed_languages: tuple[str, ...] | None = Field(None, description="Languages kept; None keeps every language")
    data_languages: tuple[str, ...] = Field(
        ("json", "yaml", "csv", "tsv", "toml", "xml", "text"), description="Languages whose files are data"
    )
    max_data_lines: int = Field(512, ge=1, description="Most lines a kept data file may have (inclusive)")
    min_html_text_chars: int = Field(100, ge=0, description="Fewest visible characters a kept HTML file has")
    min_html_text_fraction: float = Field(0.2, ge=0, le=1, description="Smallest share of visible text in HTML")
    text_file_names: tuple[str, ...] = Field(
        ("readme", "notes", "todo", "description", "cmakelists"),
        description="Names (without extension, case-insensitive) of the plain-text files kept",
    )

    def rules(
        self, *, input_code_key: Read = "code", input_language_key: Read = "language", input_path_key: Read = "path"
    ) -> dict[str, Rule]:
        code, language = pl.col(input_code_key), pl.col(LANGUAGE)
        allowed = (
            language.is_in(list(self.allowed_languages)).fill_null(False)
            if self.allowed_languages is not None
            else pl.lit(True)
        )
        lines = code.str.replace(r"\n$", "").str.count_matches("\n") + 1
        is_data = language.is_in(list(self.data_languages)).fill_null(False)
        visible = (
            code.str.replace_all(r"(?is)<(script|style)\b.*?</(script|style)>", "")
            .str.replace_all(r"(?s)<[^>]*>", "")
            .str.replace_all(r"\s+", " ")
            .str.strip_chars()
            .str.len_chars()
        )
        html_fraction = (visible / code.str.len_chars().clip(lower_bound=1)).alias("code_html_text_fraction")
        html_ok = (visible >= self.min_html_text_chars) & (html_fraction >= self.min_html_text_fraction)
        stem = pl.col(_PATH).str.to_lowercase().str.extract(r"([^/\\]+?)(?:\.[^./\\]*)?$")
        named = stem.is_in(list(self.text_file_names)) | stem.str.contains("requirement")
        xml_header = code.str.slice(0, 100).str.contains("<?xml version=", literal=True)
        return {
            "code_language_not_allowed": Rule(
                score=allowed.cast(pl.Float64).alias("code_language_allowed"), keep=allowed, detail=language
            ),
            "code_data_file_too_long": Rule(
                score=lines.alias("code_file_lines"), keep=~is_data | (lines <= self.max_data_lines)
            ),
            "code_html_little_text": Rule(score=html_fraction, keep=(language != "html").fill_null(True) | html_ok),
            "code_text_file_name": Rule(
                score=named.cast(pl.Float64).alias("code_text_file_named"),
                keep=(language != "text").fill_null(True) | named.fill_null(False),
            ),
            "code_xml_header": Rule(
                score=xml_header.cast(pl.Float64).alias("code_xml_header"),
                keep=(language == "xml").fill_null(False) | ~xml_header,
            ),
        }

    def prepare(self, df: pl.DataFrame, keys: dict[str, str]) -> pl.DataFrame:
        path = keys["input_path_key"]
        paths = pl.col(path).cast(pl.String) if path in df.columns else pl.lit(None, pl.String)
        return super().prepare(df, keys).with_columns(paths.alias(_PATH))
