"""Read a Parquet file or a Delta table that may be corrupt without risking the process.

``pl.read_parquet`` aborts the whole Python process on some corrupt files: a damaged page header that claims 2**61
values makes its Rust decoder reserve that much memory, and Rust's allocation-failure handler calls ``abort()``
(found by ``tests/operators/sources/test_readers_fuzz.py``: 2 of 8 runs of 3,000 byte-flipped files aborted). No
``try`` can catch that, so one bad file among a corpus's thousands would end a materialization with nothing
quarantined. Arrow's C++ Parquet reader, fuzzed continuously on OSS-Fuzz, returns an error for every such file
instead (36,000 byte-flipped files, no crash), so Parquet is read through pyarrow and handed to polars only after a
full validation; polars' own conversion gives the same schema and values on intact files (checked on every column
type of the fuzz).

``pl.read_delta`` decodes its Parquet files with the same reader (2 of 4 runs of 1,500 Delta tables with a
byte-flipped data file aborted), and reading a Delta table through ``pyarrow.dataset`` instead ended in
``std::terminate`` on some of them. So every data file of a Delta table is first read with :func:`load_parquet`;
only a table whose files all pass goes to ``pl.read_delta``, which applies the log (partition values, deletion
vectors). That reads the data twice, the price of a source that cannot take the run down (12,000 damaged tables,
no abort).
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import cast

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import DeltaTable
from deltalake.exceptions import DeltaError

PARQUET_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    pa.ArrowException,
    UnicodeDecodeError,  # a corrupt key-value metadata entry
    pl.exceptions.PolarsError,
    pl.exceptions.PanicException,
    DeltaError,
)
"""What reading a damaged Parquet file or Delta table raises: every one means "this file cannot be read"."""


def load_parquet(file: str | Path, n_rows: int | None = None) -> pl.DataFrame:
    """The rows of one Parquet file (the first ``n_rows`` where given) as a polars frame; raises one of
    :data:`PARQUET_ERRORS` where the file is damaged."""
    parquet = pq.ParquetFile(file)
    if n_rows is None:
        table = parquet.read()
    else:
        batches = itertools.islice(parquet.iter_batches(batch_size=max(n_rows, 1)), 1)
        table = pa.Table.from_batches(list(batches), schema=parquet.schema_arrow).slice(0, n_rows)
    table.validate(full=True)
    return cast(pl.DataFrame, pl.from_arrow(table))  # a table always converts to a frame


def load_delta(folder: str | Path) -> pl.DataFrame:
    """The current version of the Delta table at ``folder``; raises one of :data:`PARQUET_ERRORS` where its log or
    any of its data files is damaged."""
    for file in DeltaTable(str(folder)).file_uris():
        load_parquet(file)
    return pl.read_delta(str(folder))
