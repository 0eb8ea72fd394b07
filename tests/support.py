"""What many tests share: a frame builder and a scripted LLM (one copy each, not one per test file)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import polars as pl
import pyarrow.parquet as pq
from deltalake import DeltaTable

from operators.engines import CounterUsage
from operators.llm.protocol import LLMResult


def frame(texts: Sequence[str | None] | Mapping[str, str | None], column: str = "text", **columns: Any) -> pl.DataFrame:
    """Rows with ids ``r0, r1, ...`` (or the mapping's keys) and ``texts`` in ``column``, plus any other columns."""
    ids = list(texts) if isinstance(texts, Mapping) else [f"r{i}" for i in range(len(texts))]
    values = list(texts.values()) if isinstance(texts, Mapping) else list(texts)
    return pl.DataFrame({"_row_id": ids, column: values, **columns}, schema_overrides={column: pl.String})


def ok(text: str) -> LLMResult:
    return LLMResult(text=text)


def as_json(value: Any) -> LLMResult:
    return LLMResult(text=json.dumps(value), parsed=value)


def failed(kind: str, message: str = "") -> LLMResult:
    return LLMResult(text=None, error=kind, error_message=message or kind)


Script = Mapping[str, LLMResult] | Callable[[str], LLMResult]


class ScriptedLLM:
    """An ``LLM`` that answers from a script (prompt -> result, or a function of the prompt) and records every call.

    For unit tests of parsing and control flow only: features are also tested against the embedded model.
    """

    model_id = "scripted"
    identity = "scripted"

    def __init__(self, answers: Script) -> None:
        self.answers = answers
        self.calls: list[dict[str, Any]] = []

    def generate(self, prompts: Sequence[Any], **options: Any) -> list[LLMResult]:
        self.calls.append({"prompts": list(prompts), **options})
        return [self._answer(prompt) for prompt in prompts]

    def _answer(self, prompt: Any) -> LLMResult:
        key = prompt if isinstance(prompt, str) else json.dumps(prompt)
        return self.answers(key) if callable(self.answers) else self.answers[key]

    @property
    def prompts(self) -> list[Any]:
        return [prompt for call in self.calls for prompt in call["prompts"]]

    def usage(self) -> CounterUsage:
        return CounterUsage({"calls": float(len(self.prompts))})


def parquet_codecs(table_uri: str) -> set[str]:
    """The compression codecs of a Delta table's data files."""
    return {pq.ParquetFile(f).metadata.row_group(0).column(0).compression for f in DeltaTable(table_uri).file_uris()}
