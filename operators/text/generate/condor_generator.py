from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from operators.general.generate.prompted_synthesizer import PromptedSynthesizer
from operators.llm.base import AnswerError
from operators.llm.prompt import PromptTemplate
from operators.llm.protocol import LLMResult
from operators.registry import register

DIFFICULTIES = ("easy", "medium", "hard")

CONDOR_QUESTIONS = PromptTemplate(
    name="condor_questions",
    version="1",
    system="You write questions that users ask AI assistants. Answer with JSON only.",
    template=(
        "Knowledge tag: {{ topic }}\n\n"
        "Write three questions a real user might ask about this tag, one at each difficulty: easy (a basic fact or "
        "definition), medium (an explanation or comparison that needs some understanding), hard (a multi-step "
        "problem, analysis or judgement that needs expertise). Each question must stand on its own. Answer as "
        '{"items": [{"difficulty": "easy", "instruction": <question>}, {"difficulty": "medium", '
        '"instruction": <question>}, {"difficulty": "hard", "instruction": <question>}]}.'
    ),
)

CONDOR_ANSWER = PromptTemplate(
    name="condor_answer",
    version="1",
    system="You are a knowledgeable, careful assistant.",
    template="{{ instruction }}\n\nAnswer helpfully and correctly; explain your reasoning where the question needs it.",
)
"""The answer step of Condor's synthesis, for ``prompted_generator``; the critique and refinement that follow are
``dataflow_assets.text.prompts.CONDOR_CRITIQUE`` and ``CONDOR_REFINE``."""

_QUESTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "difficulty": {"type": "string", "enum": list(DIFFICULTIES)},
        "instruction": {"type": "string", "minLength": 8},
    },
    "required": ["difficulty", "instruction"],
}


@register("condor_generator")
class CondorGenerator(PromptedSynthesizer):
    """Synthesize questions from knowledge tags, from scratch: for every tag one easy, one medium and one hard
    question (Condor's knowledge-driven synthesis).

    Cao et al. (2025) build a World Knowledge Tree of domains, topics and tags and ask an LLM, per tag, for
    questions at several difficulties; answers are then written, critiqued and refined (Condor Refine). This
    operator is the first step: a pipeline step with no input, one prompt per tag in ``topics``, each answer
    exactly the three difficulties (an answer missing one or repeating one is rejected as
    ``llm_unparseable_answer``, with the tag's prompt kept). Each question is a new row with ``topic`` (the tag),
    ``difficulty`` and ``instruction`` (the question, named as the SFT steps after it read it). The pipeline
    ``text_condor`` continues with answers (``CONDOR_ANSWER``) and the critique/refine pair.
    """

    references: ClassVar[tuple[str, ...]] = (
        "Cao et al., Condor: Enhance LLM Alignment with Knowledge-Driven Data Synthesis and Refinement, ACL 2025 "
        "(arXiv:2501.12273)",
    )

    prompt: PromptTemplate = Field(CONDOR_QUESTIONS, description="Template over `topic` (the knowledge tag)")
    item_schema: dict[str, Any] = Field(_QUESTION_SCHEMA, description="One question: difficulty and instruction")
    count: int = Field(3, ge=3, le=3, description="Questions per tag: one per difficulty")
    max_tokens: int = Field(512, ge=1, description="Most tokens to generate per answer")

    def parse_items(self, result: LLMResult) -> list[dict[str, Any]]:
        items = super().parse_items(result)
        found = sorted(str(item.get("difficulty")) for item in items)
        if found != sorted(DIFFICULTIES):
            raise AnswerError(f"expected one question per difficulty {list(DIFFICULTIES)}, got {found}")
        if any(not str(item.get("instruction") or "").strip() for item in items):
            raise AnswerError("an empty question")
        return sorted(items, key=lambda item: DIFFICULTIES.index(item["difficulty"]))
