"""How a table's columns are laid out in Parquet: the settings both of the project's writers use.

Every step's output is written in full and read back once or twice, so a write must cost little more than the
bytes it writes. Two Parquet defaults cost a lot on text and buy nothing there (the overhead benchmark's last table,
73,534 documents and ten other columns, 49 MiB: 0.22 CPU s per delta-rs write with the defaults, 0.09 s without
them; ``benchmarks/results/overhead.md``):

- **Dictionary encoding of a mostly distinct string column** (documents, ids, URLs). The writer hashes every value
  into a dictionary that overflows its page limit and is then dropped for plain encoding; readers decode both
  forms. Off for such columns, the files are no larger and reads are cheaper too.
- **Min/max statistics of long, mostly distinct strings** (documents). Every page compares and copies whole
  documents for bounds that can skip no file. Ids and short strings keep theirs: lineage looks rows up by
  ``_row_id``, and the Delta log's statistics of those columns let a reader skip files.

Columns are judged on their first :data:`SAMPLE_ROWS` values, so that a repetitive column (a language code, a
system prompt repeated on every row) keeps the dictionary that makes it small.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

SAMPLE_ROWS = 1_000
MOSTLY_DISTINCT = 0.5
"""Share of distinct values in the sample above which a string column gets no dictionary."""
LONG_TEXT_BYTES = 64
"""Mean length in the sample from which a mostly distinct string column gets no statistics either."""


@dataclass(frozen=True)
class ColumnLayout:
    no_dictionary: tuple[str, ...] = ()
    no_statistics: tuple[str, ...] = ()


def column_layout(frame: pl.DataFrame) -> ColumnLayout:
    """The top-level string columns of ``frame`` to write without a dictionary, and those without statistics."""
    strings = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    sample = frame.head(SAMPLE_ROWS)
    if not strings or sample.is_empty():
        return ColumnLayout()
    seen = sample.select(
        *[(pl.col(c).n_unique() / pl.len()).alias(f"distinct:{c}") for c in strings],
        *[pl.col(c).str.len_bytes().mean().alias(f"bytes:{c}") for c in strings],
    ).row(0, named=True)
    distinct = tuple(c for c in strings if seen[f"distinct:{c}"] > MOSTLY_DISTINCT)
    long_text = tuple(c for c in distinct if (seen[f"bytes:{c}"] or 0) >= LONG_TEXT_BYTES)
    return ColumnLayout(no_dictionary=distinct, no_statistics=long_text)
