"""The operator library: polars in, polars out. Nothing in this package imports Dagster.

The framework (operator categories, pipelines, sources, the LLM protocol, engines) is imported from here by name.
Operators live in domain packages (``operators/general``, ``operators/text``, ...) that are discovered, not listed:
``from operators import WordCountFilter`` finds the class in the registry (see ``operators.domains``).
"""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)  # domains may live in other folders on the import path

from operators.base import (
    BoundOperator,
    Category,
    Evaluator,
    Filter,
    Generator,
    Operator,
    OpResult,
    Read,
    Refiner,
    Rule,
    Write,
)
from operators.domains import DomainSpec, discover
from operators.llm.prompt import PromptTemplate
from operators.llm.protocol import LLM, LLMResult, TokenScores
from operators.pipeline import Dataset, Pipeline, TracedPipeline
from operators.registry import describe, get_operator, list_operators, register, registered
from operators.sequential import Sequential
from operators.sources.file_source import FileSource

__all__ = [
    "LLM",
    "BoundOperator",
    "Category",
    "Dataset",
    "DomainSpec",
    "Evaluator",
    "FileSource",
    "Filter",
    "Generator",
    "LLMResult",
    "OpResult",
    "Operator",
    "Pipeline",
    "PromptTemplate",
    "Read",
    "Refiner",
    "Rule",
    "Sequential",
    "TokenScores",
    "TracedPipeline",
    "Write",
    "describe",
    "discover",
    "get_operator",
    "list_operators",
    "register",
    "registered",
]


def __getattr__(name: str) -> type[Operator]:
    """An operator class by its class name, from whichever domain registered it."""
    for cls in registered().values():
        if cls.__name__ == name:
            return cls
    raise AttributeError(f"module 'operators' has no attribute {name!r} (no registered operator class of that name)")
