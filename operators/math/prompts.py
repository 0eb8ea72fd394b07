"""The default prompts of the math operators: named, versioned (bump ``version`` when the wording changes).

Each reads the columns it names (``{{ question }}``, ``{{ solution }}``, ``{{ reference }}``); an operator given
another template reads that template's columns instead. The wording follows DataFlow's reasoning prompts in intent
(synthesis from seeds, verification before solving, difficulty and category labels) and MathFusion's fusion
strategies; JSON answers are enforced by the operators' schemas.
"""

from operators.llm.prompt import PromptTemplate

MATH_SYSTEM = "You are an expert mathematician and a careful writer of math problems and solutions."

QUESTION_SYNTHESIS = PromptTemplate(
    name="math_question_synthesis",
    version="1",
    system=MATH_SYSTEM,
    template=(
        "Here is a seed math problem:\n\n{{ question }}\n\n"
        "Write {{ count }} new, self-contained math problems inspired by it: change the numbers, the setting or the "
        "structure, or add a step, so that each needs real reasoning. Each problem must have exactly one correct "
        "answer that can be written as a number or a short expression, and must not contain its answer. "
        'Answer with JSON: {"items": [{"question": <problem text>}, ...]}.'
    ),
)

FUSION_STRATEGIES = {
    "sequential": "Chain them: the answer of the first problem becomes a quantity the second problem uses.",
    "parallel": "Combine them: one new problem that needs both results, e.g. their sum or their ratio.",
    "conditional": "Link them by a condition: one problem's result decides which case of the other applies.",
}

QUESTION_FUSION = PromptTemplate(
    name="math_question_fusion",
    version="1",
    system=MATH_SYSTEM,
    template=(
        "Problem A:\n{{ first }}\n\nProblem B:\n{{ second }}\n\n"
        "Fuse the two problems into {{ count }} new problem(s). {{ strategy }} The fused problem must be "
        "self-contained, solvable, have exactly one correct answer and not contain its answer. "
        'Answer with JSON: {"items": [{"question": <problem text>}, ...]}.'
    ),
)

QUESTION_VERIFY = PromptTemplate(
    name="math_question_verify",
    version="1",
    system=MATH_SYSTEM,
    template=(
        "Check this math problem before anyone solves it:\n\n{{ question }}\n\n"
        "Is it solvable (all needed information given, exactly one answer)? Is it correct (consistent, no false "
        "premise, well-defined terms)? Answer with JSON: "
        '{"solvable": <true|false>, "correct": <true|false>, "reason": <one sentence>}.'
    ),
)

DIFFICULTY = PromptTemplate(
    name="math_difficulty",
    version="1",
    system=MATH_SYSTEM,
    template=(
        "Rate the difficulty of this math problem from 1 to 10, where 1 is a one-step grade-school exercise, 5 a "
        "typical high-school competition problem (AMC 10) and 10 an olympiad problem (IMO).\n\n{{ question }}\n\n"
        'Answer with JSON: {"difficulty": <integer 1-10>, "rationale": <one sentence>}.'
    ),
)

CATEGORIES = (
    "Arithmetic",
    "Prealgebra",
    "Algebra",
    "Intermediate Algebra",
    "Number Theory",
    "Counting & Probability",
    "Geometry",
    "Precalculus",
    "Calculus",
    "Linear Algebra",
    "Statistics",
    "Logic & Puzzles",
    "Other",
)
"""Primary categories: the MATH dataset's seven subjects plus the areas synthesized problems often fall in."""

CATEGORY = PromptTemplate(
    name="math_category",
    version="1",
    system=MATH_SYSTEM,
    template=(
        "Classify this math problem:\n\n{{ question }}\n\n"
        "Give its primary category, one of: {{ categories }}; and a secondary category: the specific topic in a "
        'few words (e.g. "quadratic equations", "modular arithmetic"). Answer with JSON: '
        '{"primary": <one of the primary categories>, "secondary": <topic>}.'
    ),
)

CHAIN_OF_THOUGHT = PromptTemplate(
    name="math_chain_of_thought",
    version="1",
    system=MATH_SYSTEM,
    template=(
        "Solve the following math problem. Reason step by step, then give the final answer in \\boxed{}.\n\n"
        "Problem: {{ question }}"
    ),
)

ANSWER_JUDGE = PromptTemplate(
    name="math_answer_judge",
    version="1",
    system="You compare answers to math problems. Judge mathematical equivalence, not wording.",
    template=(
        "Problem: {{ question }}\n\nReference answer: {{ reference }}\n\nCandidate solution:\n{{ solution }}\n\n"
        "Is the candidate's final answer mathematically equivalent to the reference answer (same value, set, "
        "interval, expression or choice, in any notation)? Answer with JSON: "
        '{"equivalent": <true|false>, "rationale": <one sentence>}.'
    ),
)
