"""``text2sql``: databases to execution-verified Text-to-SQL training data (DataFlow-Text2SQL's synthesis mode).

synthesized (queries written from each database's schema at four complexity levels, rows from nothing) ->
executable (runs read-only within the time limit on every variant) -> varied (variations of those queries) ->
varied_executable -> pooled (both) -> graded (Spider hardness) -> questions (candidates back-translated from each
query, the most representative kept) -> judged (the question asks exactly what the query returns) -> traces
(chain-of-thought solutions) -> voted (the trace whose query most traces agree with by execution, kept only if its
result matches the query's) -> difficulty (share of a model's attempts that get it right) -> training (the training
prompt, and the query translated for PostgreSQL and MySQL / MariaDB).

The databases are the ``database`` resource's: the bundled bookshop sample (two SQLite variants) by default, any
SQLite, PostgreSQL or MariaDB databases through ``DATAFLOW_SQL_DATABASES``; nothing in the pipeline names an
engine. Every training row leads back through ``_parent_ids`` to the query it was built on and the database it was
written for (``db_id``, and the step's database identity in the commit), and each step's rejected table says what
was dropped and why.
"""

from operators import (
    ConcatRowsRefiner,
    Pipeline,
    Sequential,
    SqlCotGenerator,
    SqlCotVoteFilter,
    SqlDialectTranslateRefiner,
    SqlExecutableFilter,
    SqlExecutionDifficultyEvaluator,
    SqlExecutionMatchFilter,
    SqlHardnessEvaluator,
    SqlQuestionGenerator,
    SqlQuestionJudgeFilter,
    SqlSynthesisGenerator,
    SqlTrainingPromptRefiner,
    SqlVariationGenerator,
)
from resources.engines import discover_engines


class Text2SqlPipeline(Pipeline):
    group = "text2sql"
    description = (
        "Databases to Text-to-SQL training data: synthesize and vary SQL, keep what executes read-only, back-translate "
        "questions, judge them, vote chain-of-thought traces by execution result, grade difficulty, build prompts."
    )
    text_columns = ("sql", "question", "prompt")
    max_rejection_rate = {"executable": 0.9, "varied_executable": 0.9, "judged": 0.8, "voted": 0.9}

    def __init__(
        self,
        *,
        queries_per_level: int = 3,
        variations: int = 2,
        traces: int = 3,
        attempts: int = 3,
        prompt_format: str = "omnisql",
    ) -> None:
        super().__init__()
        self.synthesized = SqlSynthesisGenerator(count=queries_per_level)
        self.executable = SqlExecutableFilter()
        self.varied = SqlVariationGenerator(count=variations)
        self.varied_executable = SqlExecutableFilter()
        self.pooled = ConcatRowsRefiner()
        self.graded = SqlHardnessEvaluator()
        # The most representative question is picked by embedding similarity where an embedder engine is
        # installed; without one, the first candidate is kept.
        embedder = "embedder" in discover_engines().engines
        self.questions = SqlQuestionGenerator(pick="embedding" if embedder else "first")
        self.judged = SqlQuestionJudgeFilter()
        self.traces = SqlCotGenerator(n=traces, temperature=0.8)
        self.voted = Sequential(
            SqlCotVoteFilter(),
            (
                SqlExecutionMatchFilter(),
                {
                    "input_sql_key": "cot_sql",
                    "input_gold_sql_key": "sql",
                    "output_key": "cot_matches_sql",
                    "output_reason_key": "cot_match_reason",
                },
            ),
        )
        self.difficulty = SqlExecutionDifficultyEvaluator(generations=attempts)
        self.training = Sequential(
            SqlTrainingPromptRefiner(prompt_format=prompt_format),
            (
                SqlDialectTranslateRefiner(target="postgres"),
                {"output_sql_key": "sql_postgres", "output_error_key": "sql_postgres_error"},
            ),
            (
                SqlDialectTranslateRefiner(target="mysql"),
                {"output_sql_key": "sql_mysql", "output_error_key": "sql_mysql_error"},
            ),
        )

    def forward(self):
        queries = self.executable(self.synthesized())
        variations = self.varied_executable(self.varied(queries))
        queries = self.graded(self.pooled(queries, variations), output_key="hardness")
        questions = self.judged(self.questions(queries))
        solved = self.voted(self.traces(questions))
        return self.training(self.difficulty(solved))
