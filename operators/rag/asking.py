"""The LLM calls the agentic RAG checks share: a batch of rendered prompts, and a model's attempt at questions
with or without their documents (the closed-book and open-book checks of DataFlow's agentic RAG pipeline)."""

from __future__ import annotations

from typing import Any

from operators.llm.prompt import PromptTemplate
from operators.llm.protocol import LLM, LLMResult

ANSWER_PROMPT = PromptTemplate(
    name="rag_answer",
    version="1",
    system="Answer with the short answer only: a name, number, date or short phrase. No explanation.",
    template="{% if context %}Documents:\n{{ context }}\n\n{% endif %}Question: {{ question }}\nShort answer:",
)
"""One prompt for both attempts: with ``context`` empty the model answers from memory (closed book)."""


def ask(
    llm: LLM,
    prompt: PromptTemplate,
    rows: list[dict[str, Any]],
    *,
    json_schema: dict[str, Any] | None = None,
    max_tokens: int = 64,
    seed: int | None = 0,
) -> list[LLMResult]:
    """One call per row, in order, at temperature 0."""
    if not rows:
        return []
    return llm.generate(
        [prompt.render(row) for row in rows],
        system=prompt.system,
        json_schema=json_schema,
        template=prompt.id,
        temperature=0.0,
        max_tokens=max_tokens,
        seed=seed,
    )


def answer_text(result: LLMResult) -> str | None:
    """The first line of a free-text answer; None for a failed call."""
    if not result.ok:
        return None
    return (result.text or "").strip().split("\n", 1)[0].strip()


def failure(result: LLMResult) -> tuple[str, str] | None:
    """(reason, detail) of a failed call, as the other LLM steps name it."""
    return None if result.ok else (f"llm_{result.error}", result.error_message or str(result.error))
