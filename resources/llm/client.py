"""The LLM client: implements the operators' ``LLM`` protocol on top of any backend.

``generate`` and ``score_tokens`` run the same way: one request per row (a prompt, or a text to score after its
context), and everything below applies to both. Per call: answers found in the cache are returned without a
call; the rest go to the backend (concurrently up to the cap, or in batches for a batch engine), retried with
exponential backoff and full jitter on retryable errors (honouring ``Retry-After``); answers that must match a
JSON schema are validated here whatever the backend enforced, and an invalid one is re-asked a bounded number of
times before it becomes that row's error. Every answer is written to the cache as soon as it is final, so a step
that stops or is killed keeps what it received and its re-run asks only for the rest (resumable at row
granularity).

A step stops early, instead of trying every row, when the outcome is already known; the error it raises carries
every row's result (answers, errors, and ``cancelled`` / ``not_attempted`` for rows it stopped before answering):

* a fatal error (missing or refused key, unknown model, nothing listening at the first call): at once;
* the error rate: as soon as more rows have failed than ``max_error_rate`` allows of all the call's rows (rows
  not finished yet count as successes, so the bound is certain to be exceeded);
* the circuit breaker: after ``circuit_breaker`` connection failures in a row (nothing listening, connections
  closed without a reply) with no reply in between, the server is taken for dead.

In every case no new attempt starts and backoff waits end at once; calls in flight are abandoned (a synchronous
HTTP call cannot be interrupted; the step does not wait for them, and an answer that still arrives is cached).

Retries are budgeted per call, after gRPC's retry throttling (grpc/proposal A6): a retry spends a token from
``RetryPolicy.budget``, each answer earns one back. A server failing now and then is retried as before; one that
fails every call gets one request per row once the budget is spent, so the error-rate bound is reached after about
``max_error_rate * rows`` requests instead of ``(1 + max_retries)`` times that. Rate limits (429) are the server's
flow control, not failures, and do not spend the budget.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import jsonschema

from operators import progress
from operators.errors import DataflowError
from operators.llm.protocol import LLMResult, Prompt, TokenScores
from resources.llm.backend import (
    CONNECTION_FAILURES,
    SAMPLING_PARAMETERS,
    Backend,
    CallError,
    Completion,
    InvalidPrompt,
    Request,
    ScoreRequest,
    conversation,
)
from resources.llm.cache import ResponseCache, cache_key, score_key
from resources.llm.errors import (
    CANCELLED,
    NOT_ATTEMPTED,
    LLMConfigurationError,
    LLMErrorRateError,
    LLMStepError,
    LLMUnavailableError,
)
from resources.llm.limits import RateLimiter


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 5
    base_delay_s: float = 1.0
    max_delay_s: float = 60.0
    budget: int = 10
    """Retries in hand per ``generate`` call; each answer earns one back, up to this many."""

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
    request: Request | ScoreRequest
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0


class _Step:
    """The shared state of one ``generate`` call: the results so far, why it stopped (if it did), the retry
    budget and the circuit breaker's count."""

    def __init__(self, total: int, label: str, budget: int) -> None:
        self.total = total
        self.results: dict[int, LLMResult] = {}
        self.started: set[int] = set()
        self.failed = 0
        self.stop = threading.Event()
        """Set when the step stops early: no attempt starts after it, backoff waits end."""
        self.settled = threading.Event()
        """Set when every row is final or the step stopped."""
        self.reason: BaseException | None = None
        """Why it stopped: an ``LLMStepError``, or an unexpected exception from a worker (raised as it is)."""
        self.tracker = progress.track(label, total)
        self.budget_cap = self.budget = budget
        self.connection_failures = 0
        self.lock = threading.Lock()

    def halt(self, reason: BaseException) -> None:
        """Stop the step for ``reason`` (the first reason wins)."""
        with self.lock:
            if self.reason is None:
                self.reason = reason
        self.stop.set()
        self.settled.set()

    def spend_retry(self, error: CallError) -> bool:
        """Whether ``error`` may be retried now (a rate limit always may; anything else spends the budget)."""
        if error.kind == "rate_limited":
            return True
        with self.lock:
            if self.budget < 1:
                return False
            self.budget -= 1
            return True

    def replied(self) -> None:
        """The server answered (with anything): the breaker's count starts again."""
        with self.lock:
            self.connection_failures = 0

    def answered(self) -> None:
        with self.lock:
            self.connection_failures = 0
            self.budget = min(self.budget_cap, self.budget + 1)

    def connection_failed(self) -> int:
        """Count a connection failure; returns how many in a row."""
        with self.lock:
            self.connection_failures += 1
            return self.connection_failures


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
        circuit_breaker: int = 5,
        batch_rows: int = 1024,
    ) -> None:
        """``min_rows_for_error_rate``: a call with fewer prompts never fails for its error rate (its failed rows
        are still recorded); ``circuit_breaker``: connection failures in a row that stop the step; ``batch_rows``:
        rows per call of a batch backend (a crash loses at most one batch's answers)."""
        self.backend = backend
        self.cache = cache
        self.max_concurrency = max(1, min(max_concurrency, backend.max_parallel))
        self.limiter = limiter or RateLimiter()
        self.retry = retry or RetryPolicy()
        self.json_reasks = json_reasks
        self.max_error_rate = max_error_rate
        self.min_rows_for_error_rate = min_rows_for_error_rate
        self.circuit_breaker = max(1, circuit_breaker)
        self.batch_rows = max(1, batch_rows)
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
        prompts: Sequence[Prompt],
        *,
        system: str | None = None,
        json_schema: dict[str, Any] | None = None,
        template: str | None = None,
        **sampling: Any,
    ) -> list[LLMResult]:
        """One result per prompt, in order; a prompt is a string or a list of chat messages."""
        unknown = sorted(set(sampling) - set(SAMPLING_PARAMETERS))
        if unknown:
            raise DataflowError(f"unknown sampling parameter(s) {unknown}", hint=f"known: {SAMPLING_PARAMETERS}")
        sampling = {k: v for k, v in sampling.items() if v is not None}
        requests: dict[int, Request] = {}
        known: dict[int, LLMResult] = {}  # prompts that cannot be sent
        for i, prompt in enumerate(prompts):
            try:
                requests[i] = Request(conversation(prompt), system, json_schema, sampling)
            except InvalidPrompt as error:
                known[i] = LLMResult(text=None, error="invalid_prompt", error_message=f"prompt {i}: {error}")
        keys = {i: cache_key(self.model_id, r, template) for i, r in requests.items()}
        return self._call(len(prompts), requests, known, keys, json_schema)

    def score_tokens(self, texts: Sequence[str], *, contexts: Sequence[str | None] | None = None) -> list[TokenScores]:
        """The log-probability of each token of each text after its context (see ``LLM.score_tokens``), cached,
        retried and limited as ``generate``'s calls are; a row that fails has ``error`` set. An empty text has no
        token and costs no call. A step stopped early raises as ``generate`` does (its ``results`` are
        ``LLMResult``s with ``logprobs``)."""
        if contexts is not None and len(contexts) != len(texts):
            raise DataflowError(f"score_tokens: {len(contexts)} contexts for {len(texts)} texts")
        requests: dict[int, ScoreRequest] = {}
        known: dict[int, LLMResult] = {}
        for i, text in enumerate(texts):
            context = contexts[i] if contexts is not None else None
            if not isinstance(text, str) or not (context is None or isinstance(context, str)):
                problem = f"text {i}: texts and contexts must be strings, not {text!r:.60} after {context!r:.60}"
                known[i] = LLMResult(text=None, error="invalid_text", error_message=problem)
            elif text:
                requests[i] = ScoreRequest(text, context or None)
            else:
                known[i] = LLMResult(text="", logprobs=())
        keys = {i: score_key(self.model_id, r) for i, r in requests.items()}
        return [_token_scores(result) for result in self._call(len(texts), requests, known, keys, None)]

    def _call(
        self,
        total: int,
        requests: Mapping[int, Request | ScoreRequest],
        known: dict[int, LLMResult],
        keys: dict[int, str],
        json_schema: dict[str, Any] | None,
    ) -> list[LLMResult]:
        """Every row's result: ``known`` ones as given, cached answers without a call, the rest from the backend."""
        started = time.perf_counter()
        step = _Step(total, f"llm {self.model_id}", self.retry.budget)
        hits = self.cache.get_many(list(keys.values())) if self.cache is not None else {}
        cached = {i: _answered(hits[key], json_schema, cached=True) for i, key in keys.items() if key in hits}
        with self._lock:
            self._usage.cache_hits += len(cached)
        self._finish(step, {**known, **cached})
        pending = {i: _Pending(request) for i, request in requests.items() if keys[i] not in hits}
        try:
            if pending and not step.stop.is_set():
                run = self._run_batches if hasattr(self.backend, "complete_batch") else self._run_concurrently
                run(step, pending, keys)
        finally:
            with self._lock:
                self._usage.busy_s += time.perf_counter() - started
        if step.reason is not None:
            raise self._stopped(step) from None
        return [step.results[i] for i in range(total)]

    # --- running the calls ---

    def _run_concurrently(self, step: _Step, pending: dict[int, _Pending], keys: dict[int, str]) -> None:
        """Up to ``max_concurrency`` rows in flight, each on its own until final; returns when every row is
        final or the step stopped, without waiting for calls still in flight then.

        Hand-written workers rather than ``ThreadPoolExecutor``: the executor's threads are joined when the
        interpreter exits, so an abandoned call would hold a failed process open until its timeout; these are
        daemon threads."""
        todo = deque(sorted(pending))

        def work() -> None:
            try:
                while not step.stop.is_set():
                    try:
                        i = todo.popleft()
                    except IndexError:
                        return
                    with step.lock:
                        step.started.add(i)
                    result = self._answer_row(step, pending[i])
                    if result is not None:
                        self._finish(step, {i: result}, keys)
            except BaseException as error:  # a bug or an unexpected exception: the caller re-raises it
                step.halt(error)

        workers = [
            threading.Thread(target=work, name=f"llm-{n}", daemon=True)
            for n in range(min(self.max_concurrency, len(pending)))
        ]
        for worker in workers:
            worker.start()
        try:
            step.settled.wait()
        except BaseException:  # interrupted (Ctrl-C, a run terminated): no new attempt either
            step.stop.set()
            raise
        if not step.stop.is_set():
            for worker in workers:
                worker.join()

    def _answer_row(self, step: _Step, state: _Pending) -> LLMResult | None:
        """A row's final result, re-asking invalid JSON answers; None when the step stopped first."""
        round_number = 0
        while True:
            outcome, seconds = self._complete_with_retries(step, state.request)
            state.latency_s += seconds
            if outcome is None:
                return None
            result = self._settle(state, outcome, round_number)  # None only while re-asks are left
            if result is not None:
                return result
            round_number += 1

    def _send(self, request: Request | ScoreRequest) -> Completion:
        if isinstance(request, ScoreRequest):
            return self.backend.score(request)
        return self.backend.complete(request)

    def _complete_with_retries(
        self, step: _Step, request: Request | ScoreRequest
    ) -> tuple[Completion | CallError | None, float]:
        """The outcome of one request (None when the step stopped first) and the seconds it took."""
        attempt, first_started = 0, time.perf_counter()
        while True:
            if not step.stop.is_set():
                self.limiter.acquire()
            if step.stop.is_set():
                return None, time.perf_counter() - first_started
            started = time.perf_counter()
            try:
                completion = self._send(request)
            except CallError as error:
                self._record_calls([time.perf_counter() - started])
                if not self._note_failure(step, error):
                    return None, time.perf_counter() - first_started
                retryable = error.retryable or error.kind == "unreachable"
                if retryable and attempt < self.retry.max_retries and step.spend_retry(error):
                    step.stop.wait(self.retry.delay(attempt, error.retry_after))
                    attempt += 1
                    with self._lock:
                        self._usage.retries += 1
                    continue
                return error, time.perf_counter() - first_started
            self._record_calls([time.perf_counter() - started])
            step.answered()
            self._answered_once = True
            self.limiter.spend_tokens(completion.prompt_tokens + completion.completion_tokens)
            return completion, time.perf_counter() - first_started

    def _note_failure(self, step: _Step, error: CallError) -> bool:
        """Feed a failed call to the fatal check and the breaker; False when the step must stop."""
        if error.fatal and (error.kind != "unreachable" or not self._answered_once):
            step.halt(LLMConfigurationError(f"{self.model_id}: {error.message}", hint=error.hint))
            return False
        if error.kind not in CONNECTION_FAILURES:
            step.replied()
        elif step.connection_failed() >= self.circuit_breaker:
            step.halt(
                LLMUnavailableError(
                    f"{self.model_id}: the server stopped answering: {self.circuit_breaker} connection failures in "
                    f"a row (last: {error.message})",
                    hint=self._resume_hint("once the server is back"),
                )
            )
            return False
        return True

    def _run_batches(self, step: _Step, pending: dict[int, _Pending], keys: dict[int, str]) -> None:
        """A batch backend gets ``batch_rows`` rows per call; invalid JSON answers are re-asked in the next
        call of their batch."""
        order = sorted(pending)
        for start in range(0, len(order), self.batch_rows):
            batch = {i: pending[i] for i in order[start : start + self.batch_rows]}
            for round_number in range(self.json_reasks + 1):
                if step.stop.is_set():
                    return
                if not batch:
                    break
                with step.lock:
                    step.started.update(batch)
                outcomes = self._complete_batch(step, {i: state.request for i, state in batch.items()})
                still_pending: dict[int, _Pending] = {}
                for i, (outcome, seconds) in outcomes.items():
                    batch[i].latency_s += seconds
                    result = self._settle(batch[i], outcome, round_number)
                    if result is None:
                        still_pending[i] = batch[i]
                    else:
                        self._finish(step, {i: result}, keys)
                batch = still_pending

    def _complete_batch(
        self, step: _Step, requests: dict[int, Request | ScoreRequest]
    ) -> dict[int, tuple[Completion | CallError, float]]:
        """One batch call; a call's requests are all of one kind (a ``generate`` or a ``score_tokens`` call)."""
        indices = list(requests)
        batch = [requests[i] for i in indices]
        started = time.perf_counter()
        if isinstance(batch[0], ScoreRequest):
            outcomes = self.backend.score_batch(batch)  # type: ignore[attr-defined]
        else:
            outcomes = self.backend.complete_batch(batch)  # type: ignore[attr-defined]
        share = (time.perf_counter() - started) / max(len(indices), 1)
        self._record_calls([share] * len(indices))
        for outcome in outcomes:
            if isinstance(outcome, CallError) and outcome.fatal:
                step.halt(LLMConfigurationError(f"{self.model_id}: {outcome.message}", hint=outcome.hint))
                return {}
        return {i: (outcome, share) for i, outcome in zip(indices, outcomes, strict=True)}

    # --- results ---

    def _settle(self, state: _Pending, outcome: Completion | CallError, round_number: int) -> LLMResult | None:
        """The row's result, or None after scheduling a re-ask of an answer that does not match the schema."""
        if isinstance(outcome, CallError):
            return _failure(outcome, state)
        state.prompt_tokens += outcome.prompt_tokens
        state.completion_tokens += outcome.completion_tokens
        request = state.request
        schema = request.json_schema if isinstance(request, Request) else None
        problem = _schema_problem(outcome.text, schema)
        if problem is not None and round_number < self.json_reasks and isinstance(request, Request):
            state.request = request.reasked(outcome.text, problem)
            with self._lock:
                self._usage.reasks += 1
            return None
        return _answered(outcome, schema, cached=False, state=state)

    def _finish(self, step: _Step, results: dict[int, LLMResult], keys: dict[int, str] | None = None) -> None:
        """Make rows final: fresh answers into the cache at once (with ``keys``), counts, progress, and the
        error-rate check. A call abandoned when the step stopped may still come back: its answer is cached, and
        kept unless the step's error was already raised."""
        for i, result in results.items():
            if keys is not None and result.text is not None and self.cache is not None:
                self.cache.put(
                    keys[i], Completion(result.text, result.prompt_tokens, result.completion_tokens, result.logprobs)
                )
        failed_now = sum(not result.ok for result in results.values())
        with self._lock:
            for result in results.values():
                if not result.cached:
                    self._usage.prompt_tokens += result.prompt_tokens
                    self._usage.completion_tokens += result.completion_tokens
                if result.error:
                    self._usage.errors[result.error] += 1
        with step.lock:
            step.results.update(results)
            step.failed += failed_now
            failed, finished = step.failed, len(step.results)
        if results:
            step.tracker.advance(len(results), errors=failed_now)
        if step.total >= self.min_rows_for_error_rate and failed > self.max_error_rate * step.total:
            step.halt(self._error_rate_error(step, failed))
        elif finished == step.total:
            step.settled.set()

    def _error_rate_error(self, step: _Step, failed: int) -> LLMErrorRateError:
        with step.lock:
            kinds = Counter(r.error for r in step.results.values() if not r.ok).most_common(3)
            first = next(r.error_message for r in step.results.values() if not r.ok)
        return LLMErrorRateError(
            f"{self.model_id}: {failed} of {step.total} calls failed ({', '.join(f'{k}: {n}' for k, n in kinds)}), "
            f"above max_error_rate={self.max_error_rate}",
            hint=f"first error: {first}; {self._resume_hint('when the cause is fixed')}",
        )

    def _stopped(self, step: _Step) -> BaseException:
        """The error that stopped the step, with every row's result (``cancelled`` or ``not_attempted`` for the
        rows it stopped before answering) and their counts; an answer that comes back later is only cached."""
        reason = step.reason
        if not isinstance(reason, LLMStepError):
            return reason  # type: ignore[return-value]  # not ours (a bug, an unexpected exception): as it is
        with step.lock:
            results, started = dict(step.results), set(step.started)
        message = str(reason.args[0])
        for i in set(range(step.total)) - set(results):
            kind = CANCELLED if i in started else NOT_ATTEMPTED
            results[i] = LLMResult(text=None, error=kind, error_message=f"the step stopped first: {message}")
        ordered = [results[i] for i in range(step.total)]
        with self._lock:
            self._usage.errors.update(r.error for r in ordered if r.error in (CANCELLED, NOT_ATTEMPTED))
        counts = Counter("answered" if r.ok else r.error for r in ordered)
        rows = ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items()))
        return type(reason)(f"{message}; rows: {rows}", hint=reason.hint, results=ordered)

    def _resume_hint(self, when: str) -> str:
        if self.cache is None:
            return f"re-run the step {when}; with the answer cache enabled a re-run would ask only unanswered rows"
        return f"re-run the step {when}: answered rows come from the cache, only the others are asked"

    def _record_calls(self, latencies_s: list[float]) -> None:
        with self._lock:
            self._usage.calls += len(latencies_s)
            self._usage.latencies_s.extend(latencies_s)


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
        logprobs=completion.logprobs,
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


def _token_scores(result: LLMResult) -> TokenScores:
    if not result.ok:
        return TokenScores(error=result.error, error_message=result.error_message)
    return TokenScores(logprobs=list(result.logprobs or ()), cached=result.cached)
