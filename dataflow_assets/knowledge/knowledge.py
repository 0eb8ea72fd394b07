"""``knowledge``: documents to checked QA pairs and instruction-tuning rows (DataFlow's knowledge extraction).

documents (PDF, HTML, DOCX, Markdown, text; a partition per file) -> chunks (by headings, long sections by
sentences) -> cleaned (LLM, raw chunk kept beside) -> qa (pairs per chunk) and multihop (questions over two
consecutive chunks) -> questions (both, stacked) -> support (lexical and embedding support scores) -> checked (an
LLM judge that must quote the chunk) -> sft (instruction / input / output). Every row leads back through
``chunk_ids`` and ``_parent_ids`` to its chunk, page and offsets in the file.
"""

from pathlib import Path

from dataflow_assets.knowledge.samples import SAMPLE_DOCUMENTS
from operators import ConcatRowsRefiner, Pipeline, Sequential
from operators.knowledge.evaluate.embedding_support import EmbeddingSupportEvaluator
from operators.knowledge.evaluate.lexical_support import LexicalSupportEvaluator
from operators.knowledge.filter.support_judge import SupportJudgeFilter
from operators.knowledge.generate.chunk_qa import ChunkQAGenerator
from operators.knowledge.generate.chunk_structure import ChunkStructureGenerator
from operators.knowledge.generate.multihop_qa import MultihopQAGenerator
from operators.knowledge.refine.clean_chunk import CleanChunkRefiner
from operators.knowledge.refine.flatten_qa import FlattenQARefiner
from operators.sources.documents import DocumentSource


class KnowledgePipeline(Pipeline):
    group = "knowledge"
    description = "Documents to cleaned chunks, QA pairs checked against their chunk, and instruction-tuning rows."
    text_columns = ("chunk",)

    def __init__(self, data_dir: Path | str = SAMPLE_DOCUMENTS) -> None:
        super().__init__()
        self.documents = DocumentSource(path=str(data_dir), partitioned=True)
        self.chunks = ChunkStructureGenerator(max_words=180)
        # Token limits sized to 180-word chunks (about 250 tokens): a cleaned chunk is no longer than the raw one.
        self.cleaned = CleanChunkRefiner(max_tokens=384)
        self.qa = ChunkQAGenerator(count=2, max_tokens=256)
        self.multihop = MultihopQAGenerator(hops=2, count=1, max_tokens=256)
        self.questions = ConcatRowsRefiner()
        self.support = Sequential(LexicalSupportEvaluator(), EmbeddingSupportEvaluator())
        self.checked = SupportJudgeFilter(max_tokens=128)
        self.sft = FlattenQARefiner()

    def forward(self):
        chunks = self.cleaned(self.chunks(self.documents()))
        single = self.qa(chunks, input_key="cleaned_chunk")
        multi = self.multihop(chunks, input_key="cleaned_chunk")
        questions = self.support(self.questions(single, multi))
        return self.sft(self.checked(questions))
