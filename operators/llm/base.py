"""The base of LLM-driven operators: one prompt per row, one batched call, answers turned into columns.

A subclass writes two pure methods, as in distilabel: ``json_schema()`` (None for free text) and
``parse(result, row, **keys) -> {column: value}``. The base renders the prompts, makes the call through the
``LLM`` protocol and assembles the output. A row whose call failed, or whose answer cannot be parsed, is not
dropped and gets no placeholder value: it goes to the rejected rows with ``_reject_rule = "llm_<error kind>"`` and
the message in ``_reject_detail``. With ``new_rows = True`` (synthesis: a pair generated from a seed document is a
new sample) the answered rows get new ids and name their seed row in ``_parent_ids``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import polars as pl
from pydantic import Field

from operators.base import Operator, OpResult, assign_generated_ids
from operators.columns import REJECT_DETAIL, REJECT_RULE, REJECT_SCORE
from operators.llm.prompt import PromptTemplate
from operators.llm.protocol import LLM, LLMResult

FAILED = "__llm_failed"


class AnswerError(ValueError):
    """An answer that came back but cannot be used; the row is rejected as ``llm_unparseable_answer``."""


class LLMOperator(Operator):
    """Base class: see the module docstring. Subclasses set ``category`` and implement ``parse``."""

    engines: ClassVar[tuple[str, ...]] = ("llm",)
    key_method: ClassVar[str] = "parse"
    output_dtypes: ClassVar[dict[str, pl.DataType]] = {}
    """Polars type of each output column by key parameter name; String where not given."""

    prompt: PromptTemplate = Field(description="The prompt template, rendered from each row's columns")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="Sampling temperature")
    max_tokens: int = Field(256, ge=1, description="Most tokens to generate per answer")
    seed: int | None = Field(0, description="Sampling seed, for repeatable answers where the backend supports it")

    def json_schema(self) -> dict[str, Any] | None:
        """The JSON schema answers must match, or None for free text."""
        return None

    def parse(self, result: LLMResult, row: dict[str, Any]) -> dict[str, Any]:
        """Turn one successful answer into output columns; raise :class:`AnswerError` for an unusable one."""
        raise NotImplementedError

    def reads(self, keys: dict[str, str]) -> list[str]:
        return list(dict.fromkeys([*self.prompt.columns(), *super().reads(keys)]))

    def run(self, *frames: pl.DataFrame, llm: LLM, **keys: str) -> OpResult:
        (df,) = frames
        bound = self.bind_keys(keys)
        rows = df.select(self.reads(bound)).to_dicts()
        results = llm.generate(
            [self.prompt.render(row) for row in rows],
            system=self.prompt.system,
            json_schema=self.json_schema(),
            template=self.prompt.id,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            seed=self.seed,
        )
        outputs = [self._outcome(result, row, bound) for result, row in zip(results, rows, strict=True)]
        return self._assemble(df, outputs, bound)

    def _outcome(self, result: LLMResult, row: dict[str, Any], keys: dict[str, str]) -> dict[str, Any]:
        if not result.ok:
            return {FAILED: (f"llm_{result.error}", result.error_message or result.error)}
        try:
            return self.parse(result, row, **keys)
        except AnswerError as error:
            return {FAILED: ("llm_unparseable_answer", f"{error} (answer: {result.text!r:.200})")}

    def _assemble(self, df: pl.DataFrame, outputs: list[dict[str, Any]], keys: dict[str, str]) -> OpResult:
        columns = {
            keys[name]: pl.Series(
                keys[name], [o.get(keys[name]) for o in outputs], dtype=self.output_dtypes.get(name, pl.String)
            )
            for name in self.key_parameters()
            if keys[name] in self.writes(keys)
        }
        failures = [o.get(FAILED) for o in outputs]
        answered = df.with_columns(*columns.values()).with_columns(
            pl.Series(REJECT_RULE, [f[0] if f else None for f in failures], dtype=pl.String),
            pl.Series(REJECT_DETAIL, [f[1] if f else None for f in failures], dtype=pl.String),
        )
        failed = pl.col(REJECT_RULE).is_not_null()
        result = self.decide(answered.filter(~failed).drop(REJECT_RULE, REJECT_DETAIL), keys)
        rejected_calls = answered.filter(failed).with_columns(pl.lit(None, pl.Float64).alias(REJECT_SCORE))
        rejected = [frame for frame in (rejected_calls, result.rejected) if frame is not None and frame.height]
        kept = assign_generated_ids(result.kept, salt=self.fingerprint(keys)) if self.new_rows else result.kept
        return OpResult(
            kept=kept,
            rejected=pl.concat(rejected, how="diagonal_relaxed") if rejected else rejected_calls,
            scores=result.scores,
        )

    def decide(self, answered: pl.DataFrame, keys: dict[str, str]) -> OpResult:
        """What to do with the rows that got a usable answer; by default keep them all (filters override)."""
        return OpResult(kept=answered)
