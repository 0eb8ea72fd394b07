"""``text_condor``: instruction-tuning pairs synthesized from scratch, after Condor (Cao et al. 2025).

knowledge tags (bundled: ``data/condor/tags.jsonl``) -> questions (one easy, one medium, one hard per tag; a step
with no input) -> answers -> refined (Condor Refine: a critique, then a rewrite that follows it) -> judged (response
length, then an AlpaGasus judge) -> deduplicated (exact duplicates of the instruction).
"""

import json
from pathlib import Path

from dataflow_assets.text.prompts import CONDOR_CRITIQUE, CONDOR_REFINE
from operators import (
    AlpagasusJudgeFilter,
    ExactDedupFilter,
    Pipeline,
    PromptedGenerator,
    PromptedRefiner,
    Sequential,
    WordCountFilter,
)
from operators.text.generate.condor_generator import CONDOR_ANSWER, CondorGenerator

TAGS = Path(__file__).parent / "data" / "condor" / "tags.jsonl"


def bundled_tags(path: Path = TAGS) -> list[str]:
    """The knowledge tags of a JSON-lines file (one ``{"tag": ...}`` per line)."""
    return [json.loads(line)["tag"] for line in path.read_text().splitlines() if line.strip()]


class TextCondorPipeline(Pipeline):
    group = "text_condor"
    description = "SFT pairs from knowledge tags: questions at three difficulties, answers, Condor refine, judge."
    text_columns = ("instruction", "response")

    def __init__(self, tags: list[str] | None = None) -> None:
        super().__init__()
        self.questions = CondorGenerator(topics=tags or bundled_tags())
        self.answers = PromptedGenerator(prompt=CONDOR_ANSWER, max_tokens=256)
        self.refined = Sequential(
            (PromptedGenerator(prompt=CONDOR_CRITIQUE, max_tokens=128), {"output_key": "critique"}),
            (PromptedRefiner(prompt=CONDOR_REFINE, max_tokens=256), {"output_key": "response"}),
        )
        self.judged = Sequential(
            (WordCountFilter(min_words=3, max_words=400), {"input_key": "response"}),
            AlpagasusJudgeFilter(),
        )
        self.deduplicated = ExactDedupFilter()

    def forward(self):
        pairs = self.answers(self.questions(), output_key="response")
        pairs = self.refined(pairs)
        pairs = self.judged(pairs)
        return self.deduplicated(pairs, input_key="instruction")
