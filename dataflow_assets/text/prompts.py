"""Prompts of the text pipelines that are not an operator's own default.

Condor (Cao et al. 2025, "Condor: Enhance LLM Alignment with Knowledge-Driven Data Synthesis and Refinement")
improves a synthesized answer in two calls: a critique of the response, then a rewrite that follows the critique.
"""

from operators import PromptTemplate

CONDOR_CRITIQUE = PromptTemplate(
    name="condor_critique",
    version="1",
    system="You review answers written for instruction-tuning data. Be specific and brief.",
    template=(
        "Instruction: {{ instruction }}\n\nResponse: {{ response }}\n\n"
        "List the response's problems (wrong facts, missing steps, unclear wording, wrong tone) and say how to fix "
        "each, in at most three short points."
    ),
)

CONDOR_REFINE = PromptTemplate(
    name="condor_refine",
    version="1",
    system="You improve answers written for instruction-tuning data.",
    template=(
        "Instruction: {{ instruction }}\n\nResponse: {{ response }}\n\nCritique: {{ critique }}\n\n"
        "Rewrite the response so that it answers the instruction well and fixes the points of the critique. "
        "Reply with the improved response only."
    ),
)
