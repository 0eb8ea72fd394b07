"""The LLM client: implements the operators' ``LLM`` protocol on top of any backend.

Per ``generate`` call: answers found in the cache are returned without a call; the rest go to the backend
(concurrently up to the cap, or in one batch for a batch engine), retried with exponential backoff and full jitter
on retryable errors (honouring ``Retry-After``); answers that must match a JSON schema are validated here whatever
the backend enforced, and an invalid one is re-asked a bounded number of times before it becomes that row's
error. A fatal error (bad key, unknown model, nothing listening) stops the call at once, and so does an error rate
above ``max_error_rate``: a step should fail rather than write a mostly empty table.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import jsonschema

from operators.errors import DataflowError
from operators.llm.protocol import LLMResult
from resources.llm.backend import SAMPLING_PARAMETERS, Backend, CallError, Completion, Request
from resources.llm.cache import ResponseCache, cache_key
from resources.llm.limits import RateLimiter


class LLMConfigurationError(DataflowError):
    """The backend is misconfigured (authentication, model name, address): no row can succeed."""


class LLMErrorRateError(DataflowError):
    """Too many rows of one step failed."""


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 5
    base_delay_s: float = 1.0
    max_delay_s: float = 60.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based): the server's ``Retry-After`` when given,
        else exponential backoff with full jitter, so that many clients do not retry in step."""
        if retry_after is not None:
            return min(retry_after, self.max_delay_s)
        return random.uniform(0, min(self.max_delay_s, self.base_delay_s * 2**attempt))


@dataclass
class LLMUsage:
    """Running totals of one client; ``since`` gives one step's share."""

    calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    retries: int = 0
    reasks: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    latencies_s: list[float] = field(default_factory=list)
    busy_s: float = 0.0

    def copy(self) -> LLMUsage:
        return LLMUsage(**{**vars(self), "errors": Counter(self.errors), "latencies_s": list(self.latencies_s)})

    def since(self, earlier: LLMUsage) -> LLMUsage:
        return LLMUsage(
            calls=self.calls - earlier.calls,
            cache_hits=self.cache_hits - earlier.cache_hits,
            prompt_tokens=self.prompt_tokens - earlier.prompt_tokens,
            completion_tokens=self.completion_tokens - earlier.completion_tokens,
            retries=self.retries - earlier.retries,
            reasks=self.reasks - earlier.reasks,
            errors=self.errors - earlier.errors,
            latencies_s=self.latencies_s[len(earlier.latencies_s) :],
            busy_s=self.busy_s - earlier.busy_s,
        )

    def metadata(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_s)

        def percentile(q: float) -> float | None:
            return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 4) if ordered else None

        return {
            "calls": self.calls,
            "cache_hits": self.cache_hits,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "retries": self.retries,
            "reasks": self.reasks,
            "errors_by_kind": dict(self.errors),
            "latency_p50_s": percentile(0.50),
            "latency_p95_s": percentile(0.95),
            "tokens_per_s": round(self.completion_tokens / self.busy_s, 2) if self.busy_s > 0 else None,
        }


@dataclass
class _Pending:
    request: Request
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0


class LLMClient:
    def __init__(
        self,
        backend: Backend,
        *,
        cache: ResponseCache | None = None,
        max_concurrency: int = 8,
        limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        json_reasks: int = 2,
        max_error_rate: float = 0.2,
        min_rows_for_error_rate: int = 10,
    ) -> None:
        self.backend = backend
        self.cache = cache
        self.max_concurrency = max(1, min(max_concurrency, backend.max_parallel))
        self.limiter = limiter or RateLimiter()
        self.retry = retry or RetryPolicy()
        self.json_reasks = json_reasks
        self.max_error_rate = max_error_rate
        self.min_rows_for_error_rate = min_rows_for_error_rate
        self._usage = LLMUsage()
        self._lock = threading.Lock()
        self._answered_once = False

    @property
    def model_id(self) -> str:
        return self.backend.model_id

    def usage(self) -> LLMUsage:
        with self._lock:
            return self._usage.copy()

    def generate(
        self,
        prompts: Sequence[str],
        *,
        system: str | None = None,
        json_schema: dict[str, Any] | None = None,
        template: str | None = None,
        **sampling: Any,
    ) -> list[LLMResult]:
        unknown = sorted(set(sampling) - set(SAMPLING_PARAMETERS))
        if unknown:
            raise DataflowError(f"unknown sampling parameter(s) {unknown}", hint=f"known: {SAMPLING_PARAMETERS}")
        started = time.perf_counter()
        sampling = {k: v for k, v in sampling.items() if v is not None}
        requests = [Request(p, system, json_schema, sampling) for p in prompts]
        keys = [cache_key(self.model_id, r, template) for r in requests]
        hits = self.cache.get_many(keys) if self.cache is not None else {}
        results: dict[int, LLMResult] = {
            i: _answered(hits[key], json_schema, cached=True) for i, key in enumerate(keys) if key in hits
        }
        with self._lock:
            self._usage.errors.update(r.error for r in results.values() if r.error)  # cached invalid answers
        fresh = self._answer({i: _Pending(r) for i, r in enumerate(requests) if i not in results})
        results.update(fresh)
        if self.cache is not None:
            self.cache.put_many(
                {
                    keys[i]: Completion(r.text or "", r.prompt_tokens, r.completion_tokens)
                    for i, r in fresh.items()
                    if r.text is not None
                }
            )
        with self._lock:
            self._usage.cache_hits += len(hits)
            self._usage.busy_s += time.perf_counter() - started
        ordered = [results[i] for i in range(len(prompts))]
        self._check_error_rate(ordered)
        return ordered

    def _answer(self, pending: dict[int, _Pending]) -> dict[int, LLMResult]:
        """Call the backend for every pending request, re-asking invalid JSON answers up to ``json_reasks``
        times."""
        done: dict[int, LLMResult] = {}
        for round_number in range(self.json_reasks + 1):
            if not pending:
                break
            outcomes = self._complete_all({i: p.request for i, p in pending.items()})
            still_pending: dict[int, _Pending] = {}
            for i, (outcome, seconds) in outcomes.items():
                state = pending[i]
                state.latency_s += seconds
                if isinstance(outcome, CallError):
                    done[i] = _failure(outcome, state)
                    continue
                state.prompt_tokens += outcome.prompt_tokens
                state.completion_tokens += outcome.completion_tokens
                problem = _schema_problem(outcome.text, state.request.json_schema)
                if problem is not None and round_number < self.json_reasks:
                    state.request = state.request.reasked(outcome.text, problem)
                    still_pending[i] = state
                    with self._lock:
                        self._usage.reasks += 1
                else:
                    done[i] = _answered(outcome, state.request.json_schema, cached=False, state=state)
            pending = still_pending
        with self._lock:
            for result in done.values():
                self._usage.prompt_tokens += result.prompt_tokens
                self._usage.completion_tokens += result.completion_tokens
                if result.error:
                    self._usage.errors[result.error] += 1
        return done

    def _complete_all(self, requests: dict[int, Request]) -> dict[int, tuple[Completion | CallError, float]]:
        """Each request's outcome and the seconds it took (retries included)."""
        batch = getattr(self.backend, "complete_batch", None)
        if batch is not None:
            indices = list(requests)
            started = time.perf_counter()
            outcomes = batch([requests[i] for i in indices])
            share = (time.perf_counter() - started) / max(len(indices), 1)
            self._record_calls([share] * len(indices))
            for outcome in outcomes:
                if isinstance(outcome, CallError) and outcome.fatal:
                    raise LLMConfigurationError(f"{self.model_id}: {outcome.message}")
            return {i: (outcome, share) for i, outcome in zip(indices, outcomes, strict=True)}
        stop = threading.Event()  # set on a fatal error: no new attempt starts, backoff sleeps end at once
        with ThreadPoolExecutor(self.max_concurrency, thread_name_prefix="llm") as pool:
            futures = {i: pool.submit(self._complete_with_retries, r, stop) for i, r in requests.items()}
            try:
                return {i: future.result() for i, future in futures.items()}
            except LLMConfigurationError:
                stop.set()
                pool.shutdown(wait=True, cancel_futures=True)
                raise

    def _complete_with_retries(self, request: Request, stop: threading.Event) -> tuple[Completion | CallError, float]:
        attempt, first_started = 0, time.perf_counter()
        while True:
            if stop.is_set():
                return CallError("cancelled", "another call failed fatally"), time.perf_counter() - first_started
            self.limiter.acquire()
            started = time.perf_counter()
            try:
                completion = self.backend.complete(request)
            except CallError as error:
                self._record_calls([time.perf_counter() - started])
                if error.fatal and (error.kind != "unreachable" or not self._answered_once):
                    stop.set()
                    raise LLMConfigurationError(f"{self.model_id}: {error.message}") from None
                if (error.retryable or error.kind == "unreachable") and attempt < self.retry.max_retries:
                    stop.wait(self.retry.delay(attempt, error.retry_after))
                    attempt += 1
                    with self._lock:
                        self._usage.retries += 1
                    continue
                return error, time.perf_counter() - first_started
            self._record_calls([time.perf_counter() - started])
            self._answered_once = True
            self.limiter.spend_tokens(completion.prompt_tokens + completion.completion_tokens)
            return completion, time.perf_counter() - first_started

    def _record_calls(self, latencies_s: list[float]) -> None:
        with self._lock:
            self._usage.calls += len(latencies_s)
            self._usage.latencies_s.extend(latencies_s)

    def _check_error_rate(self, results: list[LLMResult]) -> None:
        failed = [r for r in results if not r.ok]
        if len(results) >= self.min_rows_for_error_rate and len(failed) / len(results) > self.max_error_rate:
            kinds = Counter(r.error for r in failed).most_common(3)
            raise LLMErrorRateError(
                f"{self.model_id}: {len(failed)} of {len(results)} calls failed "
                f"({', '.join(f'{k}: {n}' for k, n in kinds)}), above max_error_rate={self.max_error_rate}",
                hint=f"first error: {failed[0].error_message}",
            )


def _schema_problem(text: str, schema: dict[str, Any] | None) -> str | None:
    if schema is None:
        return None
    try:
        answer = json.loads(text)
    except json.JSONDecodeError as error:
        return f"not JSON ({error.msg} at position {error.pos})"
    problem = jsonschema.exceptions.best_match(_validator(json.dumps(schema, sort_keys=True)).iter_errors(answer))
    return problem.message if problem is not None else None


@lru_cache(maxsize=64)
def _validator(schema: str) -> jsonschema.protocols.Validator:
    """One checked, compiled validator per schema: ``jsonschema.validate`` would check the schema on every answer."""
    parsed = json.loads(schema)
    validator_class = jsonschema.validators.validator_for(parsed)
    validator_class.check_schema(parsed)
    return validator_class(parsed)


def _answered(
    completion: Completion, schema: dict[str, Any] | None, *, cached: bool, state: _Pending | None = None
) -> LLMResult:
    """An answer's result: its parsed JSON when it matches the schema, else an ``invalid_json`` error that keeps
    the text. Such an answer is cached like any other: with the same request a model gives it again, so calling
    again on the next run would only cost time."""
    problem = _schema_problem(completion.text, schema)
    return LLMResult(
        text=completion.text,
        parsed=json.loads(completion.text) if schema is not None and problem is None else None,
        error="invalid_json" if problem else None,
        error_message=f"the answer does not match the schema (re-asks included): {problem}" if problem else None,
        prompt_tokens=state.prompt_tokens if state else completion.prompt_tokens,
        completion_tokens=state.completion_tokens if state else completion.completion_tokens,
        cached=cached,
        latency_s=state.latency_s if state else 0.0,
    )


def _failure(error: CallError, state: _Pending) -> LLMResult:
    return LLMResult(
        text=None,
        error=error.kind,
        error_message=error.message,
        prompt_tokens=state.prompt_tokens,
        completion_tokens=state.completion_tokens,
        latency_s=state.latency_s,
    )
