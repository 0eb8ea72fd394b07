"""Token scores from the embedded model (llama.cpp running SmolLM2-135M): what is scored, the values checked
against llama.cpp's own logits of every position, the cache, a text too long failing its row alone, and
generation unchanged after a scoring pass."""

from __future__ import annotations

import numpy as np
import pytest

from resources.llm.backends.llama_cpp_backend import LlamaCppBackend
from resources.llm.cache import ResponseCache
from resources.llm.client import LLMClient

pytestmark = pytest.mark.llm

CONTEXT = "Describe what a cat does on a quiet afternoon.\n"
TEXT = "The cat sat on the mat and looked out of the window."
LONG = " ".join(
    [
        "Rivers shape the land they cross. Over thousands of years a river cuts its valley, carries silt to the sea",
        "and builds deltas where it slows down. Floodplains are among the most fertile soils on earth, which is why",
        "so many early cities grew beside rivers. The printing press lowered the cost of books so far that reading",
        "spread from monasteries to merchants and craftsmen within a few generations. Bread dough rises because",
        "yeast ferments sugar into carbon dioxide, and the gas is trapped by a network of gluten. Glaciers move",
        "slowly downhill under their own weight, grinding the rock beneath them into fine powder that rivers later",
        "carry away. Bridges must carry their own weight as well as the traffic that crosses them every day.",
    ]
)
"""About 160 tokens: more than one decode call of 128 positions."""


@pytest.fixture(scope="module")
def backend() -> LlamaCppBackend:
    return LlamaCppBackend()


def tokens(backend: LlamaCppBackend, text: str) -> list[int]:
    return backend.engine().tokenize(text.encode(), add_bos=False, special=False)


def test_every_token_after_the_context_is_scored_and_none_is_positive(backend):
    alone, after = LLMClient(backend).score_tokens([TEXT, TEXT], contexts=[None, CONTEXT])
    count = len(tokens(backend, TEXT))
    assert len(after.logprobs) == count  # the context ends with a newline: no token spans the boundary
    assert len(alone.logprobs) == count - 1  # SmolLM2 adds no BOS: nothing predicts the first token
    assert all(value <= 0 for value in [*alone.logprobs, *after.logprobs])
    assert sum(after.logprobs[1:]) > sum(alone.logprobs)  # the description makes the sentence likelier


def test_the_scores_are_the_log_softmax_of_llama_cpps_logits_at_every_position(backend):
    """An independent reference: llama.cpp run with the logits of every position kept (``logits_all``), over the
    context and a text long enough to need two decode calls."""
    from llama_cpp import Llama

    [scored] = LLMClient(backend).score_tokens([LONG], contexts=[CONTEXT])
    everything = tokens(backend, CONTEXT + LONG)
    assert 128 < len(everything) <= 256
    reference = Llama(model_path=str(backend.model_path), n_ctx=256, n_threads=1, logits_all=True, verbose=False)
    reference.eval(everything)
    logits = np.asarray(reference.scores[: len(everything)], dtype=np.float64)
    peak = logits.max(axis=1, keepdims=True)
    log_softmax = logits - peak - np.log(np.exp(logits - peak).sum(axis=1, keepdims=True))
    start = len(tokens(backend, CONTEXT))
    expected = [log_softmax[i - 1, everything[i]] for i in range(start, len(everything))]
    assert scored.logprobs == pytest.approx(expected, abs=1e-4)


def test_the_second_call_is_served_from_the_cache(backend, tmp_path):
    client = LLMClient(backend, cache=ResponseCache(tmp_path / "cache.sqlite"))
    first = client.score_tokens([TEXT, TEXT], contexts=[None, CONTEXT])
    calls = client.usage().calls
    assert calls == 2
    again = client.score_tokens([TEXT, TEXT], contexts=[None, CONTEXT])
    assert client.usage().calls == calls  # no model call
    assert [s.cached for s in again] == [True, True]
    assert [s.logprobs for s in again] == [s.logprobs for s in first]


def test_a_text_longer_than_the_context_fails_its_row_alone():
    short, long = LLMClient(LlamaCppBackend(n_ctx=256)).score_tokens([TEXT, " ".join([LONG] * 2)])
    assert short.ok and len(short.logprobs) > 0
    assert long.error == "bad_request" and "n_ctx" in long.error_message


def test_generation_after_a_scoring_pass_is_what_it_was_before(backend):
    """Scoring leaves the model's KV cache in another state than generation expects; the backend resets it."""
    client = LLMClient(backend)
    ask = {"max_tokens": 12, "temperature": 0.0, "seed": 0}
    [before] = client.generate(["Name a colour."], **ask)
    client.score_tokens([LONG])
    [after] = client.generate(["Name a colour."], **ask)
    assert after.text == before.text
