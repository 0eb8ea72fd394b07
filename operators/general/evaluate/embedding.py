from __future__ import annotations

from typing import ClassVar

import polars as pl

from operators.base import Category, Operator, OpResult, Read, Write
from operators.embedder.protocol import Embedder
from operators.embedder.vectors import embed_columns, vector_column
from operators.registry import register


@register("embedding")
class EmbeddingEvaluator(Operator):
    """Embed each row's text as a unit-length vector (a list of float32) with the embedder engine.

    The vectors are L2-normalised, so the dot product of two is their cosine similarity; their length is the model's
    (384 for the default all-MiniLM-L6-v2, which reads at most 256 word pieces and ignores the rest). A null text
    gets a null vector; an empty one is embedded like any text. Vectors are cached by model and text, so
    rematerializing unchanged rows, or another step embedding the same texts, costs no model call. DataFlow's
    ``EmbeddingGenerator`` does the same job through an embedding serving that loads its local model by Hub name (a
    download on first use) and, over HTTP, sends one request per text with no cache; the embedder engine here loads
    a shipped model from disk and sends ``batch_size`` texts per request.
    """

    category: ClassVar[Category] = Category.EVALUATE
    engines: ClassVar[tuple[str, ...]] = ("embedder",)
    row_local: ClassVar[bool] = True  # each row's vectors come from that row's text alone
    key_method: ClassVar[str] = "vectors"
    key_docs: ClassVar[dict[str, str]] = {
        "input_key": "the text to embed",
        "output_key": "the text's unit-length embedding (list of float32; null where the text is null)",
    }
    references: ClassVar[tuple[str, ...]] = (
        "Reimers & Gurevych 2019, Sentence-BERT, arXiv:1908.10084",
        "Wang et al. 2020, MiniLM, arXiv:2002.10957",
    )
    example: ClassVar[str] = "embedded = EmbeddingEvaluator()(docs, input_key='text', output_key='embedding')"

    def vectors(
        self, df: pl.DataFrame, embedder: Embedder, *, input_key: Read = "text", output_key: Write = "embedding"
    ) -> pl.Series:
        present, (vectors,) = embed_columns(embedder, df[input_key])
        return vector_column(output_key, vectors, present)

    def run(self, *frames: pl.DataFrame, embedder: Embedder, **keys: str) -> OpResult:
        (df,) = frames
        return OpResult(kept=df.with_columns(self.vectors(df, embedder, **self.bind_keys(keys))))
