from __future__ import annotations

from typing import Any, ClassVar

import polars as pl
from pydantic import Field, field_validator

from operators.base import Evaluator, OpResult, Read, Write
from operators.llm.protocol import LLM
from operators.registry import register
from operators.text.evaluate.token_scores import failure, perplexity, set_aside, token_scorer


@register("ifd_score")
class IfdScoreEvaluator(Evaluator):
    """Score how much an instruction helps the model produce its response: the instruction-following difficulty
    (IFD), the response's perplexity after the instruction over its perplexity alone.

    Li et al. (2024, "From Quantity to Quality", Cherry LLM) define IFD = PPL(response | instruction) /
    PPL(response): below 1 the instruction makes the response more likely, and the closer to 1 the less it helps
    (a hard, informative pair); at or above 1 the instruction does not help at all, a sign the pair is misaligned.
    Superfiltering (Li et al. 2024) shows a small model (GPT-2) ranks pairs by IFD much as a large one does: drop
    pairs with IFD >= 1, then keep the highest-IFD share of the rest. Both perplexities come from the LLM
    engine's ``LLM.score_tokens``: the response is scored after ``instruction_template`` filled with the
    instruction (Superfiltering's default prompt, the instruction and a newline), and alone from the start of a
    document; the instruction's own tokens are never scored. Data with a separate ``input`` column (Alpaca)
    should join it to the instruction first, as Superfiltering's ``{instruction}\\n{input}\\n`` prompt does.
    Writes ``ifd_key`` and the two perplexities; keep pairs with ``row_filter`` (``ifd_score < 1``) and rank by
    it. A row missing either text gets nulls; a row whose scoring failed is rejected as ``llm_<error kind>``.
    """

    engines: ClassVar[tuple[str, ...]] = ("llm",)
    key_method: ClassVar[str] = "scored_keys"
    references: ClassVar[tuple[str, ...]] = (
        "Li et al., From Quantity to Quality: Boosting LLM Performance with Self-Guided Data Selection for "
        "Instruction Tuning, NAACL 2024",
        "Li et al., Superfiltering: Weak-to-Strong Data Filtering for Fast Instruction-Tuning, ACL 2024",
    )
    key_docs: ClassVar[dict[str, str]] = {
        "ifd_key": "PPL(response | instruction) / PPL(response)",
        "conditioned_key": "perplexity of the response after the instruction",
        "alone_key": "perplexity of the response alone",
    }

    instruction_template: str = Field(
        "{instruction}\n",
        description="Context read before the response, {instruction} replaced by the instruction (Superfiltering's "
        "default; Cherry LLM wraps it in the Alpaca prompt)",
    )

    @field_validator("instruction_template")
    @classmethod
    def _names_the_instruction(cls, template: str) -> str:
        if "{instruction}" not in template:
            raise ValueError(f"instruction_template {template!r} must contain {{instruction}}")
        return template

    def scored_keys(
        self,
        *,
        input_key: Read = "instruction",
        response_key: Read = "response",
        ifd_key: Write = "ifd_score",
        conditioned_key: Write = "response_ppl_conditioned",
        alone_key: Write = "response_ppl",
    ) -> None:
        """The key bindings (the work needs the engine, so it is done in :meth:`run`)."""

    def run(self, *frames: pl.DataFrame, llm: LLM, **keys: Any) -> OpResult:
        (df,) = frames
        bound = self.bind_keys(keys)
        instructions, responses = df[bound["input_key"]].to_list(), df[bound["response_key"]].to_list()
        rows = [i for i, (a, b) in enumerate(zip(instructions, responses, strict=True)) if a and b]
        scorer = token_scorer(llm)
        texts = [responses[i] for i in rows]
        contexts = [self.instruction_template.replace("{instruction}", instructions[i]) for i in rows]
        conditioned = dict(zip(rows, scorer.score_tokens(texts, contexts=contexts) if rows else [], strict=True))
        alone = dict(zip(rows, scorer.score_tokens(texts) if rows else [], strict=True))
        columns: dict[str, list[float | None]] = {k: [None] * df.height for k in ("ifd", "with", "alone")}
        for i in rows:
            ppl_with, ppl_alone = perplexity(conditioned[i]), perplexity(alone[i])
            columns["with"][i], columns["alone"][i] = ppl_with, ppl_alone
            if ppl_with is not None and ppl_alone:
                columns["ifd"][i] = ppl_with / ppl_alone
        scored = df.with_columns(
            pl.Series(bound["ifd_key"], columns["ifd"], dtype=pl.Float64),
            pl.Series(bound["conditioned_key"], columns["with"], dtype=pl.Float64),
            pl.Series(bound["alone_key"], columns["alone"], dtype=pl.Float64),
        )
        failures = [failure(conditioned.get(i)) or failure(alone.get(i)) for i in range(df.height)]
        return set_aside(scored, failures)
