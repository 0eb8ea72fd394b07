from __future__ import annotations

import json
import subprocess
import tempfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import ClassVar

import polars as pl
from pydantic import Field

from operators.base import Evaluator, OpResult, Read, Write
from operators.code.base import KEY_DOCS, CodeColumns
from operators.code.languages import LANGUAGE
from operators.errors import DataflowError
from operators.registry import register


@register("code_lint")
class CodeLintEvaluator(CodeColumns, Evaluator):
    """Count ruff's lint findings in each Python row: ``lint_findings`` and the rule codes in ``lint_codes``.

    One ``ruff check --output-format json --isolated`` run over the batch (each row a file in a temporary
    folder), bounded by ``timeout_s``; ruff parses the code and never runs it. The default rules are pyflakes'
    (``F``: undefined names, unused imports and variables, redefinitions) and syntax errors (``E9``; reported as
    ``invalid-syntax``): findings that point at bugs rather than style. Rows that are not Python, are null or
    are longer than ``max_chars`` get nulls. Pair it with ``row_filter`` (``lint_findings = 0``) to filter.
    """

    key_method: ClassVar[str] = "keys"
    key_docs = {
        **KEY_DOCS,
        "output_count_key": "how many findings ruff reported",
        "output_codes_key": "the distinct rule codes found, sorted",
    }
    references = ("ruff (Astral), https://docs.astral.sh/ruff/",)

    select: tuple[str, ...] = Field(("E9", "F"), description="ruff rule codes or prefixes to check (--select)")
    max_chars: int = Field(200_000, ge=1, description="Longest code linted; longer rows get nulls")
    timeout_s: float = Field(120.0, gt=0, description="Seconds the ruff run may take before the step fails")
    default_language: str | None = Field(
        "python", description="Language of rows with neither a language nor a path with a known extension"
    )  # CodeColumns' field, defaulting to Python here

    def keys(
        self,
        *,
        input_code_key: Read = "code",
        input_language_key: Read = "language",
        input_path_key: Read = "path",
        output_count_key: Write = "lint_findings",
        output_codes_key: Write = "lint_codes",
    ) -> None:
        """Key bindings only: the work is in ``run``."""

    def run(self, *frames: pl.DataFrame, **keys: str) -> OpResult:
        (df,) = frames
        bound = self.bind_keys(keys)
        languages = self.prepare(df, bound)[LANGUAGE]
        codes = df[bound["input_code_key"]].to_list()
        linted = [
            i
            for i, (code, language) in enumerate(zip(codes, languages, strict=True))
            if code is not None and language == "python" and len(code) <= self.max_chars
        ]
        findings = self._ruff({i: codes[i] for i in linted})
        linted_rows = set(linted)
        counts = [sum(findings[i].values()) if i in linted_rows else None for i in range(df.height)]
        names = [sorted(findings[i]) if i in linted_rows else None for i in range(df.height)]
        return OpResult(
            kept=df.with_columns(
                pl.Series(bound["output_count_key"], counts, pl.Int64),
                pl.Series(bound["output_codes_key"], names, pl.List(pl.String)),
            )
        )

    def _ruff(self, sources: dict[int, str]) -> dict[int, Counter]:
        """Row index -> Counter of rule codes."""
        found: dict[int, Counter] = defaultdict(Counter)
        if not sources:
            return found
        from ruff.__main__ import find_ruff_bin

        with tempfile.TemporaryDirectory(prefix="dataflow-lint-") as folder:
            for index, code in sources.items():
                Path(folder, f"row_{index}.py").write_text(code, encoding="utf-8", errors="surrogatepass")
            command = [find_ruff_bin(), "check", "--output-format", "json", "--no-cache", "--isolated",
                       "--exit-zero", "--select", ",".join(self.select), folder]  # fmt: skip
            try:
                answer = subprocess.run(command, capture_output=True, text=True, timeout=self.timeout_s, check=True)
            except subprocess.TimeoutExpired:
                raise DataflowError(
                    f"code_lint: ruff took more than timeout_s={self.timeout_s:g}s for {len(sources)} rows",
                    hint="raise timeout_s or lower max_chars",
                ) from None
            except (OSError, subprocess.CalledProcessError) as error:
                raise DataflowError(f"code_lint: ruff failed: {getattr(error, 'stderr', '') or error}") from None
        for finding in json.loads(answer.stdout or "[]"):
            index = int(Path(finding["filename"]).stem.removeprefix("row_"))
            found[index][finding.get("code") or "invalid-syntax"] += 1
        return found
