"""Answer comparison as in SQuAD's official evaluation script (Rajpurkar et al. 2016): lower-case, drop
punctuation and the articles a/an/the, split on whitespace; exact match on the normalised strings, F1 on the bags of
tokens (with multiplicity). Against several references the best score counts. HotpotQA and DataFlow's agentic RAG
evaluator use the same normalisation; like HotpotQA's, a yes/no/noanswer prediction only scores against the same
reference."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)
_SPECIAL = {"yes", "no", "noanswer"}


def normalize(text: str) -> str:
    return " ".join(_ARTICLES.sub(" ", text.lower().translate(_PUNCTUATION)).split())


def exact_match(prediction: str | None, references: str | Iterable[str] | None) -> float:
    if prediction is None:
        return 0.0
    return max((float(normalize(prediction) == normalize(r)) for r in _references(references)), default=0.0)


def f1(prediction: str | None, references: str | Iterable[str] | None) -> float:
    if prediction is None:
        return 0.0
    return max((_f1(normalize(prediction), normalize(r)) for r in _references(references)), default=0.0)


def contains(text: str | None, answer: str | None) -> bool:
    """Whether the normalised ``answer`` occurs in the normalised ``text`` as whole tokens."""
    if not text or not answer or not normalize(answer):
        return False
    return f" {normalize(answer)} " in f" {normalize(text)} "


def _f1(prediction: str, reference: str) -> float:
    if (prediction in _SPECIAL or reference in _SPECIAL) and prediction != reference:
        return 0.0
    common = Counter(prediction.split()) & Counter(reference.split())
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(prediction.split()), same / len(reference.split())
    return 2 * precision * recall / (precision + recall)


def _references(references: str | Iterable[str] | None) -> list[str]:
    if references is None:
        return []
    return [references] if isinstance(references, str) else [r for r in references if r is not None]
