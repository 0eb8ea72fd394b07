"""``agentic_rag``: documents to verified single- and multi-hop questions for training retrieval agents
(DataFlow's agentic RAG pipeline, with the documents' own passages as the corpus).

documents -> chunks (sentence-packed passages) -> index (hybrid BM25 + dense, an asset beside the tables) and
tasks (atomic: identifier, conclusion, question, answer per chunk) -> screened (leakage and difficulty rules) ->
dependent (wrong without the document, right with it) -> retrievable (its chunk is found for the question) ->
deep (one or two extra hops through linking chunks, each checked) and wide (pairs merged, consistency checked) ->
deep_retrievable / wide_retrievable (every chunk of the question found) -> questions (all three kinds stacked).
"""

from pathlib import Path

from dataflow_assets.knowledge.samples import SAMPLE_DOCUMENTS
from operators import ConcatRowsRefiner, Pipeline, Sequential
from operators.knowledge.generate.chunk_sentences import ChunkSentencesGenerator
from operators.rag.filter.difficulty import DifficultyFilter
from operators.rag.filter.document_dependence import DocumentDependenceFilter
from operators.rag.filter.leakage import LeakageFilter
from operators.rag.filter.retrieval_support import RetrievalSupportFilter
from operators.rag.generate.atomic_qa import AtomicQAGenerator
from operators.rag.generate.build_index import BuildIndexGenerator
from operators.rag.generate.depth_expand import DepthExpandGenerator
from operators.rag.generate.width_expand import WidthExpandGenerator
from operators.sources.documents import DocumentSource


class AgenticRagPipeline(Pipeline):
    group = "agentic_rag"
    description = "Documents to atomic, deeper and wider questions that need their documents and are retrievable."
    text_columns = ("question",)

    def __init__(self, data_dir: Path | str = SAMPLE_DOCUMENTS, *, depth_rounds: int = 2, k: int = 5) -> None:
        super().__init__()
        self.documents = DocumentSource(path=str(data_dir))
        self.chunks = ChunkSentencesGenerator(max_words=60, overlap_sentences=0)
        self.index = BuildIndexGenerator()
        self.tasks = AtomicQAGenerator(count=2, max_tokens=256)
        self.screened = Sequential(LeakageFilter(), DifficultyFilter())
        self.dependent = DocumentDependenceFilter()
        self.retrievable = RetrievalSupportFilter(k=k)
        self.deep = DepthExpandGenerator(rounds=depth_rounds)
        self.wide = WidthExpandGenerator(max_tokens=128)
        self.deep_retrievable = RetrievalSupportFilter(k=k)
        self.wide_retrievable = RetrievalSupportFilter(k=k)
        self.questions = ConcatRowsRefiner()

    def forward(self):
        chunks = self.chunks(self.documents())
        index = self.index(chunks)
        tasks = self.retrievable(self.dependent(self.screened(self.tasks(chunks))), index)
        deep = self.deep_retrievable(self.deep(tasks, chunks), index)
        wide = self.wide_retrievable(self.wide(tasks), index)
        return self.questions(tasks, deep, wide)
