"""Parquet layout of written tables: no dictionary for mostly distinct strings, no statistics for documents, and
everything else (ids' statistics, repetitive columns' dictionaries) as Parquet's defaults have it."""

import polars as pl
import pyarrow.parquet as pq
from deltalake import DeltaTable

from resources.delta_store import DeltaStore
from resources.parquet_layout import SAMPLE_ROWS, ColumnLayout, column_layout

PROMPT = "You are a careful assistant. Answer the question below in full sentences, citing the passage. " * 2


def rows(n: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "_row_id": [f"doc-{i}" for i in range(n)],
            "text": [f"Document {i} is about river number {i * 7}, and it goes on for a while. " * 3 for i in range(n)],
            "lang": ["en" if i % 3 else "fr" for i in range(n)],
            "system": [PROMPT] * n,
            "score": [i / 7 for i in range(n)],
        }
    )


def test_columns_are_judged_on_a_sample_of_the_first_rows():
    assert column_layout(rows(2 * SAMPLE_ROWS)) == ColumnLayout(
        no_dictionary=("_row_id", "text"), no_statistics=("text",)
    )
    repeated_later = pl.concat([rows(SAMPLE_ROWS).with_columns(text=pl.lit("same")), rows(10)])
    assert "text" not in column_layout(repeated_later).no_dictionary
    assert column_layout(rows(0)) == ColumnLayout()


def test_written_files_follow_the_layout_and_keep_id_statistics_in_the_log(tmp_path):
    store = DeltaStore(tmp_path)
    uri = store.uri(["g", "s"])
    frame = rows(300)
    store.write(uri, frame, partitions=None)

    assert pl.read_delta(uri).equals(frame)
    (path,) = DeltaTable(uri).file_uris()
    group = pq.ParquetFile(path).metadata.row_group(0)
    columns = {group.column(i).path_in_schema: group.column(i) for i in range(group.num_columns)}
    assert "RLE_DICTIONARY" not in columns["text"].encodings and not columns["text"].is_stats_set
    assert "RLE_DICTIONARY" not in columns["_row_id"].encodings and columns["_row_id"].is_stats_set
    assert "RLE_DICTIONARY" in columns["lang"].encodings and "RLE_DICTIONARY" in columns["system"].encodings
    actions = pl.DataFrame(DeltaTable(uri).get_add_actions(flatten=True))
    assert actions["min._row_id"].to_list() == ["doc-0"] and actions["max._row_id"].to_list() == ["doc-99"]
    assert actions["min.text"].is_null().all()  # unknown bounds: readers read the file
