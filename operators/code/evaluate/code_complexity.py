from __future__ import annotations

from typing import ClassVar

import lizard
import polars as pl
from pydantic import Field
from radon.complexity import cc_visit
from radon.metrics import mi_visit

from operators.base import Evaluator, OpResult, Read, Write
from operators.code.base import KEY_DOCS, CodeColumns
from operators.code.languages import EXTENSIONS, LANGUAGE
from operators.registry import register

_EXTENSION = {language: extension for extension, language in reversed(EXTENSIONS.items())}


@register("code_complexity")
class CodeComplexityEvaluator(CodeColumns, Evaluator):
    """Measure cyclomatic complexity (largest and mean per function) and, for Python, the maintainability index.

    Python goes through radon (McCabe complexity of every function, method and class block; the
    maintainability index from 0 to 100 of Oman and Hagemeister as radon computes it); other languages through
    lizard, which reads C-family languages, Java, JavaScript, Go, Rust, Ruby, PHP and more without building them.
    Code without functions has complexity 0 (one path through it). Rows that cannot be read (null, a syntax
    error, a language lizard does not know, longer than ``max_chars``) get nulls.
    """

    key_method: ClassVar[str] = "keys"
    key_docs = {
        **KEY_DOCS,
        "output_max_key": "the largest cyclomatic complexity of a function",
        "output_mean_key": "the mean cyclomatic complexity of the functions",
        "output_maintainability_key": "radon's maintainability index, 0-100 (Python only)",
    }
    references = (
        "McCabe 1976, A Complexity Measure, IEEE TSE",
        "radon, https://radon.readthedocs.io",
        "lizard, https://github.com/terryyin/lizard",
    )

    max_chars: int = Field(200_000, ge=1, description="Longest code measured; longer rows get nulls")
    default_language: str | None = Field(
        "python", description="Language of rows with neither a language nor a path with a known extension"
    )  # CodeColumns' field, defaulting to Python here

    def keys(
        self,
        *,
        input_code_key: Read = "code",
        input_language_key: Read = "language",
        input_path_key: Read = "path",
        output_max_key: Write = "complexity_max",
        output_mean_key: Write = "complexity_mean",
        output_maintainability_key: Write = "maintainability_index",
    ) -> None:
        """Key bindings only: the work is in ``run``."""

    def run(self, *frames: pl.DataFrame, **keys: str) -> OpResult:
        (df,) = frames
        bound = self.bind_keys(keys)
        languages = self.prepare(df, bound)[LANGUAGE]
        measured = [
            self._measure(code, language) if code is not None and len(code) <= self.max_chars else (None,) * 3
            for code, language in zip(df[bound["input_code_key"]], languages, strict=True)
        ]
        return OpResult(
            kept=df.with_columns(
                pl.Series(bound["output_max_key"], [m[0] for m in measured], pl.Int64),
                pl.Series(bound["output_mean_key"], [m[1] for m in measured], pl.Float64),
                pl.Series(bound["output_maintainability_key"], [m[2] for m in measured], pl.Float64),
            )
        )

    def _measure(self, code: str, language: str | None) -> tuple[int | None, float | None, float | None]:
        if language == "python":
            try:
                complexities = [block.complexity for block in cc_visit(code)]
                maintainability = float(mi_visit(code, multi=True))
            except Exception:  # radon on arbitrary code: a row it cannot read gets nulls, not a crash
                return None, None, None
        else:
            extension = _EXTENSION.get(language or "")
            if extension is None:
                return None, None, None
            try:
                analysis = lizard.analyze_file.analyze_source_code(f"row{extension}", code)
            except Exception:  # as for radon above
                return None, None, None
            complexities, maintainability = [f.cyclomatic_complexity for f in analysis.function_list], None
        if not complexities:
            return 0, 0.0, maintainability
        return max(complexities), sum(complexities) / len(complexities), maintainability
