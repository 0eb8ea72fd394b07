"""The shipped judge and rewriting templates: each renders from the columns it names, and its answers go through
the generic LLM operator it is meant for (scripted answers: structure only)."""

import pytest

from operators.general.evaluate.prompted_evaluator import PromptedEvaluator
from operators.general.generate.prompted_structured import PromptedStructuredGenerator
from operators.general.refine.prompted_refiner import PromptedRefiner
from operators.text import templates
from tests.support import ScriptedLLM, as_json, frame, ok

SCORED = [
    templates.FINEWEB_EDU,
    templates.TEXTBOOK_QUALITY,
    *templates.QURATING.values(),
    templates.DEITA_COMPLEXITY,
    templates.DEITA_QUALITY,
    templates.REWARD,
    templates.TREEINSTRUCT,
]
ROW = {"text": "Photosynthesis turns light into sugar.", "instruction": "Explain tides.", "response": "The moon."}


@pytest.mark.parametrize("template", SCORED, ids=lambda t: t.name)
def test_score_templates_feed_prompted_evaluator_within_their_range(template):
    low, high = templates.SCORE_RANGES[template.name]
    df = frame([ROW["text"]], instruction=[ROW["instruction"]], response=[ROW["response"]])
    llm = ScriptedLLM(lambda prompt: as_json({"score": high, "rationale": "fine"}))
    scored = PromptedEvaluator(prompt=template, min_score=low, max_score=high).run(df, llm=llm).kept
    assert scored["llm_score"].to_list() == [high]
    prompt = llm.prompts[0]
    assert all(value in prompt for key, value in ROW.items() if "{{ " + key + " }}" in template.template)
    assert llm.calls[0]["template"] == template.id and llm.calls[0]["json_schema"]["required"] == ["score", "rationale"]
    out_of_range = ScriptedLLM(lambda prompt: as_json({"score": high + 1, "rationale": "x"}))
    result = PromptedEvaluator(prompt=template, min_score=low, max_score=high).run(df, llm=out_of_range)
    assert result.rejected["_reject_rule"].to_list() == ["llm_unparseable_answer"]


def test_multi_field_judges_become_typed_columns():
    answer = {name: 4 for name in templates.META_SCHEMA["required"]}
    llm = ScriptedLLM(lambda prompt: as_json(answer))
    op = PromptedStructuredGenerator(prompt=templates.META_DIMENSIONS, json_schema=templates.META_SCHEMA)
    scored = op.run(frame([ROW["text"]]), llm=llm).kept
    assert scored.select(templates.META_SCHEMA["required"]).row(0) == (4,) * 6
    tags = {"tags": [{"tag": "physics", "explanation": "tides"}, {"tag": "explanation", "explanation": "why"}]}
    tagged = PromptedStructuredGenerator(prompt=templates.INSTAG, json_schema=templates.INSTAG_SCHEMA).run(
        frame(["x"], instruction=[ROW["instruction"]]), llm=ScriptedLLM(lambda prompt: as_json(tags))
    )
    assert tagged.kept["tags"].to_list() == [tags["tags"]]


def test_phi4_rewrite_refines_the_text():
    llm = ScriptedLLM(lambda prompt: ok("Lesson: plants make sugar from light."))
    rewritten = PromptedRefiner(prompt=templates.PHI4_REWRITE).run(frame([ROW["text"]]), llm=llm).kept
    assert rewritten["text"].to_list() == ["Lesson: plants make sugar from light."]
    assert ROW["text"] in llm.prompts[0]
