from __future__ import annotations

from typing import Any, ClassVar

import polars as pl
from pydantic import Field

from operators.base import Category, OpResult, Read, Rule, Write, apply_rules
from operators.knowledge.chunking import sentences
from operators.llm.base import AnswerError, LLMOperator
from operators.llm.prompt import PromptTemplate
from operators.llm.protocol import LLMResult
from operators.rag.answers import f1
from operators.registry import register

JUDGE_PROMPT = PromptTemplate(
    name="support_judge",
    version="1",
    system="You check answers against reference text. Judge only from the passage. Answer with JSON only.",
    template=(
        "Passage:\n{{ context }}\n\nQuestion: {{ question }}\nAnswer: {{ answer }}\n\n"
        "Is the answer correct and fully supported by the passage? Quote the sentence of the passage that supports "
        'it. Answer as {"supported": true or false, "evidence": "<quoted sentence, or empty>"}.'
    ),
)


@register("support_judge")
class SupportJudgeFilter(LLMOperator):
    """Keep a QA pair only if an LLM judge finds its answer supported by its context and quotes the evidence.

    Rejections: ``answer_not_supported`` (the judge says no) and ``judge_evidence_not_in_context`` (the judge says
    yes but its quote is not in the context: a judge that invents evidence is not trusted). The quote is compared
    with each context sentence by SQuAD token F1 (at least ``min_evidence_f1``), so small copying slips pass.
    """

    category: ClassVar[Category] = Category.FILTER
    key_docs = {"verdict_key": "the judge's verdict", "evidence_key": "the sentence it quoted"}
    output_dtypes: ClassVar[dict[str, pl.DataType]] = {"verdict_key": pl.Boolean(), "evidence_key": pl.String()}

    prompt: PromptTemplate = Field(JUDGE_PROMPT, description="Reads `context`, `question` and `answer`")
    min_evidence_f1: float = Field(0.8, ge=0, le=1, description="Least token F1 between the quote and a sentence")

    def json_schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {"supported": {"type": "boolean"}, "evidence": {"type": "string"}},
            "required": ["supported", "evidence"],
        }

    def parse(
        self,
        result: LLMResult,
        row: dict[str, Any],
        *,
        context_key: Read = "context",
        verdict_key: Write = "supported",
        evidence_key: Write = "support_evidence",
    ) -> dict[str, Any]:
        answer = result.parsed
        if not isinstance(answer, dict) or not isinstance(answer.get("supported"), bool):
            raise AnswerError("no boolean 'supported' in the answer")
        return {verdict_key: answer["supported"], evidence_key: str(answer.get("evidence") or "")}

    def decide(self, answered: pl.DataFrame, keys: dict[str, str]) -> OpResult:
        found = []
        for evidence, context in zip(answered[keys["evidence_key"]], answered[keys["context_key"]], strict=True):
            context = context or ""
            found.append(max((f1(evidence, context[s:e]) for s, e in sentences(context)), default=0.0))
        judged = answered.with_columns(pl.Series("__evidence_f1", found, pl.Float64))
        verdict, quoted = pl.col(keys["verdict_key"]), pl.col("__evidence_f1")
        rules = {
            "answer_not_supported": Rule(score=verdict.cast(pl.Float64).alias("judge_supported"), keep=verdict),
            "judge_evidence_not_in_context": Rule(
                score=quoted.alias("evidence_f1"), keep=quoted >= self.min_evidence_f1
            ),
        }
        result = apply_rules(judged, rules)
        return OpResult(
            kept=result.kept.drop("__evidence_f1"), rejected=result.rejected.drop("__evidence_f1"), scores=result.scores
        )
