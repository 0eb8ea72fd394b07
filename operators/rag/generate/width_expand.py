from __future__ import annotations

from typing import Any, ClassVar

import polars as pl
from pydantic import Field

from operators.base import Generator, OpResult, Read, assign_generated_ids
from operators.columns import PARENT_IDS, PARTITION, REJECT_DETAIL, REJECT_RULE, REJECT_SCORE, ROW_ID, SOURCE_FILE
from operators.llm.prompt import PromptTemplate
from operators.llm.protocol import LLM
from operators.rag.answers import contains, f1
from operators.rag.asking import ask, failure
from operators.registry import register

WIDTH_PROMPT = PromptTemplate(
    name="width_expand",
    version="1",
    system="You combine search questions. Answer with JSON only.",
    template=(
        "Question 1: {{ question_1 }}\nAnswer 1: {{ answer_1 }}\n\n"
        "Question 2: {{ question_2 }}\nAnswer 2: {{ answer_2 }}\n\n"
        "Write one natural question that asks for both answers at once, without giving either answer away. "
        'Then list the answers it asks for, in order. Answer as {"question": ..., "answers": [..., ...]}.'
    ),
)
WIDTH_SCHEMA = {
    "type": "object",
    "properties": {
        "question": {"type": "string", "minLength": 5},
        "answers": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2},
    },
    "required": ["question", "answers"],
}


@register("width_expand")
class WidthExpandGenerator(Generator):
    """Merge pairs of QA rows of one document into a compound question asking for both answers, checked.

    Rows are paired in order within each ``_source_file`` (1st with 2nd, 3rd with 4th...). The LLM writes the
    compound question and restates the answers it asks for; the pair is kept only if those match the originals
    (token F1 of at least ``min_answer_f1`` each: ``width_inconsistent``) and the question gives neither away
    (``answer_leaked``). A kept row names both QA rows in ``_parent_ids``, the union of their chunks in
    ``chunk_ids``, and answers ``"<answer 1>; <answer 2>"`` (both also in ``answers``). DataFlow's width generator
    loses which rows were merged when the model's index is off; here the pairing is fixed before the call.
    """

    engines: ClassVar[tuple[str, ...]] = ("llm",)
    key_method: ClassVar[str] = "merge"
    references = ("Liang et al. 2025, DataFlow, arXiv:2512.16676 (agentic RAG width expansion)",)
    key_docs = {"question_key": "the question (compound in the output)", "answer_key": "the answer(s)"}

    prompt: PromptTemplate = Field(WIDTH_PROMPT, description="Merge prompt over question_1/2 and answer_1/2")
    min_answer_f1: float = Field(0.8, ge=0, le=1, description="Least F1 between a restated and an original answer")
    max_tokens: int = Field(256, ge=1, description="Most tokens per answer")

    def output_columns(self, available: list[str], keys: dict[str, str]) -> list[str]:
        columns = [ROW_ID, PARENT_IDS, keys["question_key"], keys["answer_key"], "answers", keys["support_key"]]
        return columns + [c for c in (keys["context_key"], SOURCE_FILE, PARTITION) if c in available]

    def pairs(self, df: pl.DataFrame) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        groups = df.partition_by(SOURCE_FILE, maintain_order=True) if SOURCE_FILE in df.columns else [df]
        found = []
        for group in groups:
            rows = group.to_dicts()
            found += [(rows[i], rows[i + 1]) for i in range(0, len(rows) - 1, 2)]
        return found

    def merge(
        self,
        df: pl.DataFrame,
        llm: LLM,
        *,
        question_key: Read = "question",
        answer_key: Read = "answer",
        support_key: Read = "chunk_ids",
        context_key: Read = "context",
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        pairs = self.pairs(df)
        asked = ask(
            llm,
            self.prompt,
            [
                {
                    "question_1": a[question_key],
                    "answer_1": a[answer_key],
                    "question_2": b[question_key],
                    "answer_2": b[answer_key],
                }
                for a, b in pairs
            ],
            json_schema=WIDTH_SCHEMA,
            max_tokens=self.max_tokens,
        )
        kept, rejected = [], []
        for (a, b), result in zip(pairs, asked, strict=True):
            originals = [a[answer_key], b[answer_key]]
            new = result.parsed if result.ok and isinstance(result.parsed, dict) else {}
            answers = [str(x) for x in new.get("answers") or []]
            row = {
                PARENT_IDS: [a[ROW_ID], b[ROW_ID]],
                question_key: str(new.get("question") or ""),
                answer_key: "; ".join(originals),
                "answers": originals,
                support_key: list(dict.fromkeys([*(a[support_key] or []), *(b[support_key] or [])])),
                context_key: "\n\n".join(dict.fromkeys([a.get(context_key) or "", b.get(context_key) or ""])),
                SOURCE_FILE: a.get(SOURCE_FILE),
                PARTITION: a.get(PARTITION),
            }
            reason = failure(result)
            if reason is None and (len(answers) != 2 or not new.get("question")):
                reason = ("llm_unparseable_answer", f"no question and two answers in {result.text!r:.200}")
            if reason is None and min(f1(x, y) for x, y in zip(answers, originals, strict=True)) < self.min_answer_f1:
                reason = ("width_inconsistent", f"restated answers {answers} do not match {originals}")
            if reason is None and any(contains(row[question_key], x) for x in originals):
                reason = ("answer_leaked", "the compound question contains an answer")
            if reason:
                rejected.append({**row, REJECT_RULE: reason[0], REJECT_SCORE: None, REJECT_DETAIL: reason[1]})
            else:
                kept.append(row)
        return kept, rejected

    def run(self, *frames: pl.DataFrame, llm: LLM, **keys: str) -> OpResult:
        bound = self.bind_keys(keys)
        kept, rejected = self.merge(frames[0], llm, **bound)
        schema = {
            PARENT_IDS: pl.List(pl.String),
            bound["question_key"]: pl.String,
            bound["answer_key"]: pl.String,
            "answers": pl.List(pl.String),
            bound["support_key"]: pl.List(pl.String),
            bound["context_key"]: pl.String,
            SOURCE_FILE: pl.String,
            PARTITION: pl.String,
        }
        reasons = {REJECT_RULE: pl.String, REJECT_SCORE: pl.Float64, REJECT_DETAIL: pl.String}
        salt = self.fingerprint(bound)
        return OpResult(
            kept=assign_generated_ids(pl.DataFrame(kept, schema=schema, orient="row"), salt=salt),
            rejected=assign_generated_ids(
                pl.DataFrame(rejected, schema={**schema, **reasons}, orient="row"), salt=salt
            ),
        )
