"""The ``text2sql`` group through Dagster on the real bookshop databases (SQLite variants, and the same pipeline on
PostgreSQL and MariaDB by changing only the database resource's URLs): what each step keeps and rejects, and the
lineage of a training row back to the query it was built on, its database and every decision on the way.

The LLM is a stand-in that answers each prompt template from the prompt's own text (the queries it writes are the
input under test); the databases, the statement guard, execution and comparison are real."""

import re

import numpy as np
import pytest

from dataflow_assets.lineage import row_lineage
from dataflow_assets.runner import materialize_pipeline
from dataflow_assets.sql.text2sql import Text2SqlPipeline
from resources.database.resource import DatabaseResource
from resources.delta_store import DeltaStore
from tests.support import ScriptedLLM, as_json, ok

pytestmark = pytest.mark.slow  # a whole pipeline through Dagster: about 25 s here

QUERIES = {
    "simple": ["SELECT COUNT(*) FROM books WHERE genre = 'Poetry'", "DELETE FROM books"],
    "moderate": ["SELECT genre, COUNT(*) FROM books GROUP BY genre", "SELECT isbn FROM books"],
    "complex": ["SELECT name FROM authors WHERE author_id IN (SELECT author_id FROM books WHERE price > 55)"],
    "highly complex": ["SELECT COUNT(*) FROM order_items a, order_items b, order_items c, order_items d"],
}
"""Two per level run; a write, an unknown column and a runaway join must be rejected by ``executable``."""


def _after(prompt: str, marker: str) -> str:
    return prompt.split(marker, 1)[1].split("\n\n", 1)[0].strip()


class TemplateLLM(ScriptedLLM):
    """Answers by prompt template, from what the prompt says."""

    def __init__(self) -> None:
        super().__init__({})

    def generate(self, prompts, **options):
        self.calls.append({"prompts": list(prompts), **options})
        name = options["template"].split("@")[0]
        return [getattr(self, name)(prompt, options.get("seed") or 0) for prompt in prompts]

    def sql_synthesis(self, prompt, seed):
        level = re.search(r"of (simple|moderate|complex|highly complex) complexity", prompt).group(1)
        return as_json({"items": [{"sql": sql} for sql in QUERIES[level]]})

    def sql_variation(self, prompt, seed):
        original = _after(prompt, "Original query:\n")
        return as_json({"items": [{"sql": f"SELECT COUNT(*) FROM ({original}) AS v"}]})

    def sql_question(self, prompt, seed):
        sql = _after(prompt, "SQL query:\n")
        questions = [f"What does this ask: {sql}?", f"Tell me: {sql}", f"Which result has {sql}?"]
        return as_json({"questions": [{"question": q, "evidence": ""} for q in questions]})

    def sql_question_judge(self, prompt, seed):
        return as_json({"consistent": "authors" not in _after(prompt, "SQL query:\n"), "reason": "stand-in"})

    def sql_cot(self, prompt, seed):
        reference = _after(prompt, "A reference query that answers the question:\n")
        query = reference if seed < 2 else "SELECT 42"
        return ok(f"Step 1: read the question.\nStep 2: write it.\n```sql\n{query}\n```")

    def sql_answer(self, prompt, seed):
        return ok("```sql\nSELECT genre, COUNT(*) FROM books GROUP BY genre\n```")


class KeywordEmbedder:
    identity, dimensions = "keywords", 2

    def embed(self, texts):
        vectors = np.array([[len(t), t.count(" ") + 1] for t in texts], dtype="float32")
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def usage(self):
        return None


def _run(tmp_path, instance, urls):
    database = DatabaseResource(databases={"bookshop": urls}, timeout_s=0.5)
    pipeline = Text2SqlPipeline(queries_per_level=2, variations=1, traces=3, attempts=2)
    resources = {"llm": TemplateLLM(), "database": database, "embedder": KeywordEmbedder()}
    summary = materialize_pipeline(pipeline, root=tmp_path / "delta", instance=instance, resources=resources)
    return pipeline, {s.asset.split("/")[1]: s for s in summary.steps}, DeltaStore(str(tmp_path / "delta"))


def _check(pipeline, steps, store, database_identity):
    assert steps["synthesized"].rows_out == 6
    assert steps["executable"].removed_by_reason == {
        "sql_not_read_only": 1,
        "sql_execution_error": 1,
        "sql_timeout": 1,
    }
    assert steps["executable"].rows_out == 3 and steps["varied_executable"].rows_out == 3
    assert steps["judged"].removed_by_reason == {"sql_question_mismatch": 2}  # the query about authors, its variation
    assert steps["traces"].rows_out == 4 * 3
    # SELECT 42 loses every vote; of the two traces that win, one is kept.
    assert steps["voted"].removed_by_reason == {"sql_cot_outvoted": 4, "sql_cot_not_chosen": 4}
    training = store.read(store.uri(["text2sql", "training"])).frame
    assert training.height == 4
    assert set(training["cot_matches_sql"]) == {True}
    assert set(training["hardness"]) <= {"easy", "medium", "hard", "extra"}
    assert set(training["execution_difficulty"]) == {"easy", "extra"}  # the stand-in only knows one query
    assert all(p.startswith("Task overview:") and "CREATE TABLE books" in p for p in training["prompt"])
    assert training["sql_postgres"].null_count() == 0 and training["sql_mysql"].null_count() == 0

    row = training.filter(training["sql"].str.starts_with("SELECT COUNT(*) FROM (")).row(0, named=True)
    lineage = row_lineage(pipeline.trace(), store, "training", row["_row_id"])
    hops = {hop.asset.split("/")[1]: hop for hop in lineage.path()}
    assert list(hops) == [
        "synthesized",
        "executable",
        "varied",
        "varied_executable",
        "pooled",
        "graded",
        "questions",
        "judged",
        "traces",
        "voted",
        "difficulty",
        "training",
    ]
    assert hops["synthesized"].status == "generated"
    assert hops["synthesized"].engines["database"] == database_identity
    assert hops["executable"].scores["sql_elapsed_s"] >= 0
    assert hops["traces"].status == "generated" and hops["voted"].status == "kept"
    assert hops["voted"].scores["vote_share"] == pytest.approx(2 / 3)
    assert hops["judged"].engines["llm"] == "scripted"


def test_text2sql_on_sqlite_variants(tmp_path, instance, sqlite_bookshop):
    urls = [f"sqlite:///{p}" for p in sqlite_bookshop]
    pipeline, steps, store = _run(tmp_path, instance, urls)
    identity = DatabaseResource(databases={"bookshop": urls}, timeout_s=0.5).build_client().identity
    _check(pipeline, steps, store, identity)


@pytest.mark.services
@pytest.mark.parametrize("server", ["postgres_bookshop", "mariadb_bookshop"])
def test_text2sql_on_servers_by_changing_the_urls(request, server, tmp_path, instance):
    scratch = request.getfixturevalue(server)
    pipeline, steps, store = _run(tmp_path, instance, scratch.urls)
    identity = DatabaseResource(databases={"bookshop": scratch.urls}, timeout_s=0.5).build_client().identity
    _check(pipeline, steps, store, identity)
    assert "s3cret" not in identity
