"""``text_sft``: seed documents to instruction-tuning pairs.

seeds -> generated (an instruction and a response per seed, each pair a new row naming its seed) -> refined
(Condor: critique, then a rewrite that follows it) -> judged (response length, then an AlpaGasus judge keeping
pairs rated at least 4.5 of 5) -> deduplicated (exact duplicates of the instruction).
"""

from pathlib import Path

from dataflow_assets.text.prompts import CONDOR_CRITIQUE, CONDOR_REFINE
from operators import (
    AlpagasusJudgeFilter,
    ExactDedupFilter,
    FileSource,
    Pipeline,
    PromptedGenerator,
    PromptedRefiner,
    Sequential,
    SftPairGenerator,
    WordCountFilter,
)

SAMPLE_DATA = Path(__file__).parent / "data" / "sft"


class TextSftPipeline(Pipeline):
    group = "text_sft"
    description = "Seed documents to SFT pairs: synthesize, critique and refine (Condor), judge (AlpaGasus), dedup."
    in_demo = True
    demo_order = 2
    text_columns = ("instruction", "response")

    def __init__(self, data_dir: Path | str = SAMPLE_DATA) -> None:
        super().__init__()
        self.seeds = FileSource(path=str(data_dir), pattern="*.jsonl", columns={"text": "string", "source": "string?"})
        self.generated = SftPairGenerator()
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
        pairs = self.generated(self.seeds())
        pairs = self.refined(pairs)
        pairs = self.judged(pairs)
        return self.deduplicated(pairs, input_key="instruction")
