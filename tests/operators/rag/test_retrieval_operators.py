"""The index step and the query steps: one index row naming every passage, retrieval per row, and the
verification-by-retrieval filter with its reasons."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from operators.errors import DataflowError
from operators.rag.filter.retrieval_support import RetrievalSupportFilter
from operators.rag.generate.build_index import BuildIndexGenerator
from operators.rag.refine.retrieve import RetrieveRefiner
from resources.retriever.resource import RetrieverResource
from tests.rag_support import HashingEmbedder
from tests.support import frame

CHUNKS = frame(
    {
        "c1": "Tobias Rennick kept the lighthouse for twenty-six years.",
        "c2": "Granite for the tower came from the Colm Ridge quarry.",
        "c3": "The Grey Horse bore runs up the Veskel estuary.",
    },
    column="chunk",
)


@pytest.fixture
def engines(tmp_path: Path) -> dict:
    return {"retriever": RetrieverResource(index_root=str(tmp_path / "idx")), "embedder": HashingEmbedder()}


def test_the_index_step_gives_one_row_naming_every_passage(engines: dict) -> None:
    index = BuildIndexGenerator().run(CHUNKS, **engines).kept
    (row,) = index.iter_rows(named=True)
    assert row["_parent_ids"] == ["c1", "c2", "c3"] and row["index_passages"] == 3
    assert Path(row["index"], "manifest.json").exists() and row["index_embedder"] == "test:hashing-64"
    assert not row["index_reused"] and BuildIndexGenerator().run(CHUNKS, **engines).kept["index_reused"][0]


def test_a_partitioned_index_step_builds_one_index_per_partition(engines: dict) -> None:
    chunks = CHUNKS.with_columns(pl.Series("_partition", ["a", "a", "b"]))
    index = BuildIndexGenerator().run(chunks, **engines).kept
    assert index.select("_partition", "index_passages").rows() == [("a", 2), ("b", 1)]


def test_retrieve_adds_the_best_passages_for_each_query(engines: dict) -> None:
    index = BuildIndexGenerator().run(CHUNKS, **engines).kept
    questions = frame(["Who kept the lighthouse?", "Where did the granite come from?"], column="question")
    questions = questions.with_columns(pl.lit(["c9"]).alias("_parent_ids"))  # generated rows, as in a pipeline
    out = RetrieveRefiner(k=2).run(questions, index, **engines).kept

    assert [ids[0] for ids in out["retrieved_ids"]] == ["c1", "c2"]
    assert out.columns == ["_row_id", "question", "_parent_ids", "retrieved_ids", "retrieved_scores"]
    assert RetrieveRefiner().output_columns(
        list(dict.fromkeys([*questions.columns, *index.columns])), RetrieveRefiner().bind_keys({})
    ) == (out.columns)


def test_questions_whose_chunks_are_not_retrieved_are_rejected_with_the_ids_missed(engines: dict) -> None:
    index = BuildIndexGenerator().run(CHUNKS, **engines).kept
    questions = pl.DataFrame(
        {
            "_row_id": ["q1", "q2", "q3"],
            "question": ["Who kept the lighthouse?", "Who kept the lighthouse?", "What is the bore called?"],
            "chunk_ids": [["c1"], ["c2"], []],
        }
    )
    result = RetrievalSupportFilter(k=1).run(questions, index, **engines)

    assert result.kept["_row_id"].to_list() == ["q1"]
    rejected = result.rejected.select("_row_id", "_reject_rule", "_reject_detail").rows()
    assert rejected == [
        ("q2", "support_not_retrieved", "not in the top 1: ['c2']"),
        ("q3", "support_not_retrieved", "the row names no supporting chunk"),
    ]
    assert result.scores["support_recall"].to_list() == [1.0, 0.0, 0.0]


def test_a_query_step_needs_an_index_row(engines: dict) -> None:
    empty = BuildIndexGenerator().run(CHUNKS, **engines).kept.clear()
    with pytest.raises(DataflowError, match="no index row"):
        RetrieveRefiner().run(frame(["q"], column="question"), empty, **engines)
