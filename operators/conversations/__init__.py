"""The conversations domain: multi-turn dialogue and tool-use synthesis, their judges, and the chat formats
trainers read (OpenAI messages, ShareGPT)."""

from operators.domains import DomainSpec

DOMAIN = DomainSpec(
    name="conversations",
    description="Multi-turn dialogues and tool-use trajectories: synthesis, schema-checked tool calls, chat formats",
)
