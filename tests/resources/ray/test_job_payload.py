"""What travels between a Ray step's Dagster process and its Ray job: the work out, the staged result back in
log-line-sized Pipes messages, and the job's error."""

import json
import random
import string

import pytest

from operators import WordCountFilter
from resources.delta_store import DeltaStore
from resources.llm.resource import LLMResource
from resources.ray.batches import worker_engine
from resources.ray.execute import RayRun, RayStep
from resources.ray.job_payload import (
    CHUNK_CHARS,
    ERROR_KEY,
    JobWork,
    decode,
    encode,
    error_from,
    result_from,
    result_messages,
)
from resources.step_output import DeltaSlice, OutputSummary, StagedResult, StagedTable
from tests.support import frame

pytest.importorskip("ray", reason="Ray steps need the ray extra: pip install -e '.[ray]'")


def staged_run(texts: list[str]) -> RayRun:
    result = WordCountFilter(min_words=2).run(frame(texts))
    summary = OutputSummary.of(result, ["text"], count_ids=False)
    staged = StagedResult(StagedTable([], result.kept.schema), summary, {"rejected": StagedTable([], summary.schema)})
    return RayRun(staged, len(texts), {}, {"identity": "ray:head:6379", "tasks": 1, "actors": 0, "seconds": 1.5})


def test_the_result_comes_back_whole_in_messages_that_each_fit_a_log_read():
    rng = random.Random(0)
    words = ["".join(rng.choices(string.ascii_lowercase, k=6)) for _ in range(25_000)]
    run = staged_run([" ".join(words[i::6]) for i in range(6)])  # a preview of ~175k characters

    messages = result_messages(run)

    assert len(messages) > 1
    assert all(len(json.dumps(m)) < 2 * CHUNK_CHARS for m in messages)
    back = result_from([*reversed(messages), "an unrelated message"])  # order does not matter
    assert back.stats == run.stats and back.rows_in == 6
    assert back.result.summary.preview.equals(run.result.summary.preview)
    assert result_from(messages[1:]) is None  # a chunk missing: no result, rather than a wrong one


def test_the_work_carries_the_step_and_the_engine_configuration(tmp_path):
    llm = LLMResource(backend="openai", model="m", base_url="http://127.0.0.1:8000/v1", max_concurrency=6)
    work = JobWork(
        engine={"rows_per_block": 10},
        work=RayStep(
            WordCountFilter(min_words=3),
            DeltaSlice(str(tmp_path / "raw"), 4, ["shard-1"]),
            {},
            DeltaStore(tmp_path),
            ["group", "step"],
            True,
            ["text"],
        ),
        engines={"llm": worker_engine(llm, 1)},
    )

    back = decode(encode(work)).step_work()

    assert (back.step, back.source, back.store.root) == (work.work.step, work.work.source, tmp_path)
    given = back.engines["llm"]
    assert isinstance(given, LLMResource) and given.max_concurrency == 6  # divided among actors in the job


def test_the_jobs_error_is_found_among_its_messages():
    assert error_from([{"other": 1}, {ERROR_KEY: "DataflowError: bad row"}]) == "DataflowError: bad row"
    assert error_from([]) is None
