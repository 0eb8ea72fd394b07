"""The call retrieval operators make: passages for queries from an index built over a table of chunks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Hit:
    """One retrieved passage: the chunk's ``_row_id``, its score and rank (0 = best) for the query."""

    row_id: str
    score: float
    rank: int


@runtime_checkable
class Retriever(Protocol):
    @property
    def identity(self) -> str:
        """Which index answers (its location and version), for lineage."""
        ...

    def search(self, queries: Sequence[str], k: int = 10) -> list[list[Hit]]:
        """The ``k`` best passages for each query, best first."""
        ...
