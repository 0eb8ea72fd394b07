"""What travels between Ray workers and the driver: packed step outputs, engine copies with their share of the
limits, and usage added up over actors."""

import pickle
from collections import Counter

from operators import WordCountFilter
from operators.engines import CounterUsage
from resources.llm.client import LLMUsage
from resources.llm.resource import LLMResource
from resources.ray.batches import MAIN, merge_usage, pack, unpack, worker_engine
from tests.support import frame


def test_every_output_table_travels_in_one_block_with_the_batch_summary():
    result = WordCountFilter(min_words=2).run(frame(["one", "two words", None]))
    packed = {p.name: p for p in unpack(pack(7, result, ["text"], usage={}))}

    assert set(packed) == {MAIN, "rejected", "scores"}
    assert packed[MAIN].frame.equals(result.kept) and packed["rejected"].frame.equals(result.rejected)
    summary = packed[MAIN].meta["summary"]
    assert (packed[MAIN].meta["index"], summary.rows, summary.null_or_empty) == (7, 1, {"text": 0})
    assert summary.rejected_by_reason == {"word_count_too_short": 2}  # a null text cannot be judged: rejected
    assert packed["rejected"].meta is None


def test_actors_share_the_engine_limits_and_build_their_own_client(tmp_path):
    llm = LLMResource(
        backend="openai", model="m", base_url="http://127.0.0.1:8000/v1", max_concurrency=5, requests_per_minute=600
    )
    recipe = pickle.loads(pickle.dumps(worker_engine(llm, actors=2)))  # travels to the actors
    share = recipe.resource(**recipe.values)
    assert (share.max_concurrency, share.requests_per_minute, share.tokens_per_minute) == (2, 300, None)
    assert share.model == "m" and recipe.build().model_id == llm.build_client().model_id
    scripted = object()
    assert worker_engine(scripted, actors=2).build() is scripted  # no build_client: sent as it is


def test_usage_adds_up_over_actors():
    a = LLMUsage(calls=2, cache_hits=1, errors=Counter(timeout=1), latencies_s=[0.1, 0.2], busy_s=1.0)
    b = LLMUsage(calls=3, errors=Counter(timeout=1, rate_limited=2), latencies_s=[0.3], busy_s=0.5)
    total = merge_usage(a, b)
    assert (total.calls, total.cache_hits, total.busy_s) == (5, 1, 1.5)
    assert total.errors == Counter(timeout=2, rate_limited=2) and sorted(total.latencies_s) == [0.1, 0.2, 0.3]
    assert merge_usage(None, CounterUsage({"calls": 1.0})) == CounterUsage({"calls": 1.0})
    assert merge_usage(CounterUsage({"calls": 1.0}), CounterUsage({"calls": 2.0, "rows": 4.0})).counts == {
        "calls": 3.0,
        "rows": 4.0,
    }
