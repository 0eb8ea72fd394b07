"""Why an LLM step stopped before every row was answered.

Each error carries ``results``: one ``LLMResult`` per prompt of the call, in order, so nothing is silently lost.
Rows that got an answer have it (it is in the cache too, so a re-run asks only for the rest); rows that failed
have their error; rows the step stopped before answering have ``cancelled`` (it was in flight or waiting to retry)
or ``not_attempted`` (never sent).
"""

from __future__ import annotations

from collections.abc import Sequence

from operators.errors import DataflowError
from operators.llm.protocol import LLMResult

CANCELLED = "cancelled"
NOT_ATTEMPTED = "not_attempted"


class LLMStepError(DataflowError):
    """An LLM call stopped early; ``results`` holds every row's outcome so far."""

    def __init__(self, message: str, *, hint: str | None = None, results: Sequence[LLMResult] = ()) -> None:
        super().__init__(message, hint=hint)
        self.results = list(results)


class LLMConfigurationError(LLMStepError):
    """The backend is misconfigured (missing or refused key, unknown model, nothing listening): no row can
    succeed."""


class LLMErrorRateError(LLMStepError):
    """So many rows failed that the step's error rate is certain to exceed ``max_error_rate``."""


class LLMUnavailableError(LLMStepError):
    """The server stopped answering in the middle of the step (the circuit breaker opened)."""
