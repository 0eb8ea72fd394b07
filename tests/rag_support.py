"""A deterministic embedder for the control-flow tests of chunking and retrieval (the behaviour tests use the real
model): hashed bags of lower-cased words, L2-normalised, so texts sharing words are close and others are not."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from operators.engines import CounterUsage


class HashingEmbedder:
    identity = "test:hashing-64"
    dimensions = 64

    def __init__(self) -> None:
        self.calls = 0
        self.texts = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.texts += len(texts)
        vectors = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                vectors[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimensions] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)

    def usage(self) -> CounterUsage:
        return CounterUsage({"calls": float(self.calls), "texts": float(self.texts)})


_NAME = re.compile(r"\b[A-Z][a-z]+(?: [A-Z][a-z]+)+\b")
_NUMBER = re.compile(r"\b\d[\d.,]*\d\b|\b\d\b")


def _after(prompt: str, marker: str) -> str:
    return prompt.split(marker, 1)[1] if marker in prompt else ""


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n", text) if s.strip()]


class DocumentModel:
    """A scripted LLM for the knowledge and agentic RAG pipelines: it answers each of their prompts in the right
    shape from the text in the prompt (a fact with a number becomes a QA pair, the judge quotes the sentence holding
    the answer, an open-book question is answered from the questions it wrote itself). For control flow through
    Dagster only; the groups are also run end to end with the embedded model."""

    model_id = identity = "scripted:document-model"

    def __init__(self) -> None:
        self.answers: dict[str, str] = {}
        self.calls: list[str] = []

    def usage(self) -> CounterUsage:
        return CounterUsage({"calls": float(len(self.calls))})

    def generate(self, prompts: Sequence[str], **_: object) -> list:
        self.calls += list(prompts)
        return [self._answer(p) for p in prompts]

    def _answer(self, prompt: str):
        from tests.support import as_json, ok

        if prompt.startswith("Clean this passage"):
            return ok(_after(prompt, "Passage:\n").strip())
        if "question-answer pairs" in prompt or "Name the entity" in prompt:
            return as_json({"items": self._facts(_after(prompt, "Passage:\n"))})
        if "passages of one document" in prompt:
            facts = [f for f in self._facts(prompt) if f]
            answer = facts[-1]["answer"] if facts else "none"
            return as_json(
                {
                    "items": [
                        {
                            "question": "Which two figures do the passages give together?",
                            "answer": answer,
                            "facts": ["first fact", "second fact"],
                        }
                    ]
                }
            )
        if prompt.startswith("Passage:") and "fully supported" in prompt:
            context, answer = _after(prompt, "Passage:\n").split("\n\nQuestion:")[0], _after(prompt, "Answer: ")
            answer = answer.split("\n")[0].strip()
            quote = next((s for s in _sentences(context) if answer and answer in s), "")
            return as_json({"supported": bool(quote), "evidence": quote})
        if prompt.rstrip().endswith("Short answer:"):
            question = _after(prompt, "Question: ").rsplit("\nShort answer:", 1)[0].strip()
            return ok(self.answers.get(question, "unknown") if "Documents:" in prompt else "unknown")
        if "no longer names" in prompt:
            passage = _after(prompt, "Another document says:\n").split("\n\nRewrite")[0]
            answer = _after(prompt, "Answer: ").split("\n")[0].strip()
            names = _NAME.findall(passage)
            new = f"What figure is recorded about the subject linked to {names[-1] if names else 'it'} in the town?"
            self.answers[new] = answer
            return as_json({"question": new, "new_identifier": names[-1] if names else "it"})
        if "asks for both answers" in prompt:
            first, second = (_after(prompt, f"Answer {i}: ").split("\n")[0].strip() for i in (1, 2))
            names = [(_NAME.findall(_after(prompt, f"Question {i}: ").split("\n")[0]) or ["it"])[0] for i in (1, 2)]
            question = f"What figures does the record give for {names[0]} and for {names[1]} in the town?"
            return as_json({"question": question, "answers": [first, second]})
        raise AssertionError(f"unexpected prompt: {prompt[:120]!r}")

    def _facts(self, passage: str) -> list[dict[str, str]]:
        items = []
        for sentence in _sentences(passage):
            numbers, names = _NUMBER.findall(sentence), _NAME.findall(sentence)
            if numbers and names:
                question = f"What figure does the record give for {names[0]} in this account of the town?"
                self.answers[question] = numbers[0]
                items.append(
                    {"identifier": names[0], "conclusion": sentence, "question": question, "answer": numbers[0]}
                )
        return items[:2] or [
            {
                "identifier": "the town",
                "conclusion": "nothing",
                "question": "What is this about here?",
                "answer": "nothing",
            }
        ]


def real_embedder(cache_dir: Path):
    """The real embedding model (all-MiniLM-L6-v2, shipped), through the embedder engine with its vector cache."""
    from resources.embedder.resource import EmbedderResource

    return EmbedderResource(cache_path=str(cache_dir / "embeddings.sqlite")).build_client()
