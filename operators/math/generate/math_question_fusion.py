from __future__ import annotations

import random
from typing import Any, ClassVar, Literal

import polars as pl
from pydantic import Field

from operators.columns import ROW_ID
from operators.llm.dataset import ItemsPrompt, LLMItemsGenerator
from operators.llm.prompt import PromptTemplate
from operators.math.generate.math_question_synthesis import QUESTION_ITEM
from operators.math.prompts import FUSION_STRATEGIES, QUESTION_FUSION
from operators.registry import register


@register("math_question_fusion")
class MathQuestionFusionGenerator(LLMItemsGenerator):
    """Fuse pairs of math problems into new problems that need both (MathFusion); each names its two parents.

    The problems are shuffled with ``pair_seed`` and paired in order (a dataset of 2k rows gives k pairs, at most
    ``max_pairs``); each pair is fused by a strategy of Pei et al. 2025: ``sequential`` (the first answer feeds the
    second problem), ``parallel`` (one problem needing both results) or ``conditional`` (one result selects a case
    of the other). Each fused problem is a new row with ``question`` and ``_parent_ids = [first id, second id]``;
    like synthesized problems, fused ones have no reference answer.
    """

    inputs: ClassVar[int | None] = 1
    references = (
        "Pei et al. 2025, MathFusion: Enhancing Mathematical Problem-solving of LLM through Instruction Fusion, "
        "arXiv:2503.16212",
    )
    example = "MathQuestionFusionGenerator(strategy='sequential', max_pairs=50, temperature=0.7)(problems)"
    requires = ("math_verify", "sympy")
    extra = "math"

    prompt: PromptTemplate = Field(
        QUESTION_FUSION, description="Fusion prompt; reads `first`, `second`, `strategy` and `count`"
    )
    item_schema: dict[str, Any] = Field(QUESTION_ITEM, description="Object JSON schema of one fused problem")
    count: int = Field(1, ge=1, le=10, description="Fused problems asked for per pair")
    max_tokens: int = Field(768, ge=1, description="Most tokens to generate per answer")
    strategy: Literal["sequential", "parallel", "conditional"] = Field(
        "sequential", description="How two problems are fused (MathFusion's three strategies)"
    )
    max_pairs: int | None = Field(None, ge=1, description="Most pairs fused (all pairs if unset)")
    pair_seed: int = Field(0, description="Seed of the shuffle that pairs the problems")
    question_column: str = Field("question", description="The column holding the problem text")

    def reads(self, keys: dict[str, str]) -> list[str]:
        return [self.question_column]

    def build_prompts(self, df: pl.DataFrame) -> list[ItemsPrompt]:
        rows = [(i, q) for i, q in df.select(ROW_ID, self.question_column).iter_rows() if q and q.strip()]
        random.Random(self.pair_seed).shuffle(rows)
        pairs = list(zip(rows[0::2], rows[1::2], strict=False))[: self.max_pairs]
        strategy = FUSION_STRATEGIES[self.strategy]
        return [
            ItemsPrompt(
                self.prompt.render({"first": a, "second": b, "strategy": strategy, "count": self.count}), [ida, idb]
            )
            for (ida, a), (idb, b) in pairs
        ]
