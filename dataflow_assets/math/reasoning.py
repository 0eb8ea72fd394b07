"""``reasoning_math``: seed problems to verified, graded chain-of-thought training data (DataFlow's reasoning recipe).

seeds (problems with reference answers) -> synthesized (new problems from each seed) and fused (MathFusion: pairs
fused into one; each new problem names its seed or seeds) -> questions (the seeds and the new problems together)
-> verified (cheap checks, exact duplicates, benchmark contamination when a benchmark is given, an LLM judge of
solvability and correctness; ``judge_questions=False`` skips the judge) -> labelled (difficulty 1-10, primary and
secondary category; their distributions in ``distribution``) -> answers (``samples`` chain-of-thought solutions per
question) -> graded (against the reference where the question has one, else by a vote of its samples over
equivalent answers) -> filtered (a final answer present, length, repetition) -> deduplicated (identical solutions)
-> training (chat messages for SFT and a pre-training text).

Every training row leads back through ``_parent_ids`` to its question and from there to its seed, and every
decision on the way is a rejected row with its reason or a column on the row (``graded_by``, ``target_answer``,
``vote_share``, ``difficulty``...). The bundled seeds (``data/seeds/seeds.jsonl``, 40 problems with answers) were
written for this project and are released with it under its licence (CC0 1.0 for the data).
"""

from pathlib import Path

from operators import FileSource, Pipeline, Sequential
from operators.general.filter.exact_dedup import ExactDedupFilter
from operators.general.refine.concat_rows import ConcatRowsRefiner
from operators.math.evaluate.math_category import MathCategoryEvaluator
from operators.math.evaluate.math_difficulty import MathDifficultyEvaluator
from operators.math.evaluate.math_distribution import MathDistributionEvaluator
from operators.math.filter.math_answer_format import MathAnswerFormatFilter
from operators.math.filter.math_answer_grade import MathAnswerGradeFilter
from operators.math.filter.math_answer_length import MathAnswerLengthFilter
from operators.math.filter.math_answer_repetition import MathAnswerRepetitionFilter
from operators.math.filter.math_contamination import MathContaminationFilter
from operators.math.filter.math_question_check import MathQuestionCheckFilter
from operators.math.filter.math_question_verify import MathQuestionVerifyFilter
from operators.math.generate.math_cot_answer import MathCotAnswerGenerator
from operators.math.generate.math_question_fusion import MathQuestionFusionGenerator
from operators.math.generate.math_question_synthesis import MathQuestionSynthesisGenerator
from operators.math.refine.math_to_chat import MathToChatRefiner
from operators.math.refine.math_to_pretrain_text import MathToPretrainTextRefiner

SAMPLE_DATA = Path(__file__).parent / "data" / "seeds"
INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."


class ReasoningMathPipeline(Pipeline):
    group = "reasoning_math"
    description = (
        "Math seed problems to graded chain-of-thought data: synthesize and fuse problems, verify, label, solve, grade "
        "by reference or vote, filter, dedup."
    )
    text_columns = ("question", "solution")

    def __init__(
        self,
        data_dir: Path | str = SAMPLE_DATA,
        *,
        samples: int = 4,
        new_per_seed: int = 2,
        fused_pairs: int = 10,
        temperature: float = 0.7,
        max_question_tokens: int = 512,
        max_solution_tokens: int = 1024,
        judge_questions: bool = True,
        benchmark_path: str | None = None,
        benchmark_column: str = "question",
    ) -> None:
        super().__init__()
        self.seeds = FileSource(
            path=str(data_dir),
            pattern="*.jsonl",
            columns={"question": "string", "answer": "string?", "id": "string?", "subject": "string?"},
        )
        self.synthesized = MathQuestionSynthesisGenerator(
            count=new_per_seed, temperature=temperature, max_tokens=max_question_tokens
        )
        self.fused = MathQuestionFusionGenerator(
            max_pairs=fused_pairs, temperature=temperature, max_tokens=max_question_tokens
        )
        self.questions = ConcatRowsRefiner()
        checks = [MathQuestionCheckFilter(), ExactDedupFilter()]
        if benchmark_path is not None:
            checks.append(MathContaminationFilter(benchmark_path=benchmark_path, benchmark_column=benchmark_column))
        if judge_questions:
            checks.append(MathQuestionVerifyFilter())
        self.verified = Sequential(
            *((check, {"input_key": "question"}) if isinstance(check, ExactDedupFilter) else check for check in checks)
        )
        self.labelled = Sequential(MathDifficultyEvaluator(), MathCategoryEvaluator())
        self.distribution = MathDistributionEvaluator()
        self.answers = MathCotAnswerGenerator(
            n=samples, temperature=temperature if samples > 1 else 0.0, max_tokens=max_solution_tokens
        )
        self.graded = MathAnswerGradeFilter()
        self.filtered = Sequential(
            MathAnswerFormatFilter(),
            MathAnswerLengthFilter(max_tokens=max_solution_tokens * 2),
            MathAnswerRepetitionFilter(),
        )
        self.deduplicated = ExactDedupFilter()
        self.training = Sequential(MathToChatRefiner(instruction=INSTRUCTION), MathToPretrainTextRefiner())

    def forward(self):
        seeds = self.seeds()
        questions = self.questions(seeds, self.synthesized(seeds), self.fused(seeds))
        questions = self.labelled(self.verified(questions))
        self.distribution(questions)
        answers = self.answers(questions)
        graded = self.graded(answers, input_answer_key="solution", input_reference_key="answer")
        kept = self.deduplicated(self.filtered(graded), input_key="solution")
        return self.training(kept)
