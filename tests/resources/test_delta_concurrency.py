"""Processes writing different partitions of one Delta table at the same moment, as concurrent runs of a pipeline
do: every writer succeeds (or is refused by the schema policy), and every partition holds exactly its own rows.

The writers are real processes released together by a barrier; each scenario is repeated many times because
writers collide only when their commits fall within milliseconds of each other. Before ``DeltaStore`` handled
these races, most rounds lost a partition or failed a writer with ``CommitFailedError``.
"""

from __future__ import annotations

import multiprocessing
import tempfile
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from deltalake import DeltaTable

from operators.columns import PARTITION
from resources.delta_store import DeltaStore

WRITERS = 4
ROUNDS = 15
KEYS = [f"part-{i}" for i in range(WRITERS)]
TABLE = ["g", "step"]
_barrier = None


def rows(key: str) -> pl.DataFrame:
    return pl.DataFrame({PARTITION: [key] * 20, "x": [f"{key}/{i}" for i in range(20)]})


def _join(barrier) -> None:
    """Pool initializer: keep the barrier at which each round's writers wait for one another."""
    global _barrier
    _barrier = barrier


def write(root: str, key: str, frame: pl.DataFrame) -> tuple[str, int | str]:
    """In a writer process: wait for the others, write ``frame`` as partition ``key``, return the version written
    or the error raised (as text: delta-rs's exceptions cannot be pickled back to the test)."""
    store = DeltaStore(root)
    _barrier.wait(timeout=60)
    try:
        info = store.write(store.uri(TABLE), frame, partitions=[key], commit_metadata={"writer": key})
    except Exception as error:
        return key, f"{type(error).__name__}: {error}"
    return key, info.version


@pytest.fixture(scope="module")
def pool() -> Iterator[multiprocessing.pool.Pool]:
    """Writer processes, started once. Spawned: delta-rs's runtime does not survive a fork."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(WRITERS, initializer=_join, initargs=(context.Barrier(WRITERS),)) as writers:
        yield writers


def race(
    pool: multiprocessing.pool.Pool,
    folder: Path,
    frames: dict[str, pl.DataFrame],
    existing: dict[str, pl.DataFrame] | None = None,
) -> tuple[DeltaStore, str, dict[str, int | str]]:
    """One round in a new table under ``folder``: write ``existing`` first, one partition after the other, then
    ``frames`` all at once. Returns the store, the table's uri and ``{key: version written or error}``."""
    store = DeltaStore(tempfile.mkdtemp(dir=folder))
    uri = store.uri(TABLE)
    for key, frame in (existing or {}).items():
        store.write(uri, frame, partitions=[key])
    results = dict(pool.starmap(write, [(str(store.root), key, frame) for key, frame in frames.items()]))
    return store, uri, results


def partition_rows(store: DeltaStore, uri: str) -> dict[str, pl.DataFrame]:
    table = store.read(uri).frame.sort("x")
    return {key: table.filter(pl.col(PARTITION) == key) for key in table[PARTITION].unique()}


def committed_versions(uri: str) -> dict[str, int]:
    """Writer -> the version of its commit, from the log once every writer is done."""
    return {c["writer"]: c["version"] for c in DeltaTable(uri).history() if "writer" in c}


def test_writers_creating_a_table_at_once_each_keep_their_partition_and_columns(pool, tmp_path):
    """One writer brings a column the others lack: whichever creates the table, the column is not lost; each
    writer reports the version it committed."""
    frames = {key: rows(key) for key in KEYS}
    frames[KEYS[0]] = frames[KEYS[0]].with_columns(note=pl.lit("only here"))
    for _ in range(ROUNDS):
        store, uri, versions = race(pool, tmp_path, frames)
        written = partition_rows(store, uri)
        assert sorted(written) == KEYS
        for key in KEYS:
            assert written[key]["x"].to_list() == rows(key).sort("x")["x"].to_list()
        assert written[KEYS[0]]["note"].to_list() == ["only here"] * 20
        assert written[KEYS[1]]["note"].null_count() == 20
        assert versions == committed_versions(uri)
        assert sorted(versions.values()) == list(range(WRITERS))


def test_writers_adding_a_column_to_their_partitions_at_once_all_succeed(pool, tmp_path):
    """The first commit changes the table's schema, so delta-rs refuses the others' commits ("Metadata changed
    since last commit"); they are planned again and succeed."""
    frames = {key: rows(key).with_columns(y=pl.lit(key)) for key in KEYS}
    for _ in range(ROUNDS):
        store, uri, versions = race(pool, tmp_path, frames, existing={key: rows(key) for key in KEYS})
        written = partition_rows(store, uri)
        assert sorted(written) == KEYS
        for key in KEYS:
            assert written[key].select("x", "y").rows() == frames[key].sort("x").select("x", "y").rows()
        assert versions == committed_versions(uri)


def test_a_type_change_racing_new_partitions_is_refused_on_one_side(pool, tmp_path):
    """Partition part-0 alone in the table changes x's type while the other writers add partitions with the old
    type: either the change wins and the newcomers are refused, or they win and the change is refused; the table
    never mixes the two types."""
    as_text = rows(KEYS[0])
    as_numbers = {key: rows(key).with_columns(pl.col("x").str.len_chars().cast(pl.Int64)) for key in KEYS}
    frames = {KEYS[0]: as_text, **{key: as_numbers[key] for key in KEYS[1:]}}
    for _ in range(ROUNDS):
        store, uri, results = race(pool, tmp_path, frames, existing={KEYS[0]: as_numbers[KEYS[0]]})
        written_by = sorted(key for key, result in results.items() if isinstance(result, int))
        refused = [result for result in results.values() if isinstance(result, str)]
        assert all(message.startswith("SchemaChangeError: ") for message in refused), refused
        table = sorted(store.read(uri).frame.rows())
        if written_by == [KEYS[0]]:
            assert table == sorted(as_text.rows())
        else:
            assert written_by == KEYS[1:]
            assert table == sorted(row for frame in as_numbers.values() for row in frame.rows())
