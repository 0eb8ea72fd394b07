"""DataFlow's heuristic rules for pre-training text (OpenDCAI/DataFlow, arXiv 2512.16676), as polars filters.

Each module reproduces one DataFlow filter class, with its code's default thresholds (the constructor signature,
not ``get_desc``), its bounds as they are (inclusive or exclusive) and its quirks, documented on the class. The
reference is ``dataflow/operators/general_text/filter/`` of the open-dataflow 1.0.13 release: the rules of
``rule_based_filter.py``, ``word_number_filter.py`` and ``blocklist_filter.py`` (``AlphaWordsFilter``,
``StopWordFilter`` and ``IDCardFilter`` from the current repository, NLTK's tokenizer left out). Registry keys carry a
``dataflow_`` prefix; each filter's rejection reason is its registry key and its score the measured value.
"""

from operators.text.filter.dataflow.alpha_words import AlphaWordsFilter
from operators.text.filter.dataflow.blocklist import BlocklistFilter
from operators.text.filter.dataflow.capital_words import CapitalWordsFilter
from operators.text.filter.dataflow.char_number import CharNumberFilter
from operators.text.filter.dataflow.colon_end import ColonEndFilter
from operators.text.filter.dataflow.content_null import ContentNullFilter
from operators.text.filter.dataflow.curly_bracket import CurlyBracketFilter
from operators.text.filter.dataflow.html_entity import HtmlEntityFilter
from operators.text.filter.dataflow.id_card import IdCardTermsFilter
from operators.text.filter.dataflow.line_end_with_ellipsis import LineEndWithEllipsisFilter
from operators.text.filter.dataflow.line_start_with_bulletpoint import LineStartWithBulletpointFilter
from operators.text.filter.dataflow.line_with_javascript import LineWithJavascriptFilter
from operators.text.filter.dataflow.lorem_ipsum import LoremIpsumFilter
from operators.text.filter.dataflow.mean_word_length import MeanWordLengthFilter
from operators.text.filter.dataflow.no_punc import NoPuncFilter
from operators.text.filter.dataflow.sentence_number import SentenceNumberFilter
from operators.text.filter.dataflow.special_character import SpecialCharacterFilter
from operators.text.filter.dataflow.stop_word import StopWordFilter
from operators.text.filter.dataflow.symbol_word_ratio import SymbolWordRatioFilter
from operators.text.filter.dataflow.unique_words import UniqueWordsFilter
from operators.text.filter.dataflow.watermark import WatermarkFilter
from operators.text.filter.dataflow.word_number import WordNumberFilter

RELEASE_RULES = (
    "BlocklistFilter",
    "CapitalWordsFilter",
    "CharNumberFilter",
    "ColonEndFilter",
    "ContentNullFilter",
    "CurlyBracketFilter",
    "HtmlEntityFilter",
    "LineEndWithEllipsisFilter",
    "LineStartWithBulletpointFilter",
    "LineWithJavascriptFilter",
    "LoremIpsumFilter",
    "MeanWordLengthFilter",
    "NoPuncFilter",
    "SentenceNumberFilter",
    "SpecialCharacterFilter",
    "SymbolWordRatioFilter",
    "UniqueWordsFilter",
    "WatermarkFilter",
    "WordNumberFilter",
)
"""The 19 rules of the open-dataflow 1.0.13 release (what ``benchmarks/text_rules.py`` races), by class name."""

__all__ = [
    "AlphaWordsFilter",
    "BlocklistFilter",
    "CapitalWordsFilter",
    "CharNumberFilter",
    "ColonEndFilter",
    "ContentNullFilter",
    "CurlyBracketFilter",
    "HtmlEntityFilter",
    "IdCardTermsFilter",
    "LineEndWithEllipsisFilter",
    "LineStartWithBulletpointFilter",
    "LineWithJavascriptFilter",
    "LoremIpsumFilter",
    "MeanWordLengthFilter",
    "NoPuncFilter",
    "SentenceNumberFilter",
    "SpecialCharacterFilter",
    "StopWordFilter",
    "SymbolWordRatioFilter",
    "UniqueWordsFilter",
    "WatermarkFilter",
    "WordNumberFilter",
]
