"""The operator library: polars in, polars out. Nothing in this package imports Dagster."""

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
from operators.evaluate.text_stats import TextStatsEvaluator
from operators.filter.exact_dedup import ExactDedupFilter
from operators.filter.word_count import WordCountFilter
from operators.generate.split_paragraphs import SplitParagraphsGenerator
from operators.pipeline import Dataset, Pipeline, TracedPipeline
from operators.refine.column_expression import ColumnExpressionRefiner
from operators.refine.concat_rows import ConcatRowsRefiner
from operators.refine.normalize_text import NormalizeTextRefiner
from operators.registry import get_operator, list_operators
from operators.sequential import Sequential
from operators.source import FileSource

__all__ = [
    "BoundOperator",
    "Category",
    "ColumnExpressionRefiner",
    "ConcatRowsRefiner",
    "Dataset",
    "Evaluator",
    "ExactDedupFilter",
    "FileSource",
    "Filter",
    "Generator",
    "NormalizeTextRefiner",
    "OpResult",
    "Operator",
    "Pipeline",
    "Read",
    "Refiner",
    "Rule",
    "Sequential",
    "SplitParagraphsGenerator",
    "TextStatsEvaluator",
    "TracedPipeline",
    "WordCountFilter",
    "Write",
    "get_operator",
    "list_operators",
]
