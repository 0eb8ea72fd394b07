"""Shipped prompt templates: LLM-judge and rewriting prompts for the generic LLM operators.

Where DataFlow runs a trained scorer whose weights are not shipped here (FineWeb-Edu's classifier, Deita's scorers,
a reward model, QuRating, the textbook-quality model), an LLM judge with one of these templates is the fallback,
so that a pipeline works with any LLM resource. Scores are asked as JSON ``{"score": <number>, "rationale":
<text>}`` for ``prompted_evaluator`` (give it the template's range as ``min_score``/``max_score``: see
``SCORE_RANGES``); the multi-field judges go with ``prompted_structured`` and the schema next to them. Each prompt
is written for this project after the cited paper's rubric; bump ``version`` when the wording changes.
"""

from __future__ import annotations

from typing import Any

from operators.llm.prompt import PromptTemplate

_JSON_SCORE = 'Answer with JSON only: {"score": <number>, "rationale": <one sentence>}.'

FINEWEB_EDU = PromptTemplate(
    name="fineweb_edu_judge",
    version="1",
    system="You rate web pages for how useful they are for teaching, from primary school to university.",
    template=(
        "Score the page's educational value from 0 to 5, adding points as it earns them:\n"
        "+1 it gives some basic information relevant to an educational topic, even mixed with ads or clutter;\n"
        "+1 it covers elements of a school subject coherently, though incompletely or loosely;\n"
        "+1 it suits educational use and introduces key concepts of a curriculum, clearly written;\n"
        "+1 it is highly relevant and beneficial for learning at school level, focused, like a textbook chapter "
        "or tutorial;\n"
        "+1 it is outstanding for teaching: deep, well reasoned, easy to follow, no filler.\n"
        "Pages of pure advertising, navigation or adult content score 0.\n\n"
        "Page:\n{{ text }}\n\n" + _JSON_SCORE
    ),
)
"""After the annotation rubric of FineWeb-Edu (Penedo et al., The FineWeb Datasets, 2024): additive points 0-5;
their classifier keeps pages scoring 3 or more."""

TEXTBOOK_QUALITY = PromptTemplate(
    name="textbook_quality_judge",
    version="1",
    system="You judge text as material for teaching a language model to reason.",
    template=(
        "Rate from 1 to 5 how much this text is like a good textbook: clear, self-contained, explaining concepts "
        "step by step with examples, free of chatter, ads and boilerplate (1: no value for learning; 5: textbook "
        "quality).\n\nText:\n{{ text }}\n\n" + _JSON_SCORE
    ),
)
"""After phi-1's filter for "textbook quality" (Gunasekar et al., Textbooks Are All You Need, 2023)."""

QURATING = {
    criterion: PromptTemplate(
        name=f"qurating_{criterion}",
        version="1",
        system="You compare how well texts meet one quality criterion.",
        template=(
            f"Criterion: {question}\nRate the text from 1 (not at all) to 10 (as much as any text could).\n\n"
            "Text:\n{{ text }}\n\n" + _JSON_SCORE
        ),
    )
    for criterion, question in {
        "writing_style": "How polished and engaging is the writing style?",
        "required_expertise": "How much expertise and prerequisite knowledge does a reader need to understand it?",
        "facts_and_trivia": "How many facts and pieces of trivia does it contain?",
        "educational_value": "How much could a student learn from it, as in a lesson?",
    }.items()
}
"""QuRating's four criteria (Wettig et al., QuRating: Selecting High-Quality Data for Training Language Models,
ICML 2024). QuRating compares texts in pairs and fits a rating model; here each text is rated on its own."""

DEITA_COMPLEXITY = PromptTemplate(
    name="deita_complexity_judge",
    version="1",
    system="You judge how complex and demanding instructions are.",
    template=(
        "Rate the complexity of this instruction from 1 to 6: how many steps, constraints, pieces of knowledge "
        "and how much reasoning a good answer needs (1: trivial lookup; 6: multi-step expert task with several "
        "constraints).\n\nInstruction:\n{{ instruction }}\n\n" + _JSON_SCORE
    ),
)
"""After Deita's complexity scorer (Liu et al., What Makes Good Data for Alignment?, ICLR 2024), which ranks
evolved variants of an instruction 1-6; here one instruction is rated on that scale."""

DEITA_QUALITY = PromptTemplate(
    name="deita_quality_judge",
    version="1",
    system="You judge answers to instructions.",
    template=(
        "Rate the quality of the response from 1 to 6: correct, helpful, complete, well organised and fitting the "
        "instruction's request (1: wrong or off-topic; 6: excellent).\n\nInstruction:\n{{ instruction }}\n\n"
        "Response:\n{{ response }}\n\n" + _JSON_SCORE
    ),
)
"""After Deita's quality scorer (Liu et al., ICLR 2024), 1-6."""

REWARD = PromptTemplate(
    name="reward_judge",
    version="1",
    system="You are a strict reward model: you judge how good a reply is for the user.",
    template=(
        "Score the assistant's reply from 1 to 10 for helpfulness, harmlessness and honesty, as a preference "
        "model would (1: harmful or useless; 10: ideal).\n\nUser:\n{{ instruction }}\n\nAssistant:\n"
        "{{ response }}\n\n" + _JSON_SCORE
    ),
)
"""The fallback for a reward model's score (DataFlow's RMSampleEvaluator runs a trained reward model)."""

TREEINSTRUCT = PromptTemplate(
    name="treeinstruct_complexity",
    version="1",
    system="You analyse the structure of instructions.",
    template=(
        "Write the instruction's semantic tree: its main action, the objects and constraints attached to it, and "
        "their sub-parts. Count the nodes of the tree (every action, object, constraint or detail is a node) and "
        'answer with JSON only: {"score": <node count>, "rationale": <the tree, one line>}.\n\n'
        "Instruction:\n{{ instruction }}"
    ),
)
"""After Tree-Instruct (Zhao et al., A Preliminary Study of the Intrinsic Relationship between Complexity and
Alignment, 2023): an instruction's complexity is the number of nodes of its semantic tree. Use with
``prompted_evaluator(min_score=1, max_score=100)``."""

META_DIMENSIONS = PromptTemplate(
    name="meta_quality_dimensions",
    version="1",
    system="You rate pre-training text on several quality dimensions.",
    template=(
        "Rate the text from 1 to 5 on each dimension: text_structure (organisation, formatting), "
        "diversity_complexity (range of vocabulary and ideas), fluency (readable, grammatical), safety (free of "
        "harmful or toxic content), educational_value, content_accuracy (correct and useful). Answer with JSON "
        "holding those six keys.\n\nText:\n{{ text }}"
    ),
)
"""DataFlow's MetaSampleEvaluator dimensions, for ``prompted_structured`` with ``META_SCHEMA``."""

META_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        name: {"type": "integer", "minimum": 1, "maximum": 5}
        for name in (
            "text_structure",
            "diversity_complexity",
            "fluency",
            "safety",
            "educational_value",
            "content_accuracy",
        )
    },
    "required": [
        "text_structure",
        "diversity_complexity",
        "fluency",
        "safety",
        "educational_value",
        "content_accuracy",
    ],
}

INSTAG = PromptTemplate(
    name="instag_tags",
    version="1",
    system="You tag user instructions with the intentions and skills they involve.",
    template=(
        "List the fine-grained tags of this instruction: each intention or skill it asks for (e.g. 'python "
        "coding', 'summarization', 'unit conversion'), each with a short explanation. Answer with JSON: "
        '{"tags": [{"tag": <text>, "explanation": <text>}, ...]}.\n\nInstruction:\n{{ instruction }}'
    ),
)
"""After InsTag (Lu et al., #InsTag: Instruction Tagging for Analyzing Supervised Fine-tuning of LLMs, ICLR 2024):
the tags describe diversity, their number an instruction's complexity. For ``prompted_structured`` with
``INSTAG_SCHEMA``; count them with ``column_expression`` (``array_length(tags)``)."""

INSTAG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "tags": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"tag": {"type": "string"}, "explanation": {"type": "string"}},
                "required": ["tag", "explanation"],
            },
        }
    },
    "required": ["tags"],
}

PHI4_REWRITE = PromptTemplate(
    name="phi4_rewrite",
    version="1",
    system="You turn raw web and book text into clear teaching material.",
    template=(
        "Rewrite the text below as a self-contained lesson for a student: keep every fact and number, drop ads, "
        "navigation and chatter, explain the key ideas step by step in clear prose, and end with one question "
        "that checks understanding and its worked answer. Reply with the rewritten text only.\n\n"
        "Text:\n{{ text }}"
    ),
)
"""Phi-4-style rewriting of organic seeds into synthetic, didactic text (Abdin et al., Phi-4 Technical Report,
2024, sec. 2: rewrite-and-augment of web content). For ``prompted_refiner`` or ``prompted_generator``."""

TEXT2QA_GRADE = PromptTemplate(
    name="text2qa_grade",
    version="1",
    system="You grade question-answer pairs written from a source text.",
    template=(
        "Grade the pair from 1 to 5 on four dimensions: question_quality (clear, specific, self-contained), "
        "answer_alignment (the answer answers exactly this question), answer_verifiability (the answer can be "
        "checked against the text and is right), downstream_value (useful for training or evaluating a model). "
        "Answer with JSON holding those four keys and a one-sentence rationale.\n\nText:\n{{ text }}\n\n"
        "Question: {{ question }}\nAnswer: {{ answer }}"
    ),
)
"""The four dimensions of DataFlow's Text2QASampleEvaluator, for ``prompted_structured`` with
``TEXT2QA_GRADE_SCHEMA``; keep pairs with ``row_filter`` (e.g. ``answer_verifiability >= 4``)."""

TEXT2QA_GRADE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        **{
            name: {"type": "integer", "minimum": 1, "maximum": 5}
            for name in ("question_quality", "answer_alignment", "answer_verifiability", "downstream_value")
        },
        "rationale": {"type": "string"},
    },
    "required": ["question_quality", "answer_alignment", "answer_verifiability", "downstream_value", "rationale"],
}

BENCH_ANSWER = PromptTemplate(
    name="bench_answer",
    version="1",
    system="You answer benchmark questions. Think step by step, then give the final answer.",
    template=(
        "{{ question }}\n\nReason step by step, then write the final answer alone on the last line as "
        "\\boxed{<answer>}."
    ),
)
"""Answers for a benchmark (DataFlow's BenchAnswerGenerator), for ``prompted_generator``; ``answer_match`` reads
the boxed answer."""

ANSWER_EQUIVALENCE = PromptTemplate(
    name="answer_equivalence",
    version="1",
    system="You check whether a model's answer matches the reference answer of a question.",
    template=(
        "Question: {{ question }}\nReference answer: {{ gold }}\nModel's answer: {{ prediction }}\n\n"
        "Do the two answers mean the same (same value, same entity, equivalent expression; wording and units "
        'written differently do not matter)? Answer with JSON only: {"score": 1 if they match else 0, '
        '"rationale": <one sentence>}.'
    ),
)
"""LLM-judge matching for a benchmark evaluation (DataFlow's BenchDatasetEvaluator in semantic mode), for
``prompted_evaluator(min_score=0, max_score=1)``; ``bench_accuracy`` averages the scores."""

SCORE_RANGES: dict[str, tuple[float, float]] = {
    FINEWEB_EDU.name: (0, 5),
    TEXTBOOK_QUALITY.name: (1, 5),
    **{template.name: (1, 10) for template in QURATING.values()},
    DEITA_COMPLEXITY.name: (1, 6),
    DEITA_QUALITY.name: (1, 6),
    REWARD.name: (1, 10),
    TREEINSTRUCT.name: (1, 100),
    ANSWER_EQUIVALENCE.name: (0, 1),
}
"""``min_score, max_score`` to give ``prompted_evaluator`` with each score template."""
