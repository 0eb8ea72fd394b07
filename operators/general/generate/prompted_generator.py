from __future__ import annotations

import json
from typing import Any, ClassVar

from pydantic import Field

from operators.base import Category, Write
from operators.llm.base import AnswerError, LLMOperator
from operators.llm.protocol import LLMResult
from operators.registry import register


@register("prompted_generator")
class PromptedGenerator(LLMOperator):
    """Generate a new column from a prompt over other columns (free text, or JSON matching a schema).

    One answer per row, so rows keep their ids. With ``json_schema`` the column holds the answer's JSON text,
    checked against the schema.
    """

    category: ClassVar[Category] = Category.GENERATE

    schema_: dict[str, Any] | None = Field(
        None, alias="json_schema", description="JSON schema the answer must match; free text when unset"
    )

    def json_schema(self) -> dict[str, Any] | None:
        return self.schema_

    def parse(self, result: LLMResult, row: dict[str, Any], *, output_key: Write = "generated") -> dict[str, Any]:
        if self.schema_ is not None:
            return {output_key: json.dumps(result.parsed, ensure_ascii=False)}
        text = (result.text or "").strip()
        if not text:
            raise AnswerError("empty answer")
        return {output_key: text}
