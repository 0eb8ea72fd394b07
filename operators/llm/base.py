"""The base of LLM-driven operators: one prompt per row, one batched call, answers turned into columns.

A subclass writes two pure methods, as in distilabel: ``json_schema()`` (None for free text) and
``parse(result, row, **keys) -> {column: value}``; ``build_prompt(row)`` renders the template by default and may
return chat messages instead (multi-turn input). The base makes the call through the ``LLM`` protocol and assembles
the output. A generator of new rows may ask ``n`` samples per prompt (for voting, pass@k): each sample is a row of
its own naming the same parent, numbered in ``_sample``, asked with its own seed (``seed + i``) so that samples
differ and each is cached on its own. A row whose call failed, or whose answer cannot be parsed, is not
dropped and gets no placeholder value: it goes to the rejected rows with ``_reject_rule = "llm_<error kind>"`` and
the message in ``_reject_detail``. With ``new_rows = True`` (synthesis: a pair generated from a seed document is a
new sample) the answered rows get new ids and name their seed row in ``_parent_ids``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import polars as pl
from pydantic import Field, model_validator

from operators.base import Operator, OpResult, assign_generated_ids
from operators.columns import PARENT_IDS, REJECT_DETAIL, REJECT_RULE, REJECT_SCORE, ROW_ID, SAMPLE
from operators.llm.prompt import PromptTemplate
from operators.llm.protocol import LLM, LLMResult, Prompt

FAILED = "__llm_failed"


class AnswerError(ValueError):
    """An answer that came back but cannot be used; the row is rejected as ``llm_unparseable_answer``."""


class LLMOperator(Operator):
    """Base class: see the module docstring. Subclasses set ``category`` and implement ``parse``."""

    engines: ClassVar[tuple[str, ...]] = ("llm",)
    key_method: ClassVar[str] = "parse"
    row_local: ClassVar[bool] = True
    """One prompt per row: a row's answers depend on that row alone (its samples stay together in one batch)."""
    output_dtypes: ClassVar[dict[str, pl.DataType]] = {}
    """Polars type of each output column by key parameter name; String where not given."""

    prompt: PromptTemplate = Field(description="The prompt template, rendered from each row's columns")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="Sampling temperature")
    max_tokens: int = Field(256, ge=1, description="Most tokens to generate per answer")
    seed: int | None = Field(0, description="Sampling seed, for repeatable answers where the backend supports it")
    n: int = Field(1, ge=1, description="Samples per prompt (generators of new rows): each sample becomes a row")

    @model_validator(mode="after")
    def _samples_can_differ(self) -> LLMOperator:
        if self.n > 1 and not self.new_rows:
            raise ValueError(f"n={self.n}: only generators of new rows take several samples per prompt")
        if self.n > 1 and self.temperature == 0:
            raise ValueError(f"n={self.n} samples at temperature 0 would all be the same answer; raise temperature")
        return self

    def output_columns(self, available: list[str], keys: dict[str, str]) -> list[str]:
        columns = super().output_columns(available, keys)
        return [*columns, SAMPLE] if self.n > 1 and SAMPLE not in columns else columns

    def build_prompt(self, row: dict[str, Any]) -> Prompt:
        """The prompt for one row: the template rendered from its columns (override for chat messages)."""
        return self.prompt.render(row)

    def ask(self, llm: LLM, prompts: list[Prompt]) -> list[list[LLMResult]]:
        """Every prompt's ``n`` answers (sample-major calls, each sample with its own seed)."""
        answers = [
            llm.generate(
                prompts,
                system=self.prompt.system,
                json_schema=self.json_schema(),
                template=self.prompt.id,
                temperature=self.temperature,
                max_tokens=self.max_tokens,
                seed=None if self.seed is None else self.seed + sample,
            )
            for sample in range(self.n)
        ]
        return [list(per_prompt) for per_prompt in zip(*answers, strict=True)]

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
        reads = self.reads(bound)
        # A prompt that names no column is the same for every row; ``select([])`` would have no rows at all.
        rows = df.select(reads).to_dicts() if reads else [{} for _ in range(df.height)]
        answers = self.ask(llm, [self.build_prompt(row) for row in rows])
        outputs = [[self._outcome(r, row, bound) for r in samples] for samples, row in zip(answers, rows, strict=True)]
        if self.n == 1:
            return self._assemble(df, [samples[0] for samples in outputs], bound)
        # One row per sample: the input row repeated, numbered, each with its own answer.
        repeated = df.with_columns(pl.lit(list(range(self.n)), pl.List(pl.Int64)).alias(SAMPLE)).explode(SAMPLE)
        return self._assemble(repeated, [o for samples in outputs for o in samples], bound)

    def _outcome(self, result: LLMResult, row: dict[str, Any], keys: dict[str, str]) -> dict[str, Any]:
        if not result.ok:
            return {FAILED: (f"llm_{result.error}", result.error_message or result.error)}
        try:
            return self.parse(result, row, **keys)
        except AnswerError as error:
            return {FAILED: ("llm_unparseable_answer", f"{error} (answer: {result.text!r:.200})")}

    def output_schema(self, keys: dict[str, str]) -> dict[str, pl.DataType]:
        """Column -> polars type of every column ``parse`` fills: by default each ``Write`` key, typed by
        ``output_dtypes`` (String where not given)."""
        return {
            keys[k.name]: self.output_dtypes.get(k.name, pl.String())
            for k in self.key_parameters().values()
            if keys[k.name] in self.writes(keys)
        }

    def _assemble(self, df: pl.DataFrame, outputs: list[dict[str, Any]], keys: dict[str, str]) -> OpResult:
        columns = {
            column: pl.Series(column, [o.get(column) for o in outputs], dtype=dtype)
            for column, dtype in self.output_schema(keys).items()
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
        # A new row's parent is the row it was generated from, whatever that row's own parents were.
        kept = (
            assign_generated_ids(
                result.kept.with_columns(pl.concat_list(pl.col(ROW_ID)).alias(PARENT_IDS)), salt=self.fingerprint(keys)
            )
            if self.new_rows
            else result.kept
        )
        return OpResult(
            kept=kept,
            rejected=pl.concat(rejected, how="diagonal_relaxed") if rejected else rejected_calls,
            scores=result.scores,
        )

    def decide(self, answered: pl.DataFrame, keys: dict[str, str]) -> OpResult:
        """What to do with the rows that got a usable answer; by default keep them all (filters override)."""
        return OpResult(kept=answered)
