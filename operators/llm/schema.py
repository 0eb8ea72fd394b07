"""JSON answers as typed columns: the polars type a JSON schema's values take, and answers converted to it.

A structured answer lands in the table as data, not as a JSON string: one typed column per property of an object
schema, or one struct column. The mapping follows JSON Schema's types: ``string`` -> String, ``integer`` -> Int64,
``number`` -> Float64, ``boolean`` -> Boolean, ``array`` -> List of its ``items``, ``object`` with ``properties`` ->
Struct; anything looser (no type, a union, an object without properties) is kept as its JSON text (String).
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from operators.errors import DataflowError

_SCALARS: dict[str, pl.DataType] = {
    "string": pl.String(),
    "integer": pl.Int64(),
    "number": pl.Float64(),
    "boolean": pl.Boolean(),
}


def polars_dtype(schema: dict[str, Any]) -> pl.DataType:
    """The polars type of values matching ``schema``."""
    kind = schema.get("type")
    if isinstance(kind, list):  # ["string", "null"]: nullable, same column type
        kinds = [k for k in kind if k != "null"]
        kind = kinds[0] if len(kinds) == 1 else None
    if kind in _SCALARS:
        return _SCALARS[kind]
    if kind == "array" and isinstance(schema.get("items"), dict):
        return pl.List(polars_dtype(schema["items"]))
    if kind == "object" and schema.get("properties"):
        return pl.Struct({name: polars_dtype(sub) for name, sub in schema["properties"].items()})
    return pl.String()


def property_dtypes(schema: dict[str, Any]) -> dict[str, pl.DataType]:
    """Column name -> type for each property of an object schema; refuses any other schema."""
    if schema.get("type") != "object" or not schema.get("properties"):
        raise DataflowError(
            "a structured answer needs an object schema with properties",
            hint='e.g. {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}',
        )
    return {name: polars_dtype(sub) for name, sub in schema["properties"].items()}


def to_dtype(value: Any, dtype: pl.DataType) -> Any:
    """A parsed JSON value shaped for a column of ``dtype`` (loose values as JSON text)."""
    if value is None:
        return None
    if dtype == pl.String() and not isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if dtype == pl.Float64() and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(dtype, pl.List) and isinstance(value, list):
        return [to_dtype(v, dtype.inner) for v in value]
    if isinstance(dtype, pl.Struct) and isinstance(value, dict):
        return {f.name: to_dtype(value.get(f.name), f.dtype) for f in dtype.fields}
    return value
