from __future__ import annotations

from typing import Any, ClassVar

import polars as pl
from pydantic import Field, field_validator

from operators.base import Category, Write
from operators.llm.base import AnswerError, LLMOperator
from operators.llm.protocol import LLMResult
from operators.llm.schema import property_dtypes, to_dtype
from operators.registry import register


@register("prompted_structured")
class PromptedStructuredGenerator(LLMOperator):
    """Ask an LLM for a JSON object per row and store its properties as typed columns (or one struct column).

    The answer must match ``json_schema`` (an object schema with properties; enforced by the backend where it can
    be, always validated). Each property becomes a column of the type its schema gives (integer -> Int64, number ->
    Float64, array -> List, nested object -> Struct...), so downstream filters and SQL read data, not JSON text.
    With ``as_struct`` the whole object is one struct column named by ``output_key`` instead.
    """

    category: ClassVar[Category] = Category.GENERATE
    key_docs = {"output_key": "the answer as one struct column (with as_struct); else one column per property"}
    example = (
        'PromptedStructuredGenerator(prompt=PromptTemplate(name="tags", version="1", template="Tag: {{ text }}"),\n'
        '    json_schema={"type": "object", "required": ["topic", "level"],\n'
        '                 "properties": {"topic": {"type": "string"}, "level": {"type": "integer"}}})'
    )

    schema_: dict[str, Any] = Field(alias="json_schema", description="Object JSON schema of the answer")
    as_struct: bool = Field(False, description="Store the answer as one struct column instead of one per property")

    @field_validator("schema_")
    @classmethod
    def _object_schema(cls, schema: dict[str, Any]) -> dict[str, Any]:
        property_dtypes(schema)
        return schema

    def json_schema(self) -> dict[str, Any]:
        return self.schema_

    def output_schema(self, keys: dict[str, str]) -> dict[str, pl.DataType]:
        properties = property_dtypes(self.schema_)
        return {keys["output_key"]: pl.Struct(properties)} if self.as_struct else properties

    def writes(self, keys: dict[str, str]) -> list[str]:
        return list(self.output_schema(keys))

    def parse(self, result: LLMResult, row: dict[str, Any], *, output_key: Write = "structured") -> dict[str, Any]:
        if not isinstance(result.parsed, dict):
            raise AnswerError("the answer is not a JSON object")
        schema = self.output_schema({"output_key": output_key})
        if self.as_struct:
            return {output_key: to_dtype(result.parsed, schema[output_key])}
        return {column: to_dtype(result.parsed.get(column), dtype) for column, dtype in schema.items()}
