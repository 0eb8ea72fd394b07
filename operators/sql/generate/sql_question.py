from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
import polars as pl
from pydantic import Field

from operators.base import Category, OpResult, Write
from operators.embedder.protocol import Embedder
from operators.errors import DataflowError
from operators.llm.base import AnswerError, LLMOperator
from operators.llm.prompt import PromptTemplate
from operators.llm.protocol import LLM, LLMResult
from operators.registry import register

STYLES = ("formal", "colloquial", "imperative", "interrogative", "descriptive", "concise", "vague", "conversational")
"""Question styles, after OmniSQL's nine (its "metaphorical" style is left out: it rarely gives a usable question)."""

SQL_QUESTION_PROMPT = PromptTemplate(
    name="sql_question",
    version="1",
    system="You translate SQL queries into the questions a user would ask to get their results.",
    template=(
        "Database schema:\n{{ schema }}\n\nSQL query:\n{{ sql }}\n\n"
        "Write {{ candidates }} different natural-language questions that this query answers exactly, in these "
        "styles: {{ styles }}. A question must ask for everything the query returns and nothing more, mention "
        "every condition the query applies, and use the words of the data's domain rather than table or column "
        "names. If a question needs knowledge that is not obvious from the schema (a formula, a code's meaning), "
        'put it in "evidence", else leave "evidence" empty. Answer with JSON: {"questions": [{"question": '
        '"...", "evidence": "..."}, ...]}.'
    ),
)


@register("sql_question")
class SqlQuestionGenerator(LLMOperator):
    """Write the natural-language question each query answers: several candidates in different styles, and the
    most representative one chosen by embedding similarity.

    The model writes ``candidates`` questions (with BIRD-style evidence where needed) in different styles, as
    OmniSQL does. With ``pick="embedding"`` the question kept is the candidate closest, by cosine similarity of its
    embedding, to the mean of all candidates' embeddings: the one that says what most candidates agree on, not an
    outlier (DataFlow's question generation picks the same way); this needs the ``embedder`` engine. With
    ``pick="first"`` no embedder is used and the first candidate is kept. All candidates stay on the row.
    """

    category: ClassVar[Category] = Category.GENERATE
    engines: ClassVar[tuple[str, ...]] = ("llm", "embedder")
    output_dtypes: ClassVar[dict[str, pl.DataType]] = {"output_candidates_key": pl.List(pl.String())}
    key_docs: ClassVar[dict[str, str]] = {
        "output_question_key": "the chosen question",
        "output_evidence_key": "the knowledge the question needs beyond the schema (may be empty)",
        "output_candidates_key": "every candidate question the model wrote",
    }
    references = (
        "Li et al. 2025, OmniSQL, arXiv:2503.02240 (question styles)",
        "Liang et al. 2025, DataFlow (question generation with embedding selection), arXiv:2512.16676",
    )

    prompt: PromptTemplate = Field(
        SQL_QUESTION_PROMPT, description="Template over schema, sql, candidates and styles (given by the operator)"
    )
    candidates: int = Field(4, ge=1, le=len(STYLES), description="Candidate questions asked for per query")
    pick: Literal["embedding", "first"] = Field(
        "embedding", description="How the kept question is chosen: closest to the candidates' mean, or the first"
    )
    max_tokens: int = Field(768, ge=1, description="Most tokens to generate per answer")

    def needed_engines(self) -> tuple[str, ...]:
        # The embedder is needed only to pick by embedding: without it the step asks for the LLM alone.
        return self.engines if self.pick == "embedding" else ("llm",)

    def reads(self, keys: dict[str, str]) -> list[str]:
        return [c for c in super().reads(keys) if c not in ("candidates", "styles")]

    def build_prompt(self, row: dict[str, Any]) -> str:
        styles = ", ".join(STYLES[: self.candidates])
        return self.prompt.render({**row, "candidates": self.candidates, "styles": styles})

    def json_schema(self) -> dict[str, Any]:
        question = {
            "type": "object",
            "properties": {"question": {"type": "string", "minLength": 5}, "evidence": {"type": "string"}},
            "required": ["question"],
        }
        return {
            "type": "object",
            "properties": {"questions": {"type": "array", "items": question, "minItems": 1}},
            "required": ["questions"],
        }

    def parse(
        self,
        result: LLMResult,
        row: dict[str, Any],
        *,
        output_question_key: Write = "question",
        output_evidence_key: Write = "evidence",
        output_candidates_key: Write = "question_candidates",
    ) -> dict[str, Any]:
        answer = result.parsed.get("questions") if isinstance(result.parsed, dict) else None
        pairs = [
            (str(q.get("question", "")).strip(), str(q.get("evidence") or "").strip())
            for q in answer or []
            if isinstance(q, dict)
        ]
        pairs = [(question, evidence) for question, evidence in pairs if question]
        if not pairs:
            raise AnswerError("no question in the answer")
        return {
            output_question_key: pairs[0][0],
            output_evidence_key: pairs[0][1],
            output_candidates_key: [question for question, _ in pairs],
            "__evidence": [evidence for _, evidence in pairs],
        }

    def output_schema(self, keys: dict[str, str]) -> dict[str, pl.DataType]:
        return {**super().output_schema(keys), "__evidence": pl.List(pl.String())}

    def run(self, *frames: pl.DataFrame, llm: LLM, embedder: Embedder | None = None, **keys: str) -> OpResult:
        if self.pick == "embedding" and embedder is None:
            raise DataflowError(
                "sql_question with pick='embedding' needs the embedder engine",
                hint="pass embedder=..., or set pick='first' to keep the first candidate",
            )
        result = super().run(*frames, llm=llm, **keys)
        bound = self.bind_keys(keys)
        kept = result.kept
        if self.pick == "embedding" and kept.height:
            candidates = kept[bound["output_candidates_key"]].to_list()
            chosen = most_representative(embedder, candidates)
            evidence = kept["__evidence"].to_list()
            kept = kept.with_columns(
                pl.Series(bound["output_question_key"], [c[i] for c, i in zip(candidates, chosen, strict=True)]),
                pl.Series(bound["output_evidence_key"], [e[i] for e, i in zip(evidence, chosen, strict=True)]),
            )
        rejected = result.rejected.drop("__evidence", strict=False) if result.rejected is not None else None
        return OpResult(kept=kept.drop("__evidence"), rejected=rejected, scores=result.scores)


def most_representative(embedder: Embedder, groups: list[list[str]]) -> list[int]:
    """For each group of texts, the index of the one whose embedding is closest to the group's mean embedding."""
    texts = [text for group in groups for text in group]
    vectors = embedder.embed(texts) if texts else np.zeros((0, 1), dtype=np.float32)
    chosen, start = [], 0
    for group in groups:
        block = vectors[start : start + len(group)]
        start += len(group)
        centroid = block.mean(axis=0)
        chosen.append(int(np.argmax(block @ centroid)) if len(group) > 1 else 0)
    return chosen
