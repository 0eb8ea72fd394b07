"""The operator library: polars in, polars out. Nothing in this package imports Dagster."""

import operators.filter.dataflow  # noqa: F401  (registers DataFlow's 19 pre-training rules)
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
from operators.evaluate.language_id import LanguageIdEvaluator
from operators.evaluate.llm_quality_score import LLMQualityScoreEvaluator
from operators.evaluate.prompted_evaluator import PromptedEvaluator
from operators.evaluate.text_stats import TextStatsEvaluator
from operators.filter.alpagasus_judge import AlpagasusJudgeFilter
from operators.filter.c4_quality import C4QualityFilter
from operators.filter.exact_dedup import ExactDedupFilter
from operators.filter.fineweb_quality import FineWebQualityFilter
from operators.filter.gopher_quality import GopherQualityFilter
from operators.filter.gopher_repetition import GopherRepetitionFilter
from operators.filter.language import LanguageFilter
from operators.filter.minhash_dedup import MinHashDedupFilter
from operators.filter.prompted_filter import PromptedFilter
from operators.filter.word_count import WordCountFilter
from operators.generate.prompted_generator import PromptedGenerator
from operators.generate.sft_pair import SftPairGenerator
from operators.generate.split_paragraphs import SplitParagraphsGenerator
from operators.llm.prompt import PromptTemplate
from operators.llm.protocol import LLM, LLMResult
from operators.pipeline import Dataset, Pipeline, TracedPipeline
from operators.refine.c4_line_cleaner import C4LineCleanerRefiner
from operators.refine.column_expression import ColumnExpressionRefiner
from operators.refine.concat_rows import ConcatRowsRefiner
from operators.refine.normalize_text import NormalizeTextRefiner
from operators.refine.prompted_refiner import PromptedRefiner
from operators.refine.redact_pii import RedactPiiRefiner
from operators.refine.remove_emoji import RemoveEmojiRefiner
from operators.refine.remove_html import RemoveHtmlRefiner
from operators.refine.remove_urls import RemoveUrlsRefiner
from operators.registry import get_operator, list_operators
from operators.sequential import Sequential
from operators.source import FileSource

__all__ = [
    "LLM",
    "AlpagasusJudgeFilter",
    "BoundOperator",
    "C4LineCleanerRefiner",
    "C4QualityFilter",
    "Category",
    "ColumnExpressionRefiner",
    "ConcatRowsRefiner",
    "Dataset",
    "Evaluator",
    "ExactDedupFilter",
    "FileSource",
    "Filter",
    "FineWebQualityFilter",
    "Generator",
    "GopherQualityFilter",
    "GopherRepetitionFilter",
    "LLMQualityScoreEvaluator",
    "LLMResult",
    "LanguageFilter",
    "LanguageIdEvaluator",
    "MinHashDedupFilter",
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
    "RedactPiiRefiner",
    "Refiner",
    "RemoveEmojiRefiner",
    "RemoveHtmlRefiner",
    "RemoveUrlsRefiner",
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
