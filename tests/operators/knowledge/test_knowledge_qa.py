"""Knowledge operators with a scripted LLM (parsing and control flow) and a hashing embedder: QA stays attached
to its chunk after failures, provenance is carried, cleaning keeps facts, support checks reject what is not
supported."""

from __future__ import annotations

import polars as pl

from operators.knowledge.evaluate.embedding_support import EmbeddingSupportEvaluator
from operators.knowledge.evaluate.lexical_support import LexicalSupportEvaluator
from operators.knowledge.filter.support_judge import SupportJudgeFilter
from operators.knowledge.generate.chunk_qa import ChunkQAGenerator
from operators.knowledge.generate.multihop_qa import MultihopQAGenerator
from operators.knowledge.refine.clean_chunk import CleanChunkRefiner
from operators.knowledge.refine.flatten_qa import FlattenQARefiner
from tests.rag_support import HashingEmbedder
from tests.support import ScriptedLLM, as_json, failed, ok

CHUNKS = pl.DataFrame(
    {
        "_row_id": ["c1", "c2", "c3", "c4"],
        "_source_file": ["a.pdf", "a.pdf", "a.pdf", "b.md"],
        "page_start": [1, 1, 2, None],
        "page_end": [1, 2, 2, None],
        "start": [0, 100, 200, 0],
        "end": [90, 190, 290, 50],
        "chunk": [
            "The tower is 31 metres tall.",
            "Rennick kept the light for 26 years.",
            "The lamp range is 22 miles.",
            "The bridge span is 64 metres.",
        ],
    }
)


def by_passage(answers: dict[str, object]) -> ScriptedLLM:
    """Answer each prompt by the first key found in it."""

    def answer(prompt: str):
        return next(value for key, value in answers.items() if key in prompt)

    return ScriptedLLM(answer)


def test_qa_pairs_stay_attached_to_their_chunk_when_another_chunk_fails() -> None:
    llm = by_passage(
        {
            "31 metres": as_json({"items": [{"question": "How tall is the tower?", "answer": "31 metres"}]}),
            "26 years": failed("server_error", "boom"),
            "22 miles": as_json(
                {
                    "items": [
                        {"question": "What is the lamp range?", "answer": "22 miles"},
                        {"question": "What has a 22 mile range?", "answer": "The lamp"},
                    ]
                }
            ),
            "64 metres": ok("not json"),
        }
    )
    result = ChunkQAGenerator(count=2).run(CHUNKS, llm=llm)

    kept = result.kept.sort("question")
    assert kept.select("question", "chunk_ids", "_parent_ids").rows() == [
        ("How tall is the tower?", ["c1"], ["c1"]),
        ("What has a 22 mile range?", ["c3"], ["c3"]),
        ("What is the lamp range?", ["c3"], ["c3"]),
    ]
    lamp = kept.filter(pl.col("answer") == "22 miles").row(0, named=True)
    assert (lamp["_source_file"], lamp["page_start"], lamp["start"], lamp["end"]) == ("a.pdf", 2, 200, 290)
    assert lamp["context"] == "The lamp range is 22 miles."
    assert sorted(result.rejected.select("_parent_ids", "_reject_rule").rows()) == [
        (["c2"], "llm_server_error"),
        (["c4"], "llm_unparseable_answer"),
    ]
    assert "Passage:\nThe tower is 31 metres tall." in llm.prompts[0]


def test_an_item_with_an_empty_answer_makes_the_answer_unusable() -> None:
    llm = ScriptedLLM(lambda _: as_json({"items": [{"question": "What is it?", "answer": " "}]}))
    result = ChunkQAGenerator().run(CHUNKS.head(1), llm=llm)
    assert result.kept.is_empty() and "empty answer" in result.rejected["_reject_detail"][0]


def test_multihop_windows_stay_within_one_document_and_name_every_chunk() -> None:
    llm = ScriptedLLM(lambda _: as_json({"items": [{"question": "Q?", "answer": "A", "facts": ["x", "y"]}]}))
    result = MultihopQAGenerator(hops=2, count=1).run(CHUNKS, llm=llm)

    assert result.kept["chunk_ids"].to_list() == [["c1", "c2"], ["c2", "c3"]]
    assert result.kept["_parent_ids"].to_list() == [["c1", "c2"], ["c2", "c3"]]
    assert result.kept.select("page_start", "page_end", "start", "end").rows() == [(1, 2, 0, 190), (1, 2, 100, 290)]
    assert "Passage 2:\nRennick kept the light" in llm.prompts[0]


def test_cleaning_keeps_the_raw_chunk_and_rejects_lost_numbers_and_summaries() -> None:
    chunks = pl.DataFrame(
        {"_row_id": ["a", "b", "c"], "chunk": ["Page 3\nThe tow-\ner is 31 m.", "Range 22 miles in 1994.", "x" * 100]}
    )
    llm = by_passage({"tow-": ok("The tower is 31 m."), "Range": ok("Range 22 miles."), "xxx": ok("x" * 10)})
    result = CleanChunkRefiner().run(chunks, llm=llm)

    assert result.kept.select("chunk", "cleaned_chunk").rows() == [
        ("Page 3\nThe tow-\ner is 31 m.", "The tower is 31 m.")
    ]
    rejected = dict(result.rejected.select("_row_id", "_reject_rule").rows())
    assert rejected == {"b": "cleaning_dropped_numbers", "c": "cleaning_too_short"}
    assert (
        result.rejected.filter(pl.col("_row_id") == "b")["_reject_detail"][0] == "numbers missing after cleaning: 1994"
    )


def test_flattening_gives_instruction_input_output() -> None:
    qa = pl.DataFrame({"_row_id": ["q"], "question": [" Q? "], "answer": ["A"], "context": ["C"]})
    assert FlattenQARefiner().run(qa).kept.select("instruction", "input", "output").row(0) == ("Q?", "", "A")
    assert FlattenQARefiner(include_context=True).run(qa).kept["input"][0] == "C"


def test_support_scores_rank_a_supported_answer_above_an_invented_one() -> None:
    qa = pl.DataFrame(
        {
            "_row_id": ["good", "bad", "empty"],
            "question": ["How tall is the tower?", "Who built the tower?", "What?"],
            "answer": ["31 metres", "Gustave Eiffel", "the"],
            "context": ["The tower is 31 metres tall. It has a lamp."] * 3,
        }
    )
    lexical = LexicalSupportEvaluator().run(qa).kept["support_lexical"].to_list()
    assert lexical == [1.0, 0.0, None]
    embedded = EmbeddingSupportEvaluator().run(qa, embedder=HashingEmbedder()).kept["support_embedding"].to_list()
    assert embedded[0] > embedded[1]


def test_the_judge_must_say_supported_and_quote_the_context() -> None:
    qa = pl.DataFrame(
        {
            "_row_id": ["yes", "no", "invented"],
            "question": ["How tall?", "Who?", "When?"],
            "answer": ["31 m", "Eiffel", "1859"],
            "context": ["The tower is 31 m tall. It was lit in 1859."] * 3,
        }
    )
    llm = by_passage(
        {
            "How tall?": as_json({"supported": True, "evidence": "The tower is 31 m tall."}),
            "Who?": as_json({"supported": False, "evidence": ""}),
            "When?": as_json({"supported": True, "evidence": "It opened to visitors in 1859 after repairs."}),
        }
    )
    result = SupportJudgeFilter().run(qa, llm=llm)
    assert result.kept["_row_id"].to_list() == ["yes"]
    assert dict(result.rejected.select("_row_id", "_reject_rule").rows()) == {
        "no": "answer_not_supported",
        "invented": "judge_evidence_not_in_context",
    }
