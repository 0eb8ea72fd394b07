"""``text_pretrain``: web text to pre-training data.

raw (one partition per shard, registered as shards arrive) -> refined (HTML, URLs, emoji, PII, Unicode and
whitespace) -> language (offline identification, English kept) -> rules (Gopher quality and repetition and FineWeb
in one fused pass, then C4's line cleaning and page rules) -> dedup (MinHash-LSH near and exact duplicates across
shards, incrementally) -> quality (LLM score 1-5 with a rationale).
"""

from pathlib import Path

from operators import (
    C4LineCleanerRefiner,
    C4QualityFilter,
    FileSource,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
    LanguageFilter,
    LanguageIdEvaluator,
    LLMQualityScoreEvaluator,
    MinHashDedupFilter,
    NormalizeTextRefiner,
    Pipeline,
    RedactPiiRefiner,
    RemoveEmojiRefiner,
    RemoveHtmlRefiner,
    RemoveUrlsRefiner,
    Sequential,
)

SAMPLE_DATA = Path(__file__).parent / "data" / "pretrain"


class TextPretrainPipeline(Pipeline):
    group = "text_pretrain"
    description = "Web text to pre-training data: clean, identify language, apply published rules, dedup, score."
    in_demo = True
    demo_order = 1
    text_columns = ("text",)
    max_rejection_rate = {"language": 0.5, "rules": 0.8, "dedup": 0.5}

    def __init__(self, data_dir: Path | str = SAMPLE_DATA, *, languages: tuple[str, ...] = ("en",)) -> None:
        super().__init__()
        self.raw = FileSource(
            path=str(data_dir), pattern="*.jsonl", columns={"text": "string", "url": "string?"}, partitioned="dynamic"
        )
        self.refined = Sequential(
            RemoveHtmlRefiner(),
            RemoveUrlsRefiner(),
            RemoveEmojiRefiner(),
            RedactPiiRefiner(),
            NormalizeTextRefiner(),
        )
        self.language = Sequential(LanguageIdEvaluator(), LanguageFilter(languages=list(languages)))
        # The page-level rules of Gopher and FineWeb judge the text as extracted; C4 cleans lines first and then
        # judges what is left, as in its reference code.
        self.rules = Sequential(
            GopherQualityFilter(),
            GopherRepetitionFilter(),
            FineWebQualityFilter(),
            C4LineCleanerRefiner(),
            C4QualityFilter(),
        )
        # Partitioned and incremental: a new shard is judged against the band tables kept for the shards already
        # done (the step's ``.minhash`` side table), which are not recomputed. Exact copies share a signature, so
        # they land in the same cluster as near copies.
        self.dedup = MinHashDedupFilter(keep_band_table=True)
        self.quality = LLMQualityScoreEvaluator()

    def forward(self):
        docs = self.refined(self.raw())
        docs = self.language(docs)
        docs = self.rules(docs)
        docs = self.dedup(docs)
        return self.quality(docs, score_key="quality_score", rationale_key="quality_rationale")
