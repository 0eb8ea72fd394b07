"""Agentic RAG operators with a scripted LLM: SQuAD scoring, leakage and difficulty rules, the document
dependence check, depth and width expansion with their per-hop and consistency checks."""

from __future__ import annotations

import polars as pl
import pytest

from operators.rag.answers import exact_match, f1, normalize
from operators.rag.evaluate.answer_f1 import AnswerF1Evaluator
from operators.rag.filter.difficulty import DifficultyFilter
from operators.rag.filter.document_dependence import DocumentDependenceFilter
from operators.rag.filter.leakage import LeakageFilter
from operators.rag.generate.atomic_qa import AtomicQAGenerator
from operators.rag.generate.depth_expand import DepthExpandGenerator
from operators.rag.generate.width_expand import WidthExpandGenerator
from tests.support import ScriptedLLM, as_json, failed, ok


def script(answers: dict[str, object]) -> ScriptedLLM:
    return ScriptedLLM(lambda prompt: next(v for k, v in answers.items() if k in prompt))


@pytest.mark.parametrize(
    ("prediction", "reference", "em", "score"),
    [
        ("The Grey Horse!", "grey horse", 1.0, 1.0),
        ("26 years", "twenty-six years", 0.0, 0.5),
        ("yes", "no", 0.0, 0.0),
        ("Tobias Rennick", ["Rennick", "Tobias Rennick"], 1.0, 1.0),
        (None, "x", 0.0, 0.0),
    ],
)
def test_squad_scoring(prediction, reference, em, score) -> None:
    assert (exact_match(prediction, reference), round(f1(prediction, reference), 3)) == (em, score)


def test_normalisation_drops_articles_punctuation_and_case() -> None:
    assert normalize("An  Old, the LIGHT-house.") == "old lighthouse"


def test_answer_f1_scores_each_row() -> None:
    rows = pl.DataFrame({"_row_id": ["a", "b"], "prediction": ["31 metres", "about 31"], "answer": ["31 metres"] * 2})
    out = AnswerF1Evaluator().run(rows).kept
    assert out.select("answer_em", "answer_f1").rows() == [(1.0, 1.0), (0.0, 0.5)]


QA = pl.DataFrame(
    {
        "_row_id": ["ok", "leak", "copy", "yesno", "long", "short", "ungrounded"],
        "question": [
            "How many years did the first keeper of Almerin Head serve?",
            "Did Rennick serve for 26 years as keeper of Almerin Head?",
            "The first principal keeper was Tobias Rennick who served for how many years at the light?",
            "Was the lighthouse at Almerin Head automated in the year 1994?",
            "What did the first keeper of the Almerin Head light do afterwards?",
            "Keeper years?",
            "Which company built the lantern of the Almerin Head light?",
        ],
        "answer": [
            "26",
            "26",
            "26",
            "yes",
            "he designed an iron footbridge over the Veskel at Tarn Ferry",
            "26",
            "Chance",
        ],
        "context": [
            "The first principal keeper was Tobias Rennick who served for 26 years at the light. "
            "He designed an iron footbridge over the Veskel at Tarn Ferry. Automated in 1994, yes."
        ]
        * 7,
    }
)


def test_leakage_rejects_answers_in_questions_and_copied_context() -> None:
    result = LeakageFilter(max_copied_words=8).run(QA)
    rejected = dict(result.rejected.select("_row_id", "_reject_rule").rows())
    assert rejected == {"leak": "answer_in_question", "copy": "question_copies_context"}


def test_difficulty_rejects_guessable_unverifiable_and_underspecified_tasks() -> None:
    result = DifficultyFilter(max_answer_words=6).run(QA.filter(pl.col("_row_id") != "copy"))
    rejected = dict(result.rejected.select("_row_id", "_reject_rule").rows())
    assert rejected == {
        "yesno": "answer_guessable",
        "long": "answer_too_long",
        "short": "question_too_short",
        "ungrounded": "answer_not_in_context",
    }
    assert set(result.kept["_row_id"]) == {"ok", "leak"}


def test_document_dependence_keeps_what_needs_the_document() -> None:
    rows = pl.DataFrame(
        {
            "_row_id": ["needs", "known", "broken", "failed"],
            "question": ["Q needs?", "Q known?", "Q broken?", "Q failed?"],
            "answer": ["26", "Paris", "1859", "x"],
            "context": ["ctx"] * 4,
        }
    )

    def answer(prompt: str):
        closed = "Documents:" not in prompt
        if "Q failed?" in prompt:
            return failed("timeout")
        if "Q needs?" in prompt:
            return ok("I don't know" if closed else "26 years")
        if "Q known?" in prompt:
            return ok("Paris")
        return ok("no idea")

    llm = ScriptedLLM(answer)
    result = DocumentDependenceFilter().run(rows, llm=llm)

    assert result.kept.select("_row_id", "closed_book_answer", "open_book_answer").rows() == [
        ("needs", "I don't know", "26 years")
    ]
    assert dict(result.rejected.select("_row_id", "_reject_rule").rows()) == {
        "known": "answerable_without_document",
        "broken": "unanswerable_with_document",
        "failed": "llm_timeout",
    }
    assert len(llm.prompts) == 8


def test_atomic_tasks_carry_identifier_conclusion_and_their_chunk() -> None:
    chunks = pl.DataFrame({"_row_id": ["c1"], "chunk": ["Rennick kept the light for 26 years."]})
    item = {"identifier": "Tobias Rennick", "conclusion": "kept it 26 years", "question": "How long?", "answer": "26"}
    out = AtomicQAGenerator(count=1).run(chunks, llm=ScriptedLLM(lambda _: as_json({"items": [item]}))).kept
    assert out.select("identifier", "conclusion", "answer", "chunk_ids", "_parent_ids").row(0) == (
        "Tobias Rennick",
        "kept it 26 years",
        "26",
        ["c1"],
        ["c1"],
    )


CHUNKS = pl.DataFrame(
    {
        "_row_id": ["light", "bridge", "quarry"],
        "chunk": [
            "The first keeper Tobias Rennick served for 26 years.",
            "The Tarn Ferry footbridge was designed by Tobias Rennick.",
            "The Colm Ridge quarry supplied granite for the Tarn Ferry footbridge piers.",
        ],
    }
)
TASKS = pl.DataFrame(
    {
        "_row_id": ["t1", "t2"],
        "question": ["How many years did Tobias Rennick serve as keeper?", "What is the tallest tower?"],
        "answer": ["26", "Eiffel"],
        "identifier": ["Tobias Rennick", "Nowhere Tower"],
        "chunk_ids": [["light"], ["light"]],
        "context": ["The first keeper Tobias Rennick served for 26 years."] * 2,
    }
)


def test_depth_expansion_adds_checked_hops_through_linking_chunks() -> None:
    hop1 = "How many years did the designer of the Tarn Ferry footbridge serve as keeper?"
    hop2 = "How many years did the designer of the bridge whose piers Colm granite holds serve as keeper?"
    llm = script(
        {
            "Question: How many years did Tobias": as_json(
                {"question": hop1, "new_identifier": "Tarn Ferry footbridge"}
            ),
            "Question: How many years did the designer of the Tarn": as_json({"question": hop2, "new_identifier": "x"}),
            "Short answer:": ok("unknown"),
        }
    )
    result = DepthExpandGenerator(rounds=3).run(TASKS, CHUNKS, llm=llm)

    (row,) = result.kept.iter_rows(named=True)
    assert (row["question"], row["depth"], row["hop_questions"]) == (hop2, 2, [hop1, hop2])
    assert row["chunk_ids"] == ["light", "bridge", "quarry"] and row["_parent_ids"] == ["t1"]
    assert row["depth_stopped"] == "no_linking_chunk" and row["answer"] == "26"
    assert result.rejected.select("_row_id", "_reject_rule").rows() == [("t2", "no_linking_chunk")]


def test_a_hop_the_model_answers_from_memory_or_that_leaks_is_not_taken() -> None:
    leaky = script(
        {
            "Question: How many": as_json({"question": "How long did Tobias Rennick keep it?", "new_identifier": "y"}),
            "Short answer:": ok("unknown"),
        }
    )
    assert DepthExpandGenerator().run(TASKS.head(1), CHUNKS, llm=leaky).rejected["_reject_rule"][0] == (
        "identifier_leaked"
    )
    known = script(
        {
            "Question: How many": as_json(
                {"question": "How long did the bridge designer keep it?", "new_identifier": "y"}
            ),
            "Short answer:": ok("26"),
        }
    )
    assert DepthExpandGenerator().run(TASKS.head(1), CHUNKS, llm=known).rejected["_reject_rule"][0] == (
        "answerable_without_documents"
    )


def test_width_expansion_merges_pairs_and_checks_the_restated_answers() -> None:
    tasks = pl.DataFrame(
        {
            "_row_id": ["a", "b", "c", "d", "e"],
            "_source_file": ["f1", "f1", "f1", "f1", "f2"],
            "question": ["Qa?", "Qb?", "Qc?", "Qd?", "Qe?"],
            "answer": ["26", "1859", "granite", "64 m", "x"],
            "chunk_ids": [["c1"], ["c2"], ["c3"], ["c3"], ["c9"]],
            "context": ["A", "B", "C", "C", "E"],
        }
    )
    llm = script(
        {
            "Qa?": as_json({"question": "How long did he serve, and when was it lit?", "answers": ["26", "1859"]}),
            "Qc?": as_json({"question": "What stone and what span?", "answers": ["granite", "12 m"]}),
        }
    )
    result = WidthExpandGenerator().run(tasks, llm=llm)

    assert result.kept.select("_parent_ids", "answer", "answers", "chunk_ids", "context").rows() == [
        (["a", "b"], "26; 1859", ["26", "1859"], ["c1", "c2"], "A\n\nB")
    ]
    assert result.rejected.select("_parent_ids", "_reject_rule").rows() == [(["c", "d"], "width_inconsistent")]
    assert len(llm.prompts) == 2  # "e" has no partner in its document
