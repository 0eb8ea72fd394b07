"""What the code filters share: the code column required, the language and path columns optional.

Code corpora come with a language column, a file path, both or neither; the filters' per-language rules take the
language from the first, else the path's extension, else ``default_language``. Since a key must name an existing
column, ``reads()`` lists only the code column; ``prepare`` looks the other two up (see
:func:`operators.code.languages.with_language`).
"""

from __future__ import annotations

from typing import ClassVar

import polars as pl
from pydantic import BaseModel, Field

from operators.code.languages import with_language

KEY_DOCS = {
    "input_code_key": "the source code",
    "input_language_key": "the language (optional column; python, javascript, cpp...)",
    "input_path_key": "the file path, whose extension gives the language when there is no language column (optional)",
}


class CodeColumns(BaseModel):
    """Mixed into a filter over source code (``class X(CodeColumns, Filter)``): the optional language and path
    columns (see the module docstring)."""

    key_docs: ClassVar[dict[str, str]] = KEY_DOCS

    default_language: str | None = Field(
        None, description="Language of rows with neither a language nor a path with a known extension"
    )

    def reads(self, keys: dict[str, str]) -> list[str]:
        return [keys["input_code_key"]]

    def prepare(self, df: pl.DataFrame, keys: dict[str, str]) -> pl.DataFrame:
        return with_language(df, keys, self.default_language)
