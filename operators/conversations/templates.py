"""Judge templates for conversations, for ``prompted_evaluator`` over a ``messages`` column (scores 1-5)."""

from __future__ import annotations

from operators.llm.prompt import PromptTemplate

_CONVERSATION = (
    "{% for m in messages %}{{ m.role }}{% if m.name %} ({{ m.name }}){% endif %}: {{ m.content or '' }}"
    "{% if m.tool_calls %} [calls {{ m.tool_calls }}]{% endif %}\n{% endfor %}"
)
_JSON_SCORE = 'Answer with JSON only: {"score": <1-5>, "rationale": <one sentence>}.'

DIALOGUE_CONSISTENCY = PromptTemplate(
    name="dialogue_consistency_judge",
    version="1",
    system="You check multi-turn conversations for consistency.",
    template=(
        "Conversation:\n" + _CONVERSATION + "\nRate from 1 to 5 how consistent the assistant is across turns: it "
        "never contradicts what it or the user said earlier, keeps the user's constraints from earlier turns, and "
        "each answer follows from the conversation so far (1: contradicts itself or forgets the context; 5: fully "
        "consistent). " + _JSON_SCORE
    ),
)
"""After ConsistentChat's consistency criterion (DataFlow's ConsistentChatGenerator and its judges)."""

DIALOGUE_QUALITY = PromptTemplate(
    name="dialogue_quality_judge",
    version="1",
    system="You rate conversations used to train AI assistants.",
    template=(
        "Conversation:\n" + _CONVERSATION + "\nRate from 1 to 5 the quality of the assistant's part as training "
        "data: helpful, correct, natural, well adapted to each user turn, and (where tools are called) calling the "
        "right tools with sensible arguments and using their results (1: harmful, wrong or useless; 5: "
        "exemplary). " + _JSON_SCORE
    ),
)

TOOL_TASK_FEASIBILITY = PromptTemplate(
    name="tool_task_feasibility_judge",
    version="1",
    system="You check whether tool-use tasks can be carried out with the tools given.",
    template=(
        "Task: {{ task }}\n\nTools (JSON Schema):\n{{ tools }}\n\nRate from 1 to 5 whether the task is complete "
        "and feasible: every step it needs is covered by a tool, the arguments can be filled from the task or from "
        "earlier results, and the steps fit together (1: cannot be done with these tools; 5: clearly doable). "
        + _JSON_SCORE
    ),
)
"""After DataFlow's CompositionTaskFilter, for ``prompted_filter`` over the rows of ``tool_task_synthesizer``."""
