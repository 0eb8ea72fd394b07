from __future__ import annotations

from typing import ClassVar

import polars as pl
from pydantic import Field

from operators.columns import RESERVED, ROW_ID
from operators.llm.dataset import ItemsPrompt, LLMItemsGenerator
from operators.llm.prompt import PromptTemplate
from operators.registry import register

DATASET_PROMPT = PromptTemplate(
    name="items_from_dataset",
    version="1",
    system="You create new data rows that fit an existing dataset. Answer with JSON only.",
    template=(
        "Here are rows of a dataset:\n{% for row in rows %}- {{ row | tojson }}\n{% endfor %}\n"
        'Write {{ count }} new, varied items that fit this dataset. Answer as {"items": [...]}.'
    ),
)


@register("prompted_dataset_generator")
class PromptedDatasetGenerator(LLMItemsGenerator):
    """Generate new rows from a whole dataset at once: the prompt sees a sample of its rows, not one seed row.

    The template gets ``rows`` (up to ``max_rows`` rows, as dicts of ``columns``) and ``count``; the answer is
    ``{"items": [...]}`` of objects matching ``item_schema``, each a new row with typed columns whose
    ``_parent_ids`` are the rows shown. Use ``n`` > 1 (with temperature > 0) for several independent batches.
    """

    inputs: ClassVar[int | None] = 1

    prompt: PromptTemplate = Field(DATASET_PROMPT, description="Template over `rows` (list of dicts) and `count`")
    columns: list[str] | None = Field(None, description="Columns shown to the model (default: every data column)")
    max_rows: int = Field(20, ge=1, le=1000, description="Most rows rendered into the prompt (the first ones)")

    def reads(self, keys: dict[str, str]) -> list[str]:
        return list(self.columns or [])

    def build_prompts(self, df: pl.DataFrame) -> list[ItemsPrompt]:
        shown = df.head(self.max_rows)
        columns = self.columns or [c for c in shown.columns if c not in RESERVED]
        rows = shown.select(columns).to_dicts()
        parents = shown[ROW_ID].to_list() if ROW_ID in shown.columns else []
        return [ItemsPrompt(self.prompt.render({"rows": rows, "count": self.count}), parents)]
