from __future__ import annotations

from pydantic import Field

from operators.general.filter.prompted_filter import PromptedFilter
from operators.llm.prompt import PromptTemplate
from operators.registry import register

ALPAGASUS_PROMPT = PromptTemplate(
    name="alpagasus_rating",
    version="1",
    system="We would like to request your feedback on the performance of AI assistant in response to the instruction "
    "and the given input displayed following.",
    template=(
        "Instruction: {{ instruction }}\n\nResponse: {{ response }}\n\n"
        "Please rate according to the accuracy of the response to the instruction and the input. Each assistant "
        "receives a score on a scale of 0 to 5, where a higher score indicates higher level of the accuracy. Answer "
        'with JSON: {"score": <0-5>, "rationale": <a short explanation>}.'
    ),
)


@register("alpagasus_judge")
class AlpagasusJudgeFilter(PromptedFilter):
    """Keep instruction/response pairs an LLM judge rates at least 4.5 of 5 for accuracy (AlpaGasus).

    Chen et al. 2024, "AlpaGasus: Training a Better Alpaca with Fewer Data": ChatGPT rated each Alpaca pair from 0
    to 5 and pairs scoring at least 4.5 were kept. The prompt follows the paper's rating prompt, asking for JSON
    instead of a free-text score so that it can be enforced and checked.
    """

    prompt: PromptTemplate = Field(ALPAGASUS_PROMPT, description="The rating prompt; reads 'instruction', 'response'")
    min_score: float = Field(0, description="Lowest valid score")
    max_score: float = Field(5, description="Highest valid score")
    keep_min: float = Field(4.5, description="Lowest score kept (inclusive), the paper's threshold")
    keep_max: float = Field(5, description="Highest score kept (inclusive)")
    max_tokens: int = Field(96, ge=1, description="Most tokens to generate per answer")
