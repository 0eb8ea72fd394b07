"""Reserved column names: the only place these literals are spelled out.

Every table the framework writes may carry these columns; user data must not use names starting with ``_``
that collide with them.
"""

ROW_ID = "_row_id"
"""Stable identity of a row. 1:1 steps keep it; generators mint new ids."""

PARENT_IDS = "_parent_ids"
"""For generated rows: the ``_row_id`` values of the rows they were generated from."""

PARTITION = "_partition"
"""The partition (shard) key a row belongs to; Delta tables of partitioned assets are partitioned by it."""

SOURCE_FILE = "_source_file"
"""Path of the input file a source row was read from, relative to the source's folder."""

SOURCE_LINE = "_source_line"
"""1-based line (JSONL, CSV), record (JSON array) or row (Parquet, Delta) number in the source file."""

REJECT_RULE = "_reject_rule"
"""Name of the rule that rejected a row (snake_case, e.g. ``word_count_too_short``)."""

REJECT_SCORE = "_reject_score"
"""The score the rejecting rule computed for the row."""

REJECT_DETAIL = "_reject_detail"
"""Optional free text for a rejection, e.g. the id of the row a duplicate was removed in favour of."""

QUARANTINE_REASON = "_reason"
"""Why a source row could not be ingested (``malformed_json``, ``invalid_utf8``, ...)."""

QUARANTINE_DETAIL = "_detail"
"""A readable explanation of a quarantined row, e.g. ``required column 'text' is missing``."""

QUARANTINE_RAW = "_raw"
"""The raw text of a quarantined source row, decoded leniently so that nothing is lost."""

SAMPLE = "_sample"
"""For rows generated from ``n`` samples of one prompt: the sample's number, 0 to n-1."""

ERROR = "_error"
"""Set on rows whose processing failed (e.g. an LLM call); never replaced by a silent null."""

RESERVED = frozenset(
    {
        ROW_ID,
        PARENT_IDS,
        PARTITION,
        SOURCE_FILE,
        SOURCE_LINE,
        REJECT_RULE,
        REJECT_SCORE,
        REJECT_DETAIL,
        QUARANTINE_REASON,
        QUARANTINE_DETAIL,
        QUARANTINE_RAW,
        SAMPLE,
        ERROR,
    }
)

COLUMN_DOCS = {
    ROW_ID: "stable row id (kept by 1:1 steps, new for generated rows)",
    PARENT_IDS: "ids of the rows this row was generated from",
    PARTITION: "the partition (source file) the row belongs to",
    SOURCE_FILE: "the source file the row was read from",
    SOURCE_LINE: "line, record or row number in the source file",
    REJECT_RULE: "the rule that rejected the row",
    REJECT_SCORE: "the rejecting rule's score",
    REJECT_DETAIL: "more about the rejection",
    SAMPLE: "the sample's number among the n answers to one prompt",
    ERROR: "why processing this row failed",
}
"""What the reserved columns hold, for the UI's column schema."""
