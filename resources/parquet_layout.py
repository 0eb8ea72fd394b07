"""How tables are laid out in Parquet: which string columns get a dictionary and statistics, and which codec.

Every step's output is written in full and read back once or twice, so a write must cost little more than the
bytes it writes. Two Parquet defaults cost a lot on text and buy nothing there: on the overhead benchmark's last
table (73,534 documents and ten other columns, 49 MiB) a delta-rs write took 0.21 CPU s with them and 0.15 s
without, and reading it back 0.062 s and 0.054 s (medians of 9 on the shared 2-core machine):

- **Dictionary encoding of a mostly distinct string column** (documents, ids, URLs). The writer hashes every value
  into a dictionary that overflows its page limit and is then dropped for plain encoding; readers decode both
  forms. Off for such columns, the files are no larger and reads are cheaper too.
- **Min/max statistics of long, mostly distinct strings** (documents). Every page compares and copies whole
  documents for bounds that can skip no file. Ids and short strings keep theirs: lineage looks rows up by
  ``_row_id``, and the Delta log's statistics of those columns let a reader skip files.

Columns are judged on their first :data:`SAMPLE_ROWS` values, so that a repetitive column (a language code, a
system prompt repeated on every row) keeps the dictionary that makes it small.

Compression is chosen per table (``DeltaStore.codec``). A table that a later step reads is written uncompressed
by default: the cheapest to write and to read. A table that no step reads (the pipeline's outputs, rejected rows,
scores, quarantine) is kept, so it is compressed, with snappy by default, as a plain ``write_delta`` would. On the
table above (write CPU s, read CPU s, size): uncompressed 0.15, 0.05, 49 MiB; snappy 0.25, 0.10, 17 MiB; lz4 0.28,
0.09, 20 MiB; zstd (level 1) 0.40, 0.14, 12 MiB.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import polars as pl

Compression = Literal["uncompressed", "snappy", "lz4", "zstd"]
INTERMEDIATE_COMPRESSION: Compression = "uncompressed"
OUTPUT_COMPRESSION: Compression = "snappy"
DELTA_CODECS: dict[Compression, str] = {
    "uncompressed": "UNCOMPRESSED",
    "snappy": "SNAPPY",
    "lz4": "LZ4_RAW",
    "zstd": "ZSTD",
}
"""delta-rs's names of the codecs (its zstd level defaults to 1)."""
ARROW_CODECS: dict[Compression, str] = {"uncompressed": "none", "snappy": "snappy", "lz4": "lz4", "zstd": "zstd"}
"""pyarrow's names of the codecs (the Ray steps' staged files, ``resources.delta_files``)."""

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
