from __future__ import annotations

from typing import ClassVar

import polars as pl

from operators.base import Filter, OpResult, Read, Write
from operators.columns import PARENT_IDS, ROW_ID
from operators.database.protocol import Database, ExecutionResult
from operators.progress import track
from operators.registry import register
from operators.sql.execution import ExecutionMatcher, compare, describe_failure, has_outer_order_by
from operators.sql.outcomes import Outcome, decide

REASONS = ("sql_cot_invalid", "sql_cot_outvoted", "sql_cot_not_chosen")


@register("sql_cot_vote")
class SqlCotVoteFilter(Filter):
    """Keep one reasoning trace per question: the one whose query's result most traces agree on (majority vote by
    execution result).

    Traces of one question are the rows sharing ``_parent_ids`` (the ``n`` samples of ``sql_cot``). Each trace's
    query runs on every variant of its database; traces whose queries give the same results (Spider's comparison,
    rows in order only when both queries order them) form one vote. The largest vote wins; a tie goes to the vote
    holding the shortest query, and within the winning vote the trace with the shortest query is kept (DataFlow's
    tie-breaker, without its random choice, so that reruns agree). ``vote_share`` is the winning vote's share of the
    question's traces. Rejections: ``sql_cot_invalid`` (the trace's query is refused, fails, times out or returns more
    rows than the engine keeps), ``sql_cot_outvoted`` (its result lost the vote) and ``sql_cot_not_chosen`` (its
    result won, but another trace of that vote is kept). Check the winner against the reference query with
    ``sql_execution_match_filter`` where one exists.
    """

    engines: ClassVar[tuple[str, ...]] = ("database",)
    key_method: ClassVar[str] = "vote"
    row_local: ClassVar[bool] = False
    key_docs: ClassVar[dict[str, str]] = {
        "input_sql_key": "the query a trace ends with",
        "input_db_id_key": "the database the question is about",
        "output_vote_share_key": "share of the question's traces whose query gives the same result as this one",
    }
    references = (
        "Li et al. 2025, OmniSQL, arXiv:2503.02240 (majority voting over CoT samples)",
        "Liang et al. 2025, DataFlow (Text2SQLCoTVotingGenerator), arXiv:2512.16676",
    )

    def vote(
        self,
        df: pl.DataFrame,
        database: Database,
        *,
        input_sql_key: Read = "cot_sql",
        input_db_id_key: Read = "db_id",
        output_vote_share_key: Write = "vote_share",
    ) -> OpResult:
        matcher = ExecutionMatcher(database)  # its cache runs each distinct query once per variant
        known = set(database.db_ids())
        groups = df.with_row_index("__position").group_by(pl.col(PARENT_IDS).list.join(","), maintain_order=True)
        outcomes: dict[int, Outcome] = {}
        tracker = track("sql_cot_vote", df.height)
        for _, group in groups:
            rows = group.select("__position", ROW_ID, input_sql_key, input_db_id_key).rows()
            outcomes.update(self._vote_group(matcher, known, rows))
            tracker.advance(len(rows))
        ordered = [outcomes[i] for i in range(df.height)]
        shares = df.with_columns(pl.Series(output_vote_share_key, [o.score for o in ordered], dtype=pl.Float64))
        return decide(shares, ordered, REASONS, score=output_vote_share_key)

    def _vote_group(self, matcher: ExecutionMatcher, known: set[str], rows: list[tuple]) -> dict[int, Outcome]:
        failures: dict[int, Outcome] = {}
        valid: list[tuple[int, str, str, list[ExecutionResult], str]] = []
        for position, row_id, sql, db_id in rows:
            if db_id not in known or not sql:
                failures[position] = Outcome("sql_cot_invalid", "no query" if not sql else f"no database {db_id!r}")
                continue
            results = matcher.results(db_id, sql)
            bad = next((r for r in results if not r.ok or r.truncated), None)
            if bad is not None:
                reason = describe_failure(bad) if not bad.ok else f"more rows than the engine keeps on {bad.database}"
                failures[position] = Outcome("sql_cot_invalid", reason)
            else:
                valid.append((position, row_id, sql, results, db_id))
        votes: list[list[tuple[int, str, str, list[ExecutionResult], str]]] = []
        for trace in valid:
            dialect = matcher.database.dialect(trace[4])
            same = next((v for v in votes if _same_answer(v[0], trace, dialect)), None)
            if same is None:
                votes.append([trace])
            else:
                same.append(trace)
        outcomes = dict(failures)
        if not votes:
            return outcomes
        votes.sort(key=lambda v: (-len(v), min(len(t[2]) for t in v), v[0][0]))
        winner = min(votes[0], key=lambda t: (len(t[2]), t[0]))
        total = len(rows)
        won = f"{winner[1]} won with {len(votes[0])} of {total} votes"
        for rank, vote in enumerate(votes):
            share = len(vote) / total
            for position, *_ in vote:
                if position == winner[0]:
                    outcomes[position] = Outcome(score=share)
                elif rank == 0:
                    outcomes[position] = Outcome("sql_cot_not_chosen", f"same result as the kept trace: {won}", share)
                else:
                    outcomes[position] = Outcome("sql_cot_outvoted", won, share)
        return outcomes

    def run(self, *frames: pl.DataFrame, database: Database, **keys: str) -> OpResult:
        (df,) = frames
        return self.vote(df, database, **self.bind_keys(keys))


def _same_answer(a: tuple, b: tuple, dialect: str) -> bool:
    """Whether two valid traces' queries give the same results on every variant."""
    ordered = has_outer_order_by(a[2], dialect) and has_outer_order_by(b[2], dialect)
    return all(compare(x, y, ordered=ordered) is None for x, y in zip(a[3], b[3], strict=True))
