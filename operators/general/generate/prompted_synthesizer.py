from __future__ import annotations

from typing import ClassVar

import polars as pl
from pydantic import Field

from operators.llm.dataset import ItemsPrompt, LLMItemsGenerator
from operators.llm.prompt import PromptTemplate
from operators.registry import register

TOPIC_PROMPT = PromptTemplate(
    name="items_on_a_topic",
    version="1",
    system="You write training data. Answer with JSON only.",
    template='Write {{ count }} varied items about: {{ topic }}. Answer as {"items": [...]}.',
)


@register("prompted_synthesizer")
class PromptedSynthesizer(LLMItemsGenerator):
    """Generate rows from nothing: one prompt per topic, each answer a list of new rows (synthesis from scratch).

    A pipeline step with no input dataset (``self.synth()`` in ``forward()``). Every item keeps its ``topic``;
    its ``_parent_ids`` is empty, since no row came before it. Cf. Condor's knowledge-driven synthesis (Cao et al.
    2025), which starts from a taxonomy of topics.
    """

    inputs: ClassVar[int | None] = 0
    carried_columns: ClassVar[dict[str, pl.DataType]] = {"topic": pl.String()}

    prompt: PromptTemplate = Field(TOPIC_PROMPT, description="Template over `topic` and `count`")
    topics: list[str] = Field(min_length=1, description="One prompt per topic")

    def build_prompts(self) -> list[ItemsPrompt]:
        return [
            ItemsPrompt(self.prompt.render({"topic": topic, "count": self.count}), carried={"topic": topic})
            for topic in self.topics
        ]
