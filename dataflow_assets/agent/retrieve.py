"""Retrieve candidate operators for a request from the registry's exported docs.

Two rankings fused by reciprocal rank (Cormack et al. 2009, "Reciprocal rank fusion outperforms Condorcet"):
lexical BM25 (``bm25s``) over each operator's name, description, details, parameters and keys, and, when an
embedder is given, cosine similarity of the request to the same text. Only operators that fit a linear pipeline
over the user's rows are candidates (one input dataset, engines the agent can provide: see ``agent/engines.py``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from operators.embedder.protocol import Embedder
from operators.registry import OperatorInfo, get_operator, list_operators

RRF_K = 60
"""The constant of reciprocal rank fusion (the paper's value)."""


@dataclass(frozen=True)
class Candidate:
    name: str
    score: float
    why: str
    """Which rankings found it and where, e.g. ``bm25 #1, embedding #3``."""


def operator_text(info: OperatorInfo) -> str:
    """What retrieval reads about an operator: the words of its docs, its name split into words."""
    parameters = " ".join(f"{p.name.replace('_', ' ')} {p.description}" for p in info.parameters)
    keys = " ".join(f"{k.name.replace('_', ' ')} {k.description}" for k in [*info.inputs, *info.outputs])
    name = info.name.replace("_", " ")
    return f"{name} {info.category} {info.domain}. {info.description} {info.details} {parameters} {keys}"


def pipeline_operators(engines: Collection[str] | None = None) -> list[OperatorInfo]:
    """Operators a linear pipeline over the user's rows can use, with the ``engines`` given (None: any engine)."""
    return [
        info
        for info in list_operators()
        if get_operator(info.name).inputs == 1 and (engines is None or set(info.engines) <= set(engines))
    ]


def retrieve(
    request: str, *, k: int = 16, embedder: Embedder | None = None, operators: Sequence[OperatorInfo] | None = None
) -> list[Candidate]:
    """The ``k`` operators that best match ``request``, best first."""
    infos = list(operators if operators is not None else pipeline_operators())
    texts = [operator_text(info) for info in infos]
    rankings = {"bm25": _bm25_ranking(request, texts)}
    if embedder is not None:
        vectors = embedder.embed([request, *texts])
        rankings["embedding"] = list(np.argsort(-(vectors[1:] @ vectors[0]), kind="stable"))
    fused: dict[int, float] = {}
    places: dict[int, list[str]] = {}
    for method, order in rankings.items():
        for rank, index in enumerate(order):
            fused[int(index)] = fused.get(int(index), 0.0) + 1.0 / (RRF_K + rank + 1)
            places.setdefault(int(index), []).append(f"{method} #{rank + 1}")
    unranked = [i for i in range(len(infos)) if i not in fused]  # nothing matched: registry order, after the rest
    best = (sorted(fused, key=lambda i: (-fused[i], infos[i].name)) + unranked)[:k]
    return [Candidate(infos[i].name, round(fused.get(i, 0.0), 5), ", ".join(places.get(i, ["unranked"]))) for i in best]


def _bm25_ranking(request: str, texts: list[str]) -> list[int]:
    """Indices of the ``texts`` that share a word with ``request``, by BM25 score (ties keep registry order); the
    others get no rank, so that a request with no word in common with the docs leaves ranking to embeddings."""
    import bm25s

    corpus = bm25s.tokenize(texts, stopwords="en", show_progress=False)
    index = bm25s.BM25()
    index.index(corpus, show_progress=False)
    query = expand(re.findall(r"\w\w+", request.lower()), corpus.vocab)
    if not query:
        return []
    scores = index.get_scores(query)
    return [int(i) for i in np.argsort(-scores, kind="stable") if scores[i] > 0]


STEM = 5
"""The shortest word a prefix match may stand on (``dedup`` in ``deduplicate``, ``exact`` in ``exactly``)."""


def expand(words: list[str], vocabulary: Iterable[str]) -> list[str]:
    """The query's words found in the docs; one they lack stands for the docs' words it starts with or that start
    with it: a crude stemmer, so that "deduplicate" finds "dedup" and "summarising" finds "summaris"."""
    vocabulary = set(vocabulary)
    known = [v for v in vocabulary if len(v) >= STEM]
    found = {w for w in words if w in vocabulary}
    for word in words:
        if word not in vocabulary and len(word) >= STEM:
            found.update(v for v in known if v.startswith(word) or word.startswith(v))
    return sorted(found)
