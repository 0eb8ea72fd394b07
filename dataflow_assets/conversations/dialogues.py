"""``conversations``: multi-turn dialogues and tool-use trajectories from bundled seeds, judged and written in the
chat formats trainers read.

seeds (``data/seeds``: a topic and a scenario per line) ->
  dialogues (3 user-assistant exchanges per topic) -> consistent (an LLM judge of consistency across turns, kept
  from 4 of 5) -> sharegpt (ShareGPT turns);
  tool_tasks (a sequential tool-use task and its JSON-Schema tools per scenario) -> trajectories (a conversation
  with tool calls; every call validated against its tool's schema) -> tool_sharegpt (ShareGPT with
  function_call/observation turns).
"""

from pathlib import Path

from operators import FileSource, Pipeline, PromptedFilter
from operators.conversations.generate.dialogue_synthesizer import DialogueSynthesizer
from operators.conversations.generate.tool_task_synthesizer import ToolTaskSynthesizer
from operators.conversations.generate.tool_trajectory_synthesizer import ToolTrajectorySynthesizer
from operators.conversations.refine.chat_format import ChatFormatRefiner
from operators.conversations.templates import DIALOGUE_CONSISTENCY

SAMPLE_DATA = Path(__file__).parent / "data" / "seeds"


class ConversationsPipeline(Pipeline):
    group = "conversations"
    description = "Dialogues and tool-use trajectories from seeds: synthesize, judge, check tool calls, ShareGPT."

    def __init__(self, data_dir: Path | str = SAMPLE_DATA) -> None:
        super().__init__()
        self.seeds = FileSource(
            path=str(data_dir), pattern="*.jsonl", columns={"topic": "string", "scenario": "string"}
        )
        self.dialogues = DialogueSynthesizer(turns=3, min_turns=2)
        self.consistent = PromptedFilter(prompt=DIALOGUE_CONSISTENCY, keep_min=4, keep_max=5, max_tokens=128)
        self.sharegpt = ChatFormatRefiner(source="messages", target="sharegpt")
        self.tool_tasks = ToolTaskSynthesizer(kind="sequential")
        self.trajectories = ToolTrajectorySynthesizer()
        self.tool_sharegpt = ChatFormatRefiner(source="messages", target="sharegpt")

    def forward(self):
        seeds = self.seeds()
        dialogues = self.consistent(self.dialogues(seeds), score_key="consistency", rationale_key="consistency_note")
        self.sharegpt(dialogues, input_key="messages", output_key="conversation")
        trajectories = self.trajectories(self.tool_tasks(seeds))
        return self.tool_sharegpt(trajectories, input_key="messages", output_key="conversation")
