"""The LLM-driven SQL operators on the real bookshop databases: prompts built from the schema, answers parsed into
rows that carry their database, lineage to parents, and the execution-based choices (voting, difficulty). The LLM is
scripted (its answers are the input under test); the databases, the embedding model and the SQL are real."""

import json
import re

import numpy as np
import polars as pl
import pytest

from operators.sql.evaluate.sql_execution_difficulty import SqlExecutionDifficultyEvaluator
from operators.sql.filter.sql_cot_vote import SqlCotVoteFilter
from operators.sql.filter.sql_question_judge import SqlQuestionJudgeFilter
from operators.sql.generate.sql_column_synthesis import SqlColumnSynthesisGenerator
from operators.sql.generate.sql_cot import SqlCotGenerator, final_sql
from operators.sql.generate.sql_question import SqlQuestionGenerator, most_representative
from operators.sql.generate.sql_synthesis import SqlSynthesisGenerator
from operators.sql.generate.sql_variation import SqlVariationGenerator
from operators.sql.refine.sql_schema import SqlSchemaRefiner
from resources.database import sample
from resources.database.resource import DatabaseResource
from tests.support import ScriptedLLM, as_json, failed, frame, ok


@pytest.fixture
def engine(sqlite_bookshop):
    client = DatabaseResource(
        databases={"bookshop": [f"sqlite:///{p}" for p in sqlite_bookshop]}, timeout_s=0.5
    ).build_client()
    yield client
    client.close()


@pytest.fixture
def questions(engine):
    rows = frame(
        {"q1": "How many books are there?", "q2": "Which genre has the most books?"},
        column="question",
        evidence=["", ""],
        sql=["SELECT COUNT(*) FROM books", "SELECT genre FROM books GROUP BY genre ORDER BY COUNT(*) DESC LIMIT 1"],
        db_id=["bookshop", "bookshop"],
    )
    return SqlSchemaRefiner().run(rows, database=engine).kept


def test_synthesis_asks_per_database_and_level_and_rows_carry_their_database(engine):
    def answer(prompt: str):
        level = re.search(r"of (simple|moderate|complex|highly complex) complexity", prompt).group(1)
        return as_json({"items": [{"sql": f"SELECT COUNT(*) FROM books -- {level}"}, {"sql": "SELECT 1 AS one"}]})

    llm = ScriptedLLM(answer)
    result = SqlSynthesisGenerator(count=2, complexities=["simple", "complex"]).run(llm=llm, database=engine)
    assert len(llm.prompts) == 2 and all("CREATE TABLE books (" in p for p in llm.prompts)
    assert "-- examples: 'Biography', 'Fantasy', 'History'" in llm.prompts[0]
    kept = result.kept
    assert kept.height == 4 and set(kept["complexity"]) == {"simple", "complex"}
    assert set(kept["db_id"]) == {"bookshop"} and set(kept["dialect"]) == {"sqlite"}
    assert kept["schema"][0] == engine.schema("bookshop")
    assert kept["_parent_ids"].to_list() == [[]] * 4 and kept["_row_id"].n_unique() == 4


def test_a_failed_synthesis_call_is_a_rejected_row(engine):
    llm = ScriptedLLM(lambda prompt: failed("server_error", "boom"))
    result = SqlSynthesisGenerator(complexities=["simple"]).run(llm=llm, database=engine)
    assert result.kept.height == 0
    assert result.rejected["_reject_rule"].to_list() == ["llm_server_error"]


def test_column_synthesis_covers_every_column(engine):
    llm = ScriptedLLM(lambda prompt: as_json({"items": [{"sql": "SELECT 1 AS x"}]}))
    result = SqlColumnSynthesisGenerator(count=1).run(llm=llm, database=engine)
    columns = {(t, c) for t, cols in sample.TABLES.items() for c, _, _ in cols}
    assert set(zip(result.kept["table_name"], result.kept["column_name"], strict=True)) == columns
    assert len(llm.prompts) == len(columns)
    assert any("the column birth_year of the table authors" in p for p in llm.prompts)


def test_variations_name_their_original(questions):
    llm = ScriptedLLM(lambda prompt: as_json({"items": [{"sql": "SELECT MAX(price) FROM books"}] * 2}))
    result = SqlVariationGenerator(count=2).run(questions, llm=llm)
    assert result.kept.height == 4
    assert sorted(p[0] for p in result.kept["_parent_ids"]) == ["q1", "q1", "q2", "q2"]
    assert set(result.kept["db_id"]) == {"bookshop"} and result.kept["schema"][0] == questions["schema"][0]
    assert "Original query:\nSELECT COUNT(*) FROM books" in llm.prompts[0]


CANDIDATES = [
    {"question": "How many books does the shop have?", "evidence": ""},
    {"question": "Count the books in the catalogue.", "evidence": ""},
    {"question": "What is the total number of books?", "evidence": ""},
    {"question": "Name the authors born in Spain after 1950.", "evidence": "born means birth_year"},
]


class KeywordEmbedder:
    """A deterministic embedder for control-flow tests: vectors from keyword counts."""

    identity = "keywords"
    dimensions = 3

    def embed(self, texts):
        words = [("book", "books"), ("count", "number", "many", "total"), ("author", "authors", "spain")]
        vectors = np.array(
            [[sum(w.strip("?.").lower() in group for w in t.split()) for group in words] for t in texts], "float32"
        )
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)


def test_question_generation_keeps_the_candidate_closest_to_the_others(questions):
    llm = ScriptedLLM(lambda prompt: as_json({"questions": CANDIDATES}))
    result = SqlQuestionGenerator(candidates=4).run(
        questions.drop("question", "evidence"), llm=llm, embedder=KeywordEmbedder()
    )
    kept = result.kept
    assert kept["question_candidates"][0].to_list() == [c["question"] for c in CANDIDATES]
    assert kept["question"][0] in [c["question"] for c in CANDIDATES[:3]]
    assert "formal, colloquial, imperative, interrogative" in llm.prompts[0]
    first = SqlQuestionGenerator(pick="first").run(questions.drop("question", "evidence"), llm=llm).kept
    assert first["question"][0] == CANDIDATES[0]["question"]
    assert SqlQuestionGenerator(pick="first").needed_engines() == ("llm",)
    assert SqlQuestionGenerator().bind({}).engines == ("llm", "embedder")
    assert SqlQuestionGenerator().engines == ("llm", "embedder")


@pytest.mark.slow
def test_the_representative_question_with_the_real_embedding_model(questions, tmp_path):
    """The project's embedder engine (all-MiniLM-L6-v2, shipped in a package) picks a question about counting
    books, not the outlier about authors."""
    pytest.importorskip("sentence_transformers")
    from resources.embedder.resource import EmbedderResource

    embedder = EmbedderResource(cache_path=str(tmp_path / "vectors.sqlite")).build_client()
    texts = [c["question"] for c in CANDIDATES]
    assert most_representative(embedder, [texts, texts[:1]]) in ([0, 0], [1, 0], [2, 0])
    llm = ScriptedLLM(lambda prompt: as_json({"questions": CANDIDATES}))
    kept = SqlQuestionGenerator().run(questions.drop("question", "evidence"), llm=llm, embedder=embedder).kept
    assert set(kept["question"]) <= set(texts[:3])


def test_the_judge_rejects_questions_that_do_not_match_their_query(questions):
    def answer(prompt):
        return as_json({"consistent": "How many" in prompt, "reason": "checked"})

    result = SqlQuestionJudgeFilter().run(questions, llm=ScriptedLLM(answer))
    assert result.kept["_row_id"].to_list() == ["q1"]
    assert result.rejected["_reject_rule"].to_list() == ["sql_question_mismatch"]
    assert result.rejected["question_judge_reason"].to_list() == ["checked"]


TRACES = {
    0: "Count rows of books.\n```sql\nSELECT COUNT(book_id) FROM books\n```",
    1: "All books, counted.\n```sql\nSELECT COUNT(*) FROM books;\n```",
    2: "Maybe the authors?\n```sql\nSELECT COUNT(*) FROM authors\n```",
    3: "Remove and count.\n```sql\nDELETE FROM books\n```",
}


def test_cot_traces_and_the_vote_by_execution_result(questions, engine):
    llm = ScriptedLLM(lambda prompt: ok("no block"))
    llm.generate = lambda prompts, **options: [ok(TRACES[options["seed"]]) for _ in prompts]
    # The question rows are themselves generated (they name their query's row): the traces must name the question.
    generated = questions.head(1).with_columns(pl.lit(["query-row"]).alias("_parent_ids"))
    traces = SqlCotGenerator(n=4, temperature=0.8).run(generated, llm=llm)
    assert traces.kept.height == 4 and set(traces.kept["_sample"]) == {0, 1, 2, 3}
    assert traces.kept["cot_sql"].sort().to_list()[0] == "DELETE FROM books"
    voted = SqlCotVoteFilter().run(traces.kept, database=engine)
    assert voted.kept["cot_sql"].to_list() == ["SELECT COUNT(*) FROM books"]
    assert voted.kept["vote_share"].to_list() == [0.5]
    reasons = dict(zip(voted.rejected["cot_sql"], voted.rejected["_reject_rule"], strict=True))
    assert reasons == {
        "SELECT COUNT(book_id) FROM books": "sql_cot_not_chosen",
        "SELECT COUNT(*) FROM authors": "sql_cot_outvoted",
        "DELETE FROM books": "sql_cot_invalid",
    }
    assert voted.kept["_parent_ids"].to_list() == [["q1"]]


def test_a_trace_without_a_final_query_is_rejected(questions):
    result = SqlCotGenerator().run(questions.head(1), llm=ScriptedLLM(lambda p: ok("I am not sure.")))
    assert result.rejected["_reject_rule"].to_list() == ["llm_unparseable_answer"]
    assert final_sql("a\n```SQL\n-- comment\nSELECT 1;\n```\nthen\n```sql\nSELECT 2\n```") == "SELECT 2"


def test_difficulty_from_the_share_of_correct_attempts(questions, engine):
    def answers(prompts, **options):
        correct = options["seed"] < 3  # 3 of 10 attempts right for every question
        return [ok("```sql\n" + (q if correct else "SELECT 0") + "\n```") for q in gold_for(prompts)]

    def gold_for(prompts):
        return ["SELECT COUNT(*) FROM books" if "How many" in p else questions["sql"][1] for p in prompts]

    llm = ScriptedLLM({})
    llm.generate = answers
    result = SqlExecutionDifficultyEvaluator().run(questions, llm=llm, database=engine)
    assert result.kept["execution_success_rate"].to_list() == [0.3, 0.3]
    assert result.kept["execution_difficulty"].to_list() == ["hard", "hard"]
    assert SqlExecutionDifficultyEvaluator().level(0.95) == "easy"
    assert SqlExecutionDifficultyEvaluator().level(0.1) == "extra"


def test_schema_attachment_rejects_unknown_databases(engine):
    result = SqlSchemaRefiner(sample_values=0).run(frame(["a", "b"], column="db_id"), database=engine)
    assert result.kept.height == 0 and set(result.rejected["_reject_rule"]) == {"sql_unknown_database"}
    attached = SqlSchemaRefiner(sample_values=0).run(frame(["bookshop"], column="db_id"), database=engine).kept
    assert "examples" not in attached["schema"][0] and attached["dialect"][0] == "sqlite"
    json.dumps(attached.to_dicts())  # plain text columns, storable anywhere
