from __future__ import annotations

from pydantic import Field

from operators.general.evaluate.prompted_evaluator import PromptedEvaluator
from operators.llm.prompt import PromptTemplate
from operators.registry import register

QUALITY_PROMPT = PromptTemplate(
    name="text_quality_score",
    version="1",
    system="You are a strict editor judging whether a web document is good training data for a language model.",
    template=(
        "Rate the document below from 1 (useless: spam, boilerplate, gibberish) to 5 (excellent: informative, "
        'well written, self-contained). Answer with JSON: {"score": <1-5>, "rationale": <one sentence>}.\n\n'
        "Document:\n{{ text }}"
    ),
)


@register("llm_quality_score")
class LLMQualityScoreEvaluator(PromptedEvaluator):
    """Score a document's quality as training data from 1 to 5, with a one-sentence rationale (structured JSON).

    In the manner of the LLM quality raters used for FineWeb-Edu and DataFlow's text quality evaluators; pair it
    with a filter on the score column, or use ``prompted_filter`` with the same prompt to score and filter at once.
    """

    prompt: PromptTemplate = Field(QUALITY_PROMPT, description="The rating prompt; it reads the 'text' column")
    max_tokens: int = Field(96, ge=1, description="Most tokens to generate per answer")
