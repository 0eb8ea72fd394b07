"""DataFlow's heuristic rules for pre-training text (OpenDCAI/DataFlow, arXiv 2512.16676), as polars filters.

Each module reproduces one DataFlow filter class, with its code's default thresholds (the constructor signature,
not ``get_desc``), its bounds as they are (inclusive or exclusive) and its quirks, documented on the class. The
reference is ``dataflow/operators/general_text/filter/`` of the open-dataflow 1.0.13 release: the rules of
``rule_based_filter.py``, ``word_number_filter.py`` and ``blocklist_filter.py``. Registry keys carry a
``dataflow_`` prefix; each filter's rejection reason is its registry key and its score the measured value.
"""

from operators.filter.dataflow.blocklist import BlocklistFilter
from operators.filter.dataflow.capital_words import CapitalWordsFilter
from operators.filter.dataflow.char_number import CharNumberFilter
from operators.filter.dataflow.colon_end import ColonEndFilter
from operators.filter.dataflow.content_null import ContentNullFilter
from operators.filter.dataflow.curly_bracket import CurlyBracketFilter
from operators.filter.dataflow.html_entity import HtmlEntityFilter
from operators.filter.dataflow.line_end_with_ellipsis import LineEndWithEllipsisFilter
from operators.filter.dataflow.line_start_with_bulletpoint import LineStartWithBulletpointFilter
from operators.filter.dataflow.line_with_javascript import LineWithJavascriptFilter
from operators.filter.dataflow.lorem_ipsum import LoremIpsumFilter
from operators.filter.dataflow.mean_word_length import MeanWordLengthFilter
from operators.filter.dataflow.no_punc import NoPuncFilter
from operators.filter.dataflow.sentence_number import SentenceNumberFilter
from operators.filter.dataflow.special_character import SpecialCharacterFilter
from operators.filter.dataflow.symbol_word_ratio import SymbolWordRatioFilter
from operators.filter.dataflow.unique_words import UniqueWordsFilter
from operators.filter.dataflow.watermark import WatermarkFilter
from operators.filter.dataflow.word_number import WordNumberFilter

__all__ = [
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
]
