"""LLM generators of rows from a whole dataset or from nothing: each answer is a list of items, each item a row.

Row-wise LLM operators ask one prompt per input row. Some synthesis starts elsewhere: "write ten questions about
this table's schema" reads the dataset as a whole, and "write questions on these topics" reads no dataset at all
(Condor's from-scratch synthesis). A subclass says how to build its prompts (``build_prompts``, each with the ids
of the rows it was built from); the base asks them (``n`` samples each), checks every answer against an object
schema holding ``items`` (a list of objects of ``item_schema``) and turns each item into a new row with typed
columns, naming its parent rows in ``_parent_ids``. A prompt whose answer fails or cannot be used becomes a row of
the rejected table with its reason, so no failed call goes unseen.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

import polars as pl
from pydantic import Field, field_validator

from operators.base import Category, OpResult, assign_generated_ids
from operators.columns import PARENT_IDS, REJECT_DETAIL, REJECT_RULE, REJECT_SCORE, ROW_ID, SAMPLE
from operators.llm.base import AnswerError, LLMOperator
from operators.llm.protocol import LLM, LLMResult, Prompt
from operators.llm.schema import property_dtypes, to_dtype

ITEMS = "items"


@dataclass(frozen=True)
class ItemsPrompt:
    """One prompt of an items generator: what to ask, the rows it was built from, columns every item gets."""

    prompt: Prompt
    parents: list[str] = field(default_factory=list)
    carried: dict[str, Any] = field(default_factory=dict)


class LLMItemsGenerator(LLMOperator):
    """Base class: see the module docstring. Subclasses set ``inputs`` (0 or 1) and implement ``build_prompts``."""

    category: ClassVar[Category] = Category.GENERATE
    new_rows: ClassVar[bool] = True
    row_local: ClassVar[bool] = False
    carried_columns: ClassVar[dict[str, pl.DataType]] = {}
    """Columns every item of a prompt gets from its ``ItemsPrompt.carried`` (e.g. the topic), with their types."""

    item_schema: dict[str, Any] = Field(description="Object JSON schema of one generated item")
    count: int = Field(5, ge=1, le=100, description="Items asked for per prompt (the answer must hold exactly these)")

    @field_validator("item_schema")
    @classmethod
    def _object_schema(cls, schema: dict[str, Any]) -> dict[str, Any]:
        property_dtypes(schema)
        return schema

    def json_schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {ITEMS: {"type": "array", "items": self.item_schema, "minItems": 1, "maxItems": self.count}},
            "required": [ITEMS],
        }

    def build_prompts(self, *frames: pl.DataFrame) -> list[ItemsPrompt]:
        raise NotImplementedError

    def reads(self, keys: dict[str, str]) -> list[str]:
        return []

    def output_schema(self, keys: dict[str, str]) -> dict[str, pl.DataType]:
        return {**self.carried_columns, **property_dtypes(self.item_schema)}

    def writes(self, keys: dict[str, str]) -> list[str]:
        return list(self.output_schema(keys))

    def output_columns(self, available: list[str], keys: dict[str, str]) -> list[str]:
        return [ROW_ID, PARENT_IDS, SAMPLE, *self.writes(keys)]

    def parse(self, result: LLMResult, row: dict[str, Any]) -> dict[str, Any]:
        """Unused: items generators parse whole answers into several rows (``parse_items``)."""
        raise NotImplementedError

    def parse_items(self, result: LLMResult) -> list[dict[str, Any]]:
        items = result.parsed.get(ITEMS) if isinstance(result.parsed, dict) else None
        if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
            raise AnswerError(f"the answer holds no list of {ITEMS!r} objects")
        dtypes = property_dtypes(self.item_schema)
        return [{column: to_dtype(item.get(column), dtype) for column, dtype in dtypes.items()} for item in items]

    def run(self, *frames: pl.DataFrame, llm: LLM, **keys: str) -> OpResult:
        bound = self.bind_keys(keys)
        prompts = self.build_prompts(*frames, **bound)
        rows: list[dict[str, Any]] = []
        failures: list[dict[str, Any]] = []
        for spec, samples in zip(prompts, self.ask(llm, [p.prompt for p in prompts]), strict=True):
            for sample, result in enumerate(samples):
                try:
                    if not result.ok:
                        raise AnswerError(result.error_message or str(result.error))
                    items = self.parse_items(result)
                except AnswerError as error:
                    rule = f"llm_{result.error}" if not result.ok else "llm_unparseable_answer"
                    failures.append(_failure(spec, sample, rule, f"{error} (answer: {result.text!r:.200})"))
                    continue
                rows += [{**spec.carried, **item, PARENT_IDS: spec.parents, SAMPLE: sample} for item in items]
        schema = {**self.output_schema(bound), PARENT_IDS: pl.List(pl.String), SAMPLE: pl.Int64}
        kept = pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
        rejected = pl.DataFrame(
            failures,
            schema={
                **self.carried_columns,  # what the prompt carried (provenance, the partition) stays on its failure
                ROW_ID: pl.String,
                PARENT_IDS: pl.List(pl.String),
                SAMPLE: pl.Int64,
                "prompt": pl.String,
                REJECT_RULE: pl.String,
                REJECT_SCORE: pl.Float64,
                REJECT_DETAIL: pl.String,
            },
            orient="row",
        )
        return OpResult(kept=assign_generated_ids(kept, salt=self.fingerprint(bound)), rejected=rejected)


def _failure(spec: ItemsPrompt, sample: int, rule: str, detail: str) -> dict[str, Any]:
    prompt = spec.prompt if isinstance(spec.prompt, str) else json.dumps(spec.prompt, ensure_ascii=False)
    key = f"{prompt}|{sample}".encode()
    return {
        **spec.carried,
        ROW_ID: hashlib.blake2b(key, digest_size=8).hexdigest(),
        PARENT_IDS: spec.parents,
        SAMPLE: sample,
        "prompt": prompt,
        REJECT_RULE: rule,
        REJECT_SCORE: None,
        REJECT_DETAIL: detail,
    }
