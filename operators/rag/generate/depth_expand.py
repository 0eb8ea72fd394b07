from __future__ import annotations

from typing import Any, ClassVar

import polars as pl
from pydantic import Field

from operators.base import Generator, OpResult, Read, assign_generated_ids
from operators.columns import PARENT_IDS, PARTITION, REJECT_DETAIL, REJECT_RULE, REJECT_SCORE, ROW_ID
from operators.llm.prompt import PromptTemplate
from operators.llm.protocol import LLM
from operators.rag.answers import contains, f1
from operators.rag.asking import ANSWER_PROMPT, answer_text, ask, failure
from operators.registry import register

DEPTH_PROMPT = PromptTemplate(
    name="depth_expand",
    version="1",
    system="You make search questions harder by one reasoning step. Answer with JSON only.",
    template=(
        "Question: {{ question }}\nAnswer: {{ answer }}\nThe question names: {{ identifier }}\n\n"
        "Another document says:\n{{ passage }}\n\n"
        "Rewrite the question so that it no longer names {{ identifier }} but describes it by a fact from the other "
        "document, so that a reader must first find that document to know what is meant. The answer must stay "
        "exactly the same. Also give the main entity of the other document, which the new question now names.\n"
        'Answer as {"question": ..., "new_identifier": ...}.'
    ),
)
DEPTH_SCHEMA = {
    "type": "object",
    "properties": {"question": {"type": "string", "minLength": 5}, "new_identifier": {"type": "string"}},
    "required": ["question", "new_identifier"],
}


@register("depth_expand")
class DepthExpandGenerator(Generator):
    """Deepen questions over ``rounds`` rounds, one checked hop per round through a chunk that links the entity.

    Each round replaces the entity a question names by a description taken from another chunk that mentions it,
    so answering needs one more hop.

    Takes the questions and the chunk table (second input). A round looks for a chunk, not yet used by the
    question, that mentions its identifier; the LLM rewrites the question through that chunk's fact. The hop is
    kept only if the new question names neither the identifier (``identifier_leaked``) nor the answer
    (``answer_leaked``) and the model cannot answer it without documents (``answerable_without_documents``); a
    question with no linking chunk stops (``no_linking_chunk``). A question is output at the depth it reached
    (``depth``, with the question of every hop in ``hop_questions`` and the reason it stopped in
    ``depth_stopped``); one that fails its first hop is a rejected row with that reason. DataFlow's depth generator
    invents the linking fact from the model's memory; here it comes from the documents, so each hop is
    retrievable, and its ``chunk_ids`` grow by the chunk used.
    """

    engines: ClassVar[tuple[str, ...]] = ("llm",)
    inputs: ClassVar[int | None] = 2
    key_method: ClassVar[str] = "expand"
    references = ("Liang et al. 2025, DataFlow, arXiv:2512.16676 (agentic RAG depth expansion)",)
    key_docs = {"question_key": "the question (rewritten one hop deeper per round)", "chunk_key": "the chunk text"}

    prompt: PromptTemplate = Field(
        DEPTH_PROMPT, description="Rewrite prompt over question, answer, identifier, passage"
    )
    answer_prompt: PromptTemplate = Field(ANSWER_PROMPT, description="Closed-book check prompt")
    rounds: int = Field(2, ge=1, le=5, description="Hops to add at most")
    max_closed_book_f1: float = Field(0.5, ge=0, le=1, description="Highest closed-book F1 of a kept hop")
    max_tokens: int = Field(256, ge=1, description="Most tokens per rewrite")

    def output_columns(self, available: list[str], keys: dict[str, str]) -> list[str]:
        """The columns a deepened question is sure to have; the question rows' other columns ride along, but the
        union of both inputs' columns (what the tracer offers) would promise the chunk table's too."""
        own = [keys[k] for k in ("question_key", "answer_key", "identifier_key", "support_key")]
        partition = [PARTITION] if PARTITION in available else []
        return [ROW_ID, PARENT_IDS, *partition, *own, "depth", "hop_questions", "depth_stopped"]

    def expand(
        self,
        questions: pl.DataFrame,
        chunks: pl.DataFrame,
        llm: LLM,
        *,
        question_key: Read = "question",
        answer_key: Read = "answer",
        identifier_key: Read = "identifier",
        support_key: Read = "chunk_ids",
        chunk_key: Read = "chunk",
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        texts = dict(zip(chunks[ROW_ID], chunks[chunk_key], strict=True))
        states = [
            {**row, "depth": 0, "hop_questions": [], "depth_stopped": None, PARENT_IDS: [row[ROW_ID]]}
            for row in questions.iter_rows(named=True)
        ]
        for _ in range(self.rounds):
            live = [s for s in states if s["depth_stopped"] is None]
            links = [self._link(s, texts, identifier_key, support_key) for s in live]
            asking = [(s, c) for s, c in zip(live, links, strict=True) if c is not None]
            for s, c in zip(live, links, strict=True):
                if c is None:
                    s["depth_stopped"] = "no_linking_chunk"
            rewrites = ask(
                llm,
                self.prompt,
                [
                    {
                        "question": s[question_key],
                        "answer": s[answer_key],
                        "identifier": s[identifier_key],
                        "passage": texts[c],
                    }
                    for s, c in asking
                ],
                json_schema=DEPTH_SCHEMA,
                max_tokens=self.max_tokens,
            )
            proposed = [r.parsed if r.ok and isinstance(r.parsed, dict) else None for r in rewrites]
            checks = ask(
                llm, self.answer_prompt, [{"question": (p or {}).get("question", ""), "context": ""} for p in proposed]
            )
            for (state, chunk), rewrite, new, check in zip(asking, rewrites, proposed, checks, strict=True):
                reason = self._verdict(state, rewrite, new, check, question_key, answer_key, identifier_key)
                if reason:
                    state["depth_stopped"] = reason
                    continue
                state["hop_questions"] = [*state["hop_questions"], new["question"]]
                state.update({question_key: new["question"], identifier_key: new["new_identifier"].strip()})
                state[support_key] = [*(state[support_key] or []), chunk]
                state["depth"] += 1
        kept = [s for s in states if s["depth"] > 0]
        rejected = [s for s in states if s["depth"] == 0]
        return kept, rejected

    def _link(self, state: dict[str, Any], texts: dict[str, str], identifier_key: str, support_key: str) -> str | None:
        used = set(state.get(support_key) or [])
        identifier = state.get(identifier_key) or ""
        return next((cid for cid, text in texts.items() if cid not in used and contains(text, identifier)), None)

    def _verdict(self, state, rewrite, new, check, question_key, answer_key, identifier_key) -> str | None:
        failed = failure(rewrite) or failure(check)
        if failed:
            return failed[0]
        if not new or not str(new.get("question", "")).strip() or not str(new.get("new_identifier", "")).strip():
            return "llm_unparseable_answer"
        if contains(new["question"], state[identifier_key]):
            return "identifier_leaked"
        if contains(new["question"], state[answer_key]):
            return "answer_leaked"
        if f1(answer_text(check), state[answer_key]) > self.max_closed_book_f1:
            return "answerable_without_documents"
        return None

    def run(self, *frames: pl.DataFrame, llm: LLM, **keys: str) -> OpResult:
        bound = self.bind_keys(keys)
        kept, rejected = self.expand(*frames, llm, **bound)
        schema = {
            **frames[0].schema,
            "depth": pl.Int64,
            "hop_questions": pl.List(pl.String),
            "depth_stopped": pl.String,
            PARENT_IDS: pl.List(pl.String),
        }
        kept_frame = pl.DataFrame(kept, schema=schema, orient="row").drop(ROW_ID)
        rejected_frame = pl.DataFrame(rejected, schema=schema, orient="row").with_columns(
            pl.col("depth_stopped").alias(REJECT_RULE),
            pl.lit(None, pl.Float64).alias(REJECT_SCORE),
            pl.lit("the first hop failed its check").alias(REJECT_DETAIL),
        )
        return OpResult(kept=assign_generated_ids(kept_frame, salt=self.fingerprint(bound)), rejected=rejected_frame)
