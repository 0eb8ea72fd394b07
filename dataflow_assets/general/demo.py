"""The demo pipeline: the core operators on bundled sample shards (written for this project).

raw (one partition per shard) -> normalize -> quality (a Sequential stage: stats, word count, a derived column)
-> dedup (fan-in: exact duplicates across all shards) -> paragraphs (one row per paragraph, new ids).
"""

from __future__ import annotations

from pathlib import Path

from operators import (
    ColumnExpressionRefiner,
    ExactDedupFilter,
    FileSource,
    NormalizeTextRefiner,
    Pipeline,
    Sequential,
    SplitParagraphsGenerator,
    TextStatsEvaluator,
    WordCountFilter,
)

SAMPLE_DATA = Path(__file__).parent / "data" / "demo"


class DemoPipeline(Pipeline):
    group = "demo"
    description = "Core operators on the bundled sample shards: normalize, score, filter, dedup, split."
    text_columns = ("text", "paragraph")
    max_rejection_rate = {"quality": 0.5, "dedup": 0.3}

    def __init__(self, data_dir: Path | str = SAMPLE_DATA, *, min_words: int = 8) -> None:
        super().__init__()
        self.raw = FileSource(
            path=str(data_dir),
            pattern="*.jsonl",
            columns={"text": "string", "url": "string?"},
            partitioned=True,
        )
        self.normalize = NormalizeTextRefiner()
        self.quality = Sequential(
            TextStatsEvaluator(),
            WordCountFilter(min_words=min_words),
            (ColumnExpressionRefiner(expression="char_count / word_count"), {"output_key": "chars_per_word"}),
        )
        self.dedup = ExactDedupFilter()
        self.paragraphs = SplitParagraphsGenerator(min_chars=40)

    def forward(self):
        docs = self.raw()
        docs = self.normalize(docs, input_key="text", output_key="text")
        docs = self.quality(docs)
        docs = self.dedup(docs.all_partitions(), input_key="text")
        return self.paragraphs(docs, input_key="text", output_key="paragraph")
