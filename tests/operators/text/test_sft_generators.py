"""Text2QA (and multi-hop), chunked prompting, Condor questions, and benchmark answer matching: structure and
control flow with scripted answers; math matching with the real math-verify."""

import polars as pl
import pytest

from operators.text.evaluate.answer_match import AnswerMatchEvaluator
from operators.text.evaluate.bench_accuracy import BenchAccuracyEvaluator
from operators.text.generate.chunked_prompted_generator import ChunkedPromptedGenerator, chunk_text
from operators.text.generate.condor_generator import CondorGenerator
from operators.text.generate.text2qa import MULTIHOP_PROMPT, MULTIHOP_SCHEMA, Text2QAGenerator
from tests.support import ScriptedLLM, as_json, failed, frame, ok


def test_text2qa_pairs_name_their_own_text_even_after_a_failure():
    def answer(prompt: str):
        if "about tides" in prompt:
            return failed("timeout")
        topic = prompt.split("Text:\n")[1]
        return as_json(
            {"items": [{"question": f"What is {topic}?", "answer": topic}, {"question": "Why?", "answer": "x"}]}
        )

    df = frame({"t1": "about tides", "t2": "glaciers", "t3": "bridges"})
    result = Text2QAGenerator(count=2).run(df, llm=ScriptedLLM(answer))
    kept = result.kept
    assert kept["_parent_ids"].to_list() == [["t2"], ["t2"], ["t3"], ["t3"]]  # t1 failed: nothing shifts
    assert kept.filter(pl.col("_parent_ids").list.first() == "t3")["answer"].to_list() == ["bridges", "x"]
    assert result.rejected["_parent_ids"].to_list() == [["t1"]] and result.rejected["_reject_rule"][0] == "llm_timeout"


def test_multihop_items_carry_their_supporting_facts():
    item = {"question": "Where was the bridge's designer born?", "answer": "Lyon", "supporting_facts": ["a", "b"]}
    llm = ScriptedLLM(lambda prompt: as_json({"items": [item | {"reasoning": "bridge entity"}]}))
    op = Text2QAGenerator(prompt=MULTIHOP_PROMPT, item_schema=MULTIHOP_SCHEMA, count=1)
    kept = op.run(frame(["The bridge was designed by Ana. Ana was born in Lyon."]), llm=llm).kept
    assert kept["supporting_facts"].to_list() == [["a", "b"]] and kept.schema["supporting_facts"] == pl.List(pl.String)
    assert llm.calls[0]["json_schema"]["properties"]["items"]["items"]["required"][2] == "supporting_facts"


def test_chunks_respect_the_limit_and_prefer_paragraph_breaks():
    text = "\n\n".join(f"Paragraph {i}. " + "word " * 40 for i in range(6))
    chunks = chunk_text(text, 500)
    assert len(chunks) == 3 and all(len(c) <= 500 for c in chunks) and chunks[0].startswith("Paragraph 0.")
    assert all(len(c) <= 50 for c in chunk_text("x" * 120, 50))
    assert chunk_text("   ", 50) == []


def test_chunked_generator_joins_answers_in_order_and_rejects_a_row_with_a_failed_chunk():
    text = "\n\n".join(f"Paragraph {i}. " + "word " * 40 for i in range(6))

    def answer(prompt: str):
        if "Paragraph 4 bad" in prompt:
            return failed("timeout")
        return ok("S" + prompt.split("Paragraph ")[1][0])

    df = frame({"ok": text, "bad": text.replace("Paragraph 4", "Paragraph 4 bad"), "empty": ""})
    result = ChunkedPromptedGenerator(max_chars=500).run(df, llm=ScriptedLLM(answer))
    assert result.kept.select("_row_id", "generated", "chunk_count").rows() == [("ok", "S0\n\nS2\n\nS4", 3)]
    assert result.rejected.select("_row_id", "_reject_rule", "_reject_detail").rows() == [
        ("bad", "llm_timeout", "chunk 3/3: timeout"),
        ("empty", "empty_text", "no text to prompt"),
    ]


def test_condor_questions_come_one_per_difficulty_in_order():
    items = [{"difficulty": d, "instruction": f"A {d} question?"} for d in ("hard", "easy", "medium")]
    kept = CondorGenerator(topics=["tides"]).run(llm=ScriptedLLM(lambda p: as_json({"items": items}))).kept
    assert kept.select("topic", "difficulty").rows() == [("tides", "easy"), ("tides", "medium"), ("tides", "hard")]


@pytest.mark.parametrize(
    ("method", "expected"),
    [("exact", [0.0, 0.0, 1.0, 0.0, None]), ("math", [1.0, 1.0, 1.0, 0.0, None])],
)
def test_answer_match_reads_the_final_answer(method, expected):
    df = pl.DataFrame(
        {
            "_row_id": ["a", "b", "c", "d", "e"],
            "prediction": ["so \\boxed{\\frac{1}{2}}", "Steps\nThe answer is 0.5", "Paris.", "x = 3", None],
            "gold": ["0.5", "1/2", "paris", "4", "1"],
        }
    )
    scored = AnswerMatchEvaluator(method=method).run(df).kept
    assert scored["match"].to_list() == expected
    assert scored["final_answer"].to_list()[:2] == ["\\frac{1}{2}", "The answer is 0.5"]


def test_choice_matching_and_accuracy_by_subject():
    df = pl.DataFrame(
        {
            "_row_id": ["a", "b", "c", "d"],
            "prediction": ["Answer: (B)", "I pick C.", "D", None],
            "gold": ["B", "b", "D", "A"],
            "subject": ["math", "math", "law", "law"],
        }
    )
    matched = AnswerMatchEvaluator(method="choice").run(df).kept
    assert matched["match"].to_list() == [1.0, 0.0, 1.0, None]
    result = BenchAccuracyEvaluator(by="subject").run(matched)
    assert result.metrics.values == {"scored": 3.0, "unscored": 1.0, "correct": 2.0, "accuracy": pytest.approx(2 / 3)}
    assert result.metrics.histograms == {"accuracy_by_subject": {"law": 100, "math": 50}}
