"""What the IO manager reports about a step's output, and the forms in which a step that ran elsewhere meets it.

A step normally returns frames and the IO manager writes them. A step run on a cluster (``resources.ray``) must not
bring its output back to one process: its workers write the files (``resources.delta_files``) and the step hands
the IO manager a :class:`StagedResult`, the files plus an :class:`OutputSummary` added up from each batch, which
the IO manager commits. Both paths report through the same summary, so the materialization's metadata and the
facts the asset checks read are the same whichever way a step ran. Its input likewise comes as a
:class:`DeltaSlice` (a pinned table version and partitions) that the workers read themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import polars as pl

from operators.base import Metrics, OpResult
from operators.columns import PARTITION, QUARANTINE_REASON, REJECT_RULE, ROW_ID
from resources.delta_files import StagedFile

PREVIEW_ROWS = 5


@dataclass(frozen=True)
class OutputSummary:
    """Counts and samples of a step's output, additive over batches (see :meth:`plus`)."""

    rows: int
    schema: pl.Schema
    preview: pl.DataFrame
    """The first rows, for the UI."""
    null_or_empty: dict[str, int]
    """Per text column, rows where it is null or blank."""
    rejected_by_reason: dict[str, int] | None = None
    """None when the step has no rejected table."""
    quarantined_by_reason: dict[str, int] | None = None
    metrics: Metrics | None = None
    distinct_row_ids: int | None = None
    """None until counted over the whole output (not additive: a Ray step's is counted after the commit)."""

    @classmethod
    def of(cls, result: OpResult, text_columns: list[str], *, count_ids: bool = True) -> OutputSummary:
        kept = result.kept
        counts = kept.select(
            pl.len().alias("rows"),
            *[
                (pl.col(c).is_null() | (pl.col(c).cast(pl.String).str.strip_chars() == "")).sum().alias(c)
                for c in text_columns
            ],
        ).row(0, named=True)
        quarantine = result.side_tables.get("quarantine")
        return cls(
            rows=counts["rows"],
            schema=kept.schema,
            preview=kept.head(PREVIEW_ROWS),
            null_or_empty={c: counts[c] for c in text_columns},
            rejected_by_reason=_counts(result.rejected, REJECT_RULE) if result.rejected is not None else None,
            quarantined_by_reason=_counts(quarantine, QUARANTINE_REASON) if quarantine is not None else None,
            metrics=result.metrics,
            distinct_row_ids=distinct_ids(kept) if count_ids else None,
        )

    def plus(self, other: OutputSummary) -> OutputSummary:
        """This batch's summary followed by the next one's (the preview comes from the first rows)."""
        return replace(
            self,
            rows=self.rows + other.rows,
            preview=pl.concat([self.preview, other.preview], how="diagonal_relaxed").head(PREVIEW_ROWS),
            null_or_empty={c: n + other.null_or_empty.get(c, 0) for c, n in self.null_or_empty.items()},
            rejected_by_reason=_added(self.rejected_by_reason, other.rejected_by_reason),
            quarantined_by_reason=_added(self.quarantined_by_reason, other.quarantined_by_reason),
            distinct_row_ids=None,
        )

    def facts(self) -> dict[str, object]:
        """What the asset checks verify (``dataflow.checks``)."""
        return {
            "rows": self.rows,
            "distinct_row_ids": self.distinct_row_ids,
            "null_or_empty": self.null_or_empty,
            "columns": list(self.schema.names()),
        }


@dataclass(frozen=True)
class StagedTable:
    """One output table's files, written but not committed; ``schema`` includes the partition column."""

    files: list[StagedFile]
    schema: pl.Schema


@dataclass(frozen=True)
class StagedResult:
    """A step's output written as files by the workers that computed it: the first phase of a two-phase write.
    The IO manager commits each table once (side tables first, the main table last) and reports ``summary``."""

    main: StagedTable
    summary: OutputSummary
    sides: dict[str, StagedTable] = field(default_factory=dict)


@dataclass(frozen=True)
class DeltaSlice:
    """A step's input as a pinned version of a table and the partitions to read (all when None), for a step whose
    workers read it themselves."""

    uri: str
    version: int
    partitions: list[str] | None

    def read(self) -> pl.DataFrame:
        """The slice as one frame, for a step that runs here after all."""
        scan = pl.scan_delta(self.uri, version=self.version)
        return (
            scan.filter(pl.col(PARTITION).is_in(self.partitions)) if self.partitions is not None else scan
        ).collect()


def distinct_ids(frame: pl.DataFrame | pl.LazyFrame) -> int:
    lazy = frame.lazy()
    column = pl.col(ROW_ID).n_unique() if ROW_ID in lazy.collect_schema().names() else pl.len()
    return int(lazy.select(column).collect().item())


def _counts(frame: pl.DataFrame, column: str) -> dict[str, int]:
    return dict(frame.group_by(column).len().sort("len", column, descending=[True, False]).iter_rows())


def _added(a: dict[str, int] | None, b: dict[str, int] | None) -> dict[str, int] | None:
    if a is None or b is None:
        return a if b is None else b
    total = {k: a.get(k, 0) + b.get(k, 0) for k in {*a, *b}}
    return dict(sorted(total.items(), key=lambda item: (-item[1], item[0])))
