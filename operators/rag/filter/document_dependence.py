from __future__ import annotations

from typing import Any, ClassVar

import polars as pl
from pydantic import Field

from operators.base import Filter, OpResult, Read, Rule, Write, apply_prepared_rules
from operators.columns import REJECT_DETAIL, REJECT_RULE, REJECT_SCORE
from operators.llm.prompt import PromptTemplate
from operators.llm.protocol import LLM
from operators.rag.answers import f1
from operators.rag.asking import ANSWER_PROMPT, answer_text, ask, failure
from operators.registry import register


@register("document_dependence")
class DocumentDependenceFilter(Filter):
    """Keep a question only if it needs its document: answered wrong without it and right with it.

    Answers are scored by SQuAD token F1 against the reference.

    Two calls per row, both kept on the row (``closed_book_answer``, ``open_book_answer``) with their F1.
    Rejections: ``answerable_without_document`` (closed-book F1 above ``max_closed_book_f1``: the model knew or
    guessed it, so the task teaches no retrieval) and ``unanswerable_with_document`` (open-book F1 below
    ``min_open_book_f1``: the question is wrong, ambiguous or its answer is not in the document); failed calls as
    ``llm_<error kind>``. DataFlow's atomic task generator makes the same two checks with an LLM recall judge.
    """

    engines: ClassVar[tuple[str, ...]] = ("llm",)
    row_local: ClassVar[bool] = False
    references = ("Liang et al. 2025, DataFlow, arXiv:2512.16676 (agentic RAG: golden-document check)",)
    key_docs = {"closed_key": "the model's answer without the document", "open_key": "its answer with it"}

    prompt: PromptTemplate = Field(ANSWER_PROMPT, description="Answer prompt over `question` and `context`")
    max_closed_book_f1: float = Field(0.5, ge=0, le=1, description="Highest closed-book F1 of a kept question")
    min_open_book_f1: float = Field(0.5, ge=0, le=1, description="Lowest open-book F1 of a kept question")
    max_tokens: int = Field(48, ge=1, description="Most tokens per answer")

    def rules(
        self,
        *,
        question_key: Read = "question",
        answer_key: Read = "answer",
        context_key: Read = "context",
        closed_key: Write = "closed_book_answer",
        open_key: Write = "open_book_answer",
    ) -> dict[str, Rule]:
        closed, opened = pl.col("closed_book_f1"), pl.col("open_book_f1")
        return {
            "answerable_without_document": Rule(score=closed, keep=closed <= self.max_closed_book_f1),
            "unanswerable_with_document": Rule(score=opened, keep=opened >= self.min_open_book_f1),
        }

    def run(self, *frames: pl.DataFrame, llm: LLM, **keys: str) -> OpResult:
        (df,) = frames
        k = self.bind_keys(keys)
        questions = df[k["question_key"]].to_list()
        closed = ask(llm, self.prompt, [{"question": q, "context": ""} for q in questions], max_tokens=self.max_tokens)
        opened = ask(
            llm,
            self.prompt,
            [{"question": q, "context": c} for q, c in zip(questions, df[k["context_key"]], strict=True)],
            max_tokens=self.max_tokens,
        )
        failures = [failure(a) or failure(b) for a, b in zip(closed, opened, strict=True)]
        closed_answers, open_answers = [answer_text(r) for r in closed], [answer_text(r) for r in opened]
        answered = df.with_columns(
            pl.Series(k["closed_key"], closed_answers, pl.String),
            pl.Series(k["open_key"], open_answers, pl.String),
            pl.Series("closed_book_f1", [f1(a, r) for a, r in zip(closed_answers, df[k["answer_key"]], strict=True)]),
            pl.Series("open_book_f1", [f1(a, r) for a, r in zip(open_answers, df[k["answer_key"]], strict=True)]),
        )
        failed = pl.Series([f is not None for f in failures])
        judged = apply_prepared_rules(answered.filter(~failed), answered.filter(~failed), self.rules(**k))
        calls = answered.filter(failed).with_columns(
            pl.Series(REJECT_RULE, [f[0] for f in failures if f], pl.String),
            pl.lit(None, pl.Float64).alias(REJECT_SCORE),
            pl.Series(REJECT_DETAIL, [f[1] for f in failures if f], pl.String),
        )
        return OpResult(
            kept=judged.kept,
            rejected=pl.concat([judged.rejected, calls], how="diagonal_relaxed"),
            scores=judged.scores,
        )

    def output_columns(self, available: list[str], keys: dict[str, Any]) -> list[str]:
        extra = [keys["closed_key"], keys["open_key"], "closed_book_f1", "open_book_f1"]
        return available + [c for c in extra if c not in available]
