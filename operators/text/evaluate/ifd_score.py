from __future__ import annotations

from typing import Any, ClassVar

import polars as pl
from pydantic import Field

from operators.base import Evaluator, OpResult, Read, Write
from operators.registry import register
from operators.text.evaluate.perplexity import perplexity
from operators.text.evaluate.token_scores import token_scorer


@register("ifd_score")
class IfdScoreEvaluator(Evaluator):
    """Score how much an instruction helps the model produce its response: the instruction-following difficulty
    (IFD), the response's perplexity with the instruction over its perplexity alone.

    Li et al. (2024, "From Quantity to Quality") define IFD = PPL(response | instruction) / PPL(response); near 1
    the instruction barely helps (a hard, informative pair), above 1 the pair is inconsistent (the instruction makes
    the response less likely). Superfiltering (Li et al. 2024) shows a small model ranks IFD like a large one, and
    keeps pairs with IFD below 1 and highest among them. The perplexities come from the LLM engine's
    ``score_tokens`` (see ``token_scores``; an engine without it is refused with a hint); the response is scored
    after ``instruction_template`` filled with the instruction, and alone. Writes ``ifd_key``, and the two
    perplexities. Keep pairs with ``row_filter`` (``ifd_score < 1``) and rank by it. A row missing either text, or
    whose scoring failed, gets nulls.
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
        "### Instruction:\n{instruction}\n\n### Response:\n",
        description="Context put before the response; {instruction} is replaced (Superfiltering's Alpaca prompt)",
    )

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

    def run(self, *frames: pl.DataFrame, llm: Any, **keys: Any) -> OpResult:
        (df,) = frames
        bound = self.bind_keys(keys)
        instructions, responses = df[bound["input_key"]].to_list(), df[bound["response_key"]].to_list()
        rows = [i for i, (a, b) in enumerate(zip(instructions, responses, strict=True)) if a and b]
        scorer = token_scorer(llm)
        texts = [responses[i] for i in rows]
        contexts = [self.instruction_template.format(instruction=instructions[i]) for i in rows]
        conditioned = scorer.score_tokens(texts, contexts=contexts) if rows else []
        alone = scorer.score_tokens(texts) if rows else []
        columns: dict[str, list[float | None]] = {k: [None] * df.height for k in ("ifd", "with", "alone")}
        for i, with_instruction, without in zip(rows, conditioned, alone, strict=True):
            ppl_with, ppl_alone = perplexity(with_instruction), perplexity(without)
            columns["with"][i], columns["alone"][i] = ppl_with, ppl_alone
            if ppl_with is not None and ppl_alone:
                columns["ifd"][i] = ppl_with / ppl_alone
        return OpResult(
            kept=df.with_columns(
                pl.Series(bound["ifd_key"], columns["ifd"], dtype=pl.Float64),
                pl.Series(bound["conditioned_key"], columns["with"], dtype=pl.Float64),
                pl.Series(bound["alone_key"], columns["alone"], dtype=pl.Float64),
            )
        )
