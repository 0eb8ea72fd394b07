"""Chunkers: boundaries, overlaps, sections and topic shifts; every chunk an exact slice of its document, naming
the page rows it covers."""

from __future__ import annotations

import itertools
import json

import polars as pl
import pytest

from operators.errors import OperatorParameterError
from operators.knowledge.generate.chunk_semantic import ChunkSemanticGenerator
from operators.knowledge.generate.chunk_sentences import ChunkSentencesGenerator
from operators.knowledge.generate.chunk_structure import ChunkStructureGenerator
from operators.knowledge.generate.chunk_tokens import ChunkTokensGenerator
from tests.rag_support import HashingEmbedder
from tests.support import frame


def pages(*texts: str, file: str = "doc.pdf", headings: list[list[dict]] | None = None) -> pl.DataFrame:
    """Document-source rows: one per page, laid out with a blank line between pages."""
    starts, position = [], 0
    for text in texts:
        starts.append(position)
        position += len(text) + 2
    return pl.DataFrame(
        {
            "_row_id": [f"p{i + 1}" for i in range(len(texts))],
            "_partition": [file] * len(texts),
            "_source_file": [file] * len(texts),
            "text": list(texts),
            "title": ["Doc"] * len(texts),
            "page": list(range(1, len(texts) + 1)),
            "start": starts,
            "end": [s + len(t) for s, t in zip(starts, texts, strict=True)],
            "headings": [json.dumps(h) for h in (headings or [[] for _ in texts])],
            "format": ["pdf"] * len(texts),
        }
    )


def full_text(df: pl.DataFrame) -> str:
    return "\n\n".join(df["text"])


def assert_exact_slices(chunks: pl.DataFrame, text: str) -> None:
    for row in chunks.iter_rows(named=True):
        assert row["chunk"] == text[row["start"] : row["end"]]


def test_token_windows_have_the_size_and_overlap_asked_and_cross_page_breaks() -> None:
    docs = pages(" ".join(f"a{i}" for i in range(10)), " ".join(f"b{i}" for i in range(10)))
    chunks = ChunkTokensGenerator(size=8, overlap=3).run(docs).kept

    words = [c.split() for c in chunks["chunk"]]
    assert [len(w) for w in words] == [8, 8, 8, 5]
    assert all(a[-3:] == b[:3] for a, b in itertools.pairwise(words))
    assert words[-1][-1] == "b9"
    assert_exact_slices(chunks, full_text(docs))
    crossing = chunks.row(1, named=True)
    assert crossing["_parent_ids"] == ["p1", "p2"] and (crossing["page_start"], crossing["page_end"]) == (1, 2)
    assert chunks["chunk_index"].to_list() == [0, 1, 2, 3] and chunks["_partition"].unique().to_list() == ["doc.pdf"]
    assert chunks["_row_id"].n_unique() == 4


def test_overlap_must_be_smaller_than_the_window() -> None:
    with pytest.raises(OperatorParameterError, match="overlap"):
        ChunkTokensGenerator(size=5, overlap=5)


def test_sentence_chunks_end_at_sentence_ends_and_share_the_overlap_sentence() -> None:
    text = "Dr. Rennick built it. The span is 64 m. It opened in 1889! Was it late? Yes. Word " + "word " * 11 + "end."
    chunks = ChunkSentencesGenerator(max_words=10, overlap_sentences=1).run(pages(text)).kept

    assert chunks["chunk"].to_list() == [
        "Dr. Rennick built it. The span is 64 m.",  # no cut after the abbreviation "Dr."
        "The span is 64 m. It opened in 1889!",
        "It opened in 1889! Was it late? Yes.",  # "Yes." alone would be a chunk of overlap only: not repeated
        "Word " + " ".join(["word"] * 9),  # a sentence longer than the limit is cut into word windows
        "word word end.",
    ]
    assert_exact_slices(chunks, text)


def test_structure_chunks_follow_headings_and_name_their_section_path() -> None:
    body = "Intro\nShort.\nTides\nTides rise twice a day at the quay here.\nRange\nThe range is 4.7 metres at springs."
    marks = [("Intro", 1), ("Tides", 1), ("Range", 2)]
    headings = [{"level": level, "text": t, "start": body.index(t + "\n")} for t, level in marks]
    chunks = ChunkStructureGenerator(min_words=3).run(pages(body, headings=[headings])).kept

    assert chunks.select("section", "chunk").rows() == [
        ("Intro", "Intro\nShort.\nTides\nTides rise twice a day at the quay here."),
        ("Tides > Range", "Range\nThe range is 4.7 metres at springs."),
    ]


def test_long_sections_are_packed_by_sentences() -> None:
    body = "Title\n" + " ".join(f"Sentence number {i} is here." for i in range(20))
    chunks = (
        ChunkStructureGenerator(max_words=12, overlap_sentences=0)
        .run(pages(body, headings=[[{"level": 1, "text": "Title", "start": 0}]]))
        .kept
    )
    assert chunks.height > 1 and all(len(c.split()) <= 12 for c in chunks["chunk"])
    assert set(chunks["section"]) == {"Title"}


def test_semantic_chunks_cut_where_the_topic_changes() -> None:
    tides = "Tides flood the quay. Tides ebb from the quay. The quay floods at tides."
    quarry = "Granite came from the quarry. The quarry cut granite blocks. Granite blocks left the quarry."
    embedder = HashingEmbedder()
    chunks = ChunkSemanticGenerator(percentile=80, window=0).run(pages(f"{tides} {quarry}"), embedder=embedder).kept

    assert tides in chunks["chunk"].to_list() and quarry in chunks["chunk"].to_list()
    assert embedder.calls == 1 and embedder.texts == 6


def test_rows_without_offsets_are_documents_of_their_own() -> None:
    chunks = ChunkTokensGenerator(size=2, overlap=0).run(frame(["one two three", "four"])).kept
    assert chunks.select("_parent_ids", "chunk").rows() == [(["r0"], "one two"), (["r0"], "three"), (["r1"], "four")]
