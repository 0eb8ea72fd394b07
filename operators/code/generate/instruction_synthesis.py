from __future__ import annotations

import random
from typing import Any, ClassVar

import polars as pl
from pydantic import Field

from operators.columns import ROW_ID
from operators.llm.dataset import ItemsPrompt, LLMItemsGenerator
from operators.llm.prompt import PromptTemplate
from operators.registry import register

SYNTHESIS_PROMPT = PromptTemplate(
    name="code_instruction_synthesis",
    version="1",
    system="You write new programming tasks. Answer with JSON only.",
    template=(
        "Here are example programming tasks:\n{% for example in examples %}- {{ example }}\n{% endfor %}\n"
        "Write {{ count }} new tasks in the same style, each solvable by one self-contained function and "
        'different from the examples and from each other. Answer as {"items": [{"instruction": <task>}, ...]}.'
    ),
)

INSTRUCTION_ITEM = {
    "type": "object",
    "properties": {"instruction": {"type": "string", "minLength": 20}},
    "required": ["instruction"],
}


@register("instruction_synthesis")
class InstructionSynthesisGenerator(LLMItemsGenerator):
    """Synthesize new programming tasks from a pool of examples: each prompt shows a few, asks for ``count`` more.

    Self-Instruct's bootstrapping (Wang et al. 2023) over a seed pool, as DataFlow's ``InstructionSynthesizer``:
    ``prompts`` prompts, each showing ``shots`` examples drawn at random (seeded by ``seed``, so a rerun draws the
    same) from ``example_column``. Each new task is a row whose ``_parent_ids`` are the examples shown.
    """

    inputs: ClassVar[int | None] = 1
    references = (
        "Wang et al. 2023, Self-Instruct: Aligning Language Models with Self-Generated Instructions, arXiv:2212.10560",
    )

    prompt: PromptTemplate = Field(SYNTHESIS_PROMPT, description="Template over `examples` (texts) and `count`")
    item_schema: dict[str, Any] = Field(INSTRUCTION_ITEM, description="Object JSON schema of one generated item")
    example_column: str = Field("instruction", description="Column of the pool shown as examples")
    prompts: int = Field(4, ge=1, le=1000, description="How many prompts, each with its own draw of examples")
    shots: int = Field(3, ge=1, le=20, description="Examples shown per prompt")
    count: int = Field(3, ge=1, le=100, description="New tasks asked for per prompt")
    max_tokens: int = Field(512, ge=1, description="Most tokens to generate per answer")
    temperature: float = Field(0.7, ge=0.0, le=2.0, description="Sampling temperature: variety helps here")

    def reads(self, keys: dict[str, str]) -> list[str]:
        return [self.example_column]

    def build_prompts(self, df: pl.DataFrame) -> list[ItemsPrompt]:
        pool = df.filter(pl.col(self.example_column).is_not_null())
        if pool.is_empty():
            return []
        ids = pool[ROW_ID].to_list() if ROW_ID in pool.columns else [None] * pool.height
        examples = pool[self.example_column].to_list()
        draw = random.Random(self.seed)
        prompts = []
        for _ in range(self.prompts):
            chosen = draw.sample(range(pool.height), min(self.shots, pool.height))
            text = self.prompt.render({"examples": [examples[i] for i in chosen], "count": self.count})
            prompts.append(ItemsPrompt(text, [ids[i] for i in chosen if ids[i] is not None]))
        return prompts
