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
from operators.evaluate.llm_quality_score import LLMQualityScoreEvaluator
from operators.evaluate.prompted_evaluator import PromptedEvaluator
from operators.evaluate.text_stats import TextStatsEvaluator
from operators.filter.alpagasus_judge import AlpagasusJudgeFilter
from operators.filter.exact_dedup import ExactDedupFilter
from operators.filter.prompted_filter import PromptedFilter
from operators.filter.word_count import WordCountFilter
from operators.generate.prompted_generator import PromptedGenerator
from operators.generate.sft_pair import SftPairGenerator
from operators.generate.split_paragraphs import SplitParagraphsGenerator
from operators.llm.prompt import PromptTemplate
from operators.llm.protocol import LLM, LLMResult
from operators.pipeline import Dataset, Pipeline, TracedPipeline
from operators.refine.column_expression import ColumnExpressionRefiner
from operators.refine.concat_rows import ConcatRowsRefiner
from operators.refine.normalize_text import NormalizeTextRefiner
from operators.refine.prompted_refiner import PromptedRefiner
from operators.registry import get_operator, list_operators
from operators.sequential import Sequential
from operators.source import FileSource

__all__ = [
    "LLM",
    "AlpagasusJudgeFilter",
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
    "LLMQualityScoreEvaluator",
    "LLMResult",
    "NormalizeTextRefiner",
    "OpResult",
    "Operator",
    "Pipeline",
    "PromptTemplate",
    "PromptedEvaluator",
    "PromptedFilter",
    "PromptedGenerator",
    "PromptedRefiner",
    "Read",
    "Refiner",
    "Rule",
    "Sequential",
    "SftPairGenerator",
    "SplitParagraphsGenerator",
    "TextStatsEvaluator",
    "TracedPipeline",
    "WordCountFilter",
    "Write",
    "get_operator",
    "list_operators",
]
