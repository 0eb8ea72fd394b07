"""The vLLM backend without vLLM: request translation, batch mapping and failures, against a scripted engine."""

from __future__ import annotations

import re
import sys
import types
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from resources.llm.backend import REASK, CallError, Completion, Request, ScoreRequest
from resources.llm.backends.vllm_backend import (
    VLLMBackend,
    chat_messages,
    sampling_kwargs,
    structured_kwargs,
)
from resources.llm.cache import ResponseCache
from resources.llm.client import LLMClient, LLMErrorRateError
from resources.llm.errors import NOT_ATTEMPTED

SCHEMA = {"type": "object", "properties": {"label": {"type": "string"}}, "required": ["label"]}
TOO_LONG = (
    "The decoder prompt (length 9000) is longer than the maximum model length of 4096. "
    "Make sure that `max_model_len` is no smaller than the number of text tokens."
)


class FakeSamplingParams:
    """Refuses what vLLM's ``SamplingParams`` refuses most often: a negative temperature."""

    def __init__(self, **kwargs: Any) -> None:
        if (kwargs.get("temperature") or 0) < 0:
            raise ValueError(f"temperature must be non-negative, got {kwargs['temperature']}")
        self.kwargs = kwargs


class FakeStructuredOutputsParams:
    def __init__(self, *, json: Any) -> None:
        self.json = json


class FakeGuidedDecodingParams:
    def __init__(self, *, json: Any) -> None:
        self.json = json


NEW_VLLM = SimpleNamespace(SamplingParams=FakeSamplingParams, StructuredOutputsParams=FakeStructuredOutputsParams)
OLD_VLLM = SimpleNamespace(SamplingParams=FakeSamplingParams, GuidedDecodingParams=FakeGuidedDecodingParams)


def output(text: str, prompt_tokens: int, completion_tokens: int) -> SimpleNamespace:
    """What ``LLM.chat`` returns per conversation: a ``RequestOutput``-like object."""
    return SimpleNamespace(
        prompt_token_ids=list(range(prompt_tokens)),
        outputs=[SimpleNamespace(text=text, token_ids=list(range(completion_tokens)))],
    )


class FakeEngine:
    """Records every ``chat`` call; answers each conversation with ``answer(conversation)``, and raises what
    ``refuse(conversations)`` returns (as vLLM raises for a whole batch)."""

    def __init__(
        self,
        answer: Callable[[list[dict[str, str]]], str] | None = None,
        refuse: Callable[[list[list[dict[str, str]]]], Exception | None] | None = None,
    ) -> None:
        self.answer = answer or (lambda conversation: f"re: {conversation[-1]['content']}")
        self.refuse = refuse or (lambda conversations: None)
        self.calls: list[tuple[list[list[dict[str, str]]], list[Any], dict[str, Any]]] = []

    def chat(self, conversations: list[list[dict[str, str]]], params: list[Any], **kwargs: Any) -> list[Any]:
        self.calls.append((conversations, params, kwargs))
        error = self.refuse(conversations)
        if error is not None:
            raise error
        return [output(self.answer(c), len(c[-1]["content"].split()), 3) for c in conversations]


def backend(engine: Any, module: Any = NEW_VLLM) -> VLLMBackend:
    return VLLMBackend("org/tiny-instruct", engine=engine, sampling_module=module)


def prompts_of(call: tuple[list[list[dict[str, str]]], list[Any], dict[str, Any]]) -> list[str]:
    return [conversation[-1]["content"] for conversation in call[0]]


# --- translation ---


def test_chat_messages_carry_system_prompt_and_reask_turns() -> None:
    plain = Request("Summarize: cats.")
    reasked = Request("Label: dogs.", system="You label texts.").reasked('{"lab', "not JSON (x at position 5)")
    assert chat_messages([plain, reasked]) == [
        [{"role": "user", "content": "Summarize: cats."}],
        [
            {"role": "system", "content": "You label texts."},
            {"role": "user", "content": "Label: dogs."},
            {"role": "assistant", "content": '{"lab'},
            {"role": "user", "content": REASK.format(problem="not JSON (x at position 5)")},
        ],
    ]


def test_sampling_kwargs_map_every_known_option_and_never_default_to_16_tokens() -> None:
    sampling = {"temperature": 0.2, "max_tokens": 64, "top_p": 0.9, "seed": 7, "stop": ["\n\n"]}
    assert sampling_kwargs(Request("p", sampling=sampling)) == sampling
    assert sampling_kwargs(Request("p")) == {"max_tokens": None}
    assert sampling_kwargs(Request("p", sampling={"temperature": None, "seed": 1})) == {"max_tokens": None, "seed": 1}


def test_sampling_kwargs_refuse_an_unknown_option() -> None:
    with pytest.raises(CallError) as caught:
        sampling_kwargs(Request("p", sampling={"temprature": 0.1}))
    assert caught.value.kind == "bad_request"
    assert not caught.value.fatal and not caught.value.retryable
    assert "temprature" in caught.value.message


def test_structured_kwargs_use_structured_outputs_on_new_vllm() -> None:
    kwargs = structured_kwargs(SCHEMA, NEW_VLLM)
    assert list(kwargs) == ["structured_outputs"]
    assert isinstance(kwargs["structured_outputs"], FakeStructuredOutputsParams)
    assert kwargs["structured_outputs"].json == SCHEMA


def test_structured_kwargs_use_guided_decoding_on_old_vllm() -> None:
    kwargs = structured_kwargs(SCHEMA, OLD_VLLM)
    assert list(kwargs) == ["guided_decoding"]
    assert isinstance(kwargs["guided_decoding"], FakeGuidedDecodingParams)
    assert kwargs["guided_decoding"].json == SCHEMA


def test_structured_kwargs_prefer_the_new_api_when_both_exist() -> None:
    both = SimpleNamespace(
        StructuredOutputsParams=FakeStructuredOutputsParams, GuidedDecodingParams=FakeGuidedDecodingParams
    )
    assert list(structured_kwargs(SCHEMA, both)) == ["structured_outputs"]


def test_structured_kwargs_without_schema_or_without_support() -> None:
    assert structured_kwargs(None, SimpleNamespace()) == {}
    with pytest.raises(CallError) as caught:
        structured_kwargs(SCHEMA, SimpleNamespace(SamplingParams=FakeSamplingParams))
    assert caught.value.kind == "backend_unavailable" and caught.value.fatal


# --- the batch ---


def test_identity_and_parallelism() -> None:
    served = backend(FakeEngine())
    assert served.model_id == "vllm:org/tiny-instruct"
    assert served.max_parallel == 1


def test_one_chat_call_for_the_batch_with_params_per_request() -> None:
    engine = FakeEngine()
    requests = [
        Request("one two three", sampling={"temperature": 0.0, "max_tokens": 32}),
        Request("four", system="Be brief.", sampling={"temperature": 0.7, "seed": 3}),
        Request("five six", json_schema=SCHEMA),
    ]
    outcomes = backend(engine).complete_batch(requests)

    assert outcomes == [
        Completion("re: one two three", prompt_tokens=3, completion_tokens=3),
        Completion("re: four", prompt_tokens=1, completion_tokens=3),
        Completion("re: five six", prompt_tokens=2, completion_tokens=3),
    ]
    assert len(engine.calls) == 1
    conversations, params, kwargs = engine.calls[0]
    assert conversations == chat_messages(requests)
    assert kwargs == {"use_tqdm": False}
    assert [p.kwargs for p in params[:2]] == [
        {"max_tokens": 32, "temperature": 0.0},
        {"max_tokens": None, "temperature": 0.7, "seed": 3},
    ]
    assert params[2].kwargs["structured_outputs"].json == SCHEMA


def test_old_vllm_gets_guided_decoding_in_its_params() -> None:
    engine = FakeEngine()
    backend(engine, OLD_VLLM).complete_batch([Request("p", json_schema=SCHEMA)])
    (params,) = engine.calls[0][1]
    assert params.kwargs["guided_decoding"].json == SCHEMA
    assert "structured_outputs" not in params.kwargs


def test_complete_is_a_batch_of_one() -> None:
    engine = FakeEngine()
    assert backend(engine).complete(Request("hello there")) == Completion("re: hello there", 2, 3)
    with pytest.raises(CallError) as caught:
        backend(engine).complete(Request("p", sampling={"nucleus": 0.5}))
    assert caught.value.kind == "bad_request"


def test_an_empty_batch_calls_nothing() -> None:
    engine = FakeEngine()
    assert backend(engine).complete_batch([]) == []
    assert engine.calls == []


def test_a_request_vllm_cannot_express_fails_alone() -> None:
    engine = FakeEngine()
    outcomes = backend(engine).complete_batch(
        [Request("a"), Request("b", sampling={"beam_width": 4}), Request("c", sampling={"temperature": -1.0})]
    )
    assert outcomes[0] == Completion("re: a", 1, 3)
    assert [(o.kind, o.fatal) for o in outcomes[1:] if isinstance(o, CallError)] == [
        ("bad_request", False),
        ("bad_request", False),
    ]
    assert "beam_width" in outcomes[1].message and "temperature" in outcomes[2].message
    assert [prompts_of(call) for call in engine.calls] == [["a"]]


def test_an_engine_failure_fails_every_request_of_the_batch() -> None:
    engine = FakeEngine(refuse=lambda conversations: RuntimeError("CUDA error: an illegal memory access"))
    outcomes = backend(engine).complete_batch([Request("a"), Request("b")])
    assert all(isinstance(o, CallError) for o in outcomes)
    assert {(o.kind, o.retryable, o.fatal) for o in outcomes} == {("backend_error", False, False)}
    assert "illegal memory access" in outcomes[0].message
    assert len(engine.calls) == 1


def test_a_prompt_too_long_is_isolated_and_the_rest_still_answered() -> None:
    def refuse(conversations: list[list[dict[str, str]]]) -> Exception | None:
        return ValueError(TOO_LONG) if any("LONG" in c[-1]["content"] for c in conversations) else None

    engine = FakeEngine(refuse=refuse)
    prompts = ["a", "b", "LONG c", "d", "e"]
    outcomes = backend(engine).complete_batch([Request(p) for p in prompts])

    assert [o.text for o in outcomes if isinstance(o, Completion)] == ["re: a", "re: b", "re: d", "re: e"]
    refused = outcomes[2]
    assert isinstance(refused, CallError) and refused.kind == "bad_request" and not refused.fatal
    assert "maximum model length" in refused.message
    # Halving: the whole batch, then [a, b] and [LONG c, d, e], then [LONG c] and [d, e].
    assert [prompts_of(call) for call in engine.calls] == [
        prompts,
        ["a", "b"],
        ["LONG c", "d", "e"],
        ["LONG c"],
        ["d", "e"],
    ]


def test_a_single_request_refused_as_invalid_is_a_bad_request() -> None:
    engine = FakeEngine(refuse=lambda conversations: ValueError("The provided JSON schema is not supported"))
    (outcome,) = backend(engine).complete_batch([Request("p", json_schema=SCHEMA)])
    assert isinstance(outcome, CallError) and outcome.kind == "bad_request"


def test_a_context_error_that_is_not_a_value_error_is_still_a_bad_request() -> None:
    engine = FakeEngine(refuse=lambda conversations: RuntimeError(TOO_LONG))
    (outcome,) = backend(engine).complete_batch([Request("p")])
    assert isinstance(outcome, CallError) and outcome.kind == "bad_request"


def test_leftover_outputs_of_an_earlier_refused_batch_are_dropped() -> None:
    """Older vLLM keeps the requests added before a refused one; the next call returns them first."""

    class LeakyEngine(FakeEngine):
        def chat(self, conversations: list[list[dict[str, str]]], params: list[Any], **kwargs: Any) -> list[Any]:
            return [output("leftover", 9, 9), *super().chat(conversations, params, **kwargs)]

    outcomes = backend(LeakyEngine()).complete_batch([Request("a"), Request("b")])
    assert outcomes == [Completion("re: a", 1, 3), Completion("re: b", 1, 3)]


def test_missing_outputs_fail_the_batch() -> None:
    class ShortEngine(FakeEngine):
        def chat(self, conversations: list[list[dict[str, str]]], params: list[Any], **kwargs: Any) -> list[Any]:
            return super().chat(conversations, params, **kwargs)[:1]

    outcomes = backend(ShortEngine()).complete_batch([Request("a"), Request("b")])
    assert {o.kind for o in outcomes if isinstance(o, CallError)} == {"backend_error"}
    assert len(outcomes) == 2


def test_an_output_without_sequences_is_that_request_error() -> None:
    class EmptyEngine(FakeEngine):
        def chat(self, conversations: list[list[dict[str, str]]], params: list[Any], **kwargs: Any) -> list[Any]:
            return [SimpleNamespace(prompt_token_ids=[1], outputs=[]), output("ok", 1, 1)]

    first, second = backend(EmptyEngine()).complete_batch([Request("a"), Request("b")])
    assert isinstance(first, CallError) and first.kind == "backend_error"
    assert second == Completion("ok", 1, 1)


# --- loading vLLM ---


def test_without_vllm_every_request_fails_with_the_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "vllm", None)  # makes `import vllm` raise ImportError, installed or not
    monkeypatch.setitem(sys.modules, "vllm.sampling_params", None)
    served = VLLMBackend("org/tiny-instruct")  # constructing imports nothing

    outcomes = served.complete_batch([Request("a"), Request("b")])
    assert all(isinstance(o, CallError) for o in outcomes)
    error = outcomes[0]
    assert error.kind == "backend_unavailable" and error.fatal
    assert "vLLM is not installed" in error.message and "pip install '.[gpu]'" in error.message
    with pytest.raises(CallError, match=r"pip install '\.\[gpu\]'"):
        served.complete(Request("a"))


def fake_vllm(monkeypatch: pytest.MonkeyPatch, llm: Callable[..., Any]) -> None:
    """Install a stand-in ``vllm`` package whose ``LLM`` is ``llm``."""
    package = types.ModuleType("vllm")
    package.LLM = llm  # type: ignore[attr-defined]
    sampling = types.ModuleType("vllm.sampling_params")
    sampling.SamplingParams = FakeSamplingParams  # type: ignore[attr-defined]
    sampling.StructuredOutputsParams = FakeStructuredOutputsParams  # type: ignore[attr-defined]
    package.sampling_params = sampling  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "vllm", package)
    monkeypatch.setitem(sys.modules, "vllm.sampling_params", sampling)


def test_the_engine_is_built_once_on_first_use_with_the_engine_options(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[dict[str, Any]] = []

    def llm(**kwargs: Any) -> FakeEngine:
        built.append(kwargs)
        return FakeEngine()

    fake_vllm(monkeypatch, llm)
    served = VLLMBackend(
        "/models/qwen", tensor_parallel_size=2, max_model_len=4096, seed=5, engine_options={"enforce_eager": True}
    )
    assert built == []
    assert served.complete(Request("x")) == Completion("re: x", 1, 3)
    served.complete_batch([Request("y")])
    assert built == [
        {
            "model": "/models/qwen",
            "tensor_parallel_size": 2,
            "gpu_memory_utilization": 0.9,
            "max_model_len": 4096,
            "dtype": "auto",
            "seed": 5,
            "enforce_eager": True,
        }
    ]


def test_a_model_that_does_not_load_is_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    def llm(**kwargs: Any) -> FakeEngine:
        raise OSError("/models/missing is not a local folder and HF_HUB_OFFLINE is set")

    fake_vllm(monkeypatch, llm)
    (outcome,) = VLLMBackend("/models/missing").complete_batch([Request("x")])
    assert isinstance(outcome, CallError) and outcome.kind == "backend_unavailable" and outcome.fatal
    assert "/models/missing" in outcome.message


# --- through the client ---


def test_the_client_sends_one_batch_and_reasks_invalid_json_in_the_next() -> None:
    def answer(conversation: list[dict[str, str]]) -> str:
        bad_first = conversation[1]["content"] == "bad" and len(conversation) == 2
        return "not json" if bad_first else '{"label": "ok"}'

    engine = FakeEngine(answer=answer)
    client = LLMClient(backend(engine), cache=None)
    results = client.generate(["good", "bad", "fine"], system="Label it.", json_schema=SCHEMA, temperature=0.0)

    assert [r.parsed for r in results] == [{"label": "ok"}] * 3
    assert prompts_of(engine.calls[0]) == ["good", "bad", "fine"]
    assert len(engine.calls) == 2
    (reask,) = engine.calls[1][0]
    assert [m["role"] for m in reask] == ["system", "user", "assistant", "user"]
    assert reask[2]["content"] == "not json"


def test_each_batch_is_cached_as_it_returns_so_a_crash_keeps_the_batches_answered(tmp_path) -> None:
    """The engine dies (an exception vLLM does not catch) in the second of three batches: the first batch's
    answers are already in the cache, and the re-run sends only the other rows."""

    def refuse(conversations: list[list[dict[str, str]]]) -> Exception | None:
        if len(engine.calls) == 2:
            raise KeyboardInterrupt  # stands for the process being killed: nothing after it runs
        return None

    engine = FakeEngine(refuse=refuse)
    cache = ResponseCache(tmp_path / "cache.sqlite")
    with pytest.raises(KeyboardInterrupt):
        LLMClient(backend(engine), cache=cache, batch_rows=2).generate(["a", "b", "c", "d", "e"])
    assert len(cache) == 2

    engine = FakeEngine()
    results = LLMClient(backend(engine), cache=cache, batch_rows=2).generate(["a", "b", "c", "d", "e"])
    assert [r.cached for r in results] == [True, True, False, False, False]
    assert [prompts_of(call) for call in engine.calls] == [["c", "d"], ["e"]]


def test_a_failing_engine_stops_between_batches_once_the_error_rate_is_certain() -> None:
    engine = FakeEngine(refuse=lambda conversations: RuntimeError("CUDA error: an illegal memory access"))
    client = LLMClient(backend(engine), cache=None, batch_rows=2, max_error_rate=0.2)
    with pytest.raises(LLMErrorRateError, match=r"5 of 20 calls failed \(backend_error: 5\)") as stopped:
        client.generate([f"p{i}" for i in range(20)])
    assert len(engine.calls) == 3  # 4 failures are not yet more than 0.2 * 20; the 5th is, in the third batch
    assert [r.error for r in stopped.value.results] == ["backend_error"] * 6 + [NOT_ATTEMPTED] * 14


# --- token scores ---


class WordTokenizer:
    """Words with the white space before them, numbered as first seen (0-2 are special); with special tokens, a
    BOS (1) first when ``adds_bos``."""

    def __init__(self, adds_bos: bool = True) -> None:
        self.adds_bos = adds_bos
        self.ids: dict[str, int] = {}

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        words = [self.ids.setdefault(word, len(self.ids) + 3) for word in re.findall(r"\s*\S+|\s+$", text)]
        return [1, *words] if add_special_tokens and self.adds_bos else words


class ScoringEngine:
    """``generate`` with ``prompt_logprobs``: position i of a prompt scores -i/10; ``refuse`` as in FakeEngine."""

    def __init__(
        self, refuse: Callable[[list[list[int]]], Exception | None] | None = None, adds_bos: bool = True
    ) -> None:
        self.tokenizer = WordTokenizer(adds_bos)
        self.refuse = refuse or (lambda prompts: None)
        self.calls: list[tuple[list[list[int]], Any]] = []

    def get_tokenizer(self) -> WordTokenizer:
        return self.tokenizer

    def generate(self, prompts: list[dict[str, list[int]]], params: Any, **kwargs: Any) -> list[Any]:
        ids = [prompt["prompt_token_ids"] for prompt in prompts]
        self.calls.append((ids, params))
        error = self.refuse(ids)
        if error is not None:
            raise error
        return [
            SimpleNamespace(
                prompt_token_ids=tokens,
                prompt_logprobs=[None, *({t: SimpleNamespace(logprob=-i / 10)} for i, t in enumerate(tokens) if i)],
                outputs=[SimpleNamespace(text=" x", token_ids=[0])],
            )
            for tokens in ids
        ]


def test_token_scores_are_the_prompt_logprobs_after_the_context() -> None:
    engine = ScoringEngine()
    conditioned, alone = backend(engine).score_batch(
        [ScoreRequest("the moon", "Q: tides?\n"), ScoreRequest("the moon")]
    )
    # [BOS, "Q:", " tides?", "\nthe", " moon"]: "\nthe" spans the boundary and is the text's.
    assert conditioned == Completion("", prompt_tokens=5, logprobs=(-0.3, -0.4))
    assert alone == Completion("", prompt_tokens=3, logprobs=(-0.1, -0.2))  # after BOS, every token scored
    (prompts, params) = engine.calls[0]
    assert [prompt[0] for prompt in prompts] == [1, 1]
    assert params.kwargs == {"max_tokens": 1, "temperature": 0.0, "prompt_logprobs": 0}

    # A tokenizer that adds no BOS: nothing precedes a text's first token, which is left out.
    conditioned, alone = backend(ScoringEngine(adds_bos=False)).score_batch(
        [ScoreRequest("the moon", "Q: tides?\n"), ScoreRequest("the moon")]
    )
    assert (conditioned.logprobs, alone.logprobs) == ((-0.2, -0.3), (-0.1,))


def test_a_text_too_long_to_score_fails_alone_and_missing_logprobs_are_an_error() -> None:
    too_long = lambda prompts: ValueError(TOO_LONG) if any(len(p) > 6 for p in prompts) else None  # noqa: E731
    outcomes = backend(ScoringEngine(refuse=too_long)).score_batch(
        [ScoreRequest("a b"), ScoreRequest("a b c d e f g"), ScoreRequest("c")]
    )
    assert [o.kind if isinstance(o, CallError) else o.logprobs for o in outcomes] == [
        (-0.1, -0.2),
        "bad_request",
        (-0.1,),
    ]

    class Unscored(ScoringEngine):
        def generate(self, prompts: list[dict[str, list[int]]], params: Any, **kwargs: Any) -> list[Any]:
            return [SimpleNamespace(**{**vars(o), "prompt_logprobs": None}) for o in super().generate(prompts, params)]

    (outcome,) = backend(Unscored()).score_batch([ScoreRequest("a b")])
    assert isinstance(outcome, CallError) and outcome.kind == "backend_error" and "log-probabilities" in outcome.message


def test_the_client_scores_a_call_in_one_batch_and_caches_it(tmp_path) -> None:
    engine = ScoringEngine()
    client = LLMClient(backend(engine), cache=ResponseCache(tmp_path / "cache.sqlite"))
    first = client.score_tokens(["one two", "three"], contexts=["ctx\n", None])
    again = client.score_tokens(["one two", "three"], contexts=["ctx\n", None])
    assert len(engine.calls) == 1 and len(engine.calls[0][0]) == 2
    assert [s.logprobs for s in again] == [s.logprobs for s in first] == [[-0.2, -0.3], [-0.1]]
    assert [s.cached for s in again] == [True, True]
