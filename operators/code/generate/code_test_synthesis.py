from __future__ import annotations

import ast
from typing import Any, ClassVar

import polars as pl
from pydantic import Field

from operators.base import Category, OpResult, Write
from operators.code.languages import extract_code
from operators.llm.base import AnswerError, LLMOperator
from operators.llm.prompt import PromptTemplate
from operators.llm.protocol import LLM, LLMResult
from operators.registry import register

TESTS_PROMPT = PromptTemplate(
    name="code_test_synthesis",
    version="1",
    system="You write unit tests as plain Python assert statements. Reply with one code block and nothing else.",
    template=(
        "Task:\n{{ instruction }}\n\nSolution:\n```python\n{{ code }}\n```\n\n"
        "Write 3 to 6 assert statements that check the solution against the task, calling its functions by "
        "their names with concrete arguments and expected results, edge cases included. No imports of test "
        "frameworks, no prints, no function definitions."
    ),
)


@register("code_test_synthesis")
class CodeTestSynthesisGenerator(LLMOperator):
    """Write tests for code that has none: ``assert`` statements derived from the task, run later in the sandbox.

    Only rows whose test column is missing or null are sent to the model (``only_missing``); rows with tests keep
    theirs. The answer's code block must parse and hold at least ``min_asserts`` ``assert`` statements, else it is
    unusable (``llm_unparseable_answer``). Tests come from the task, not from running the code, so a wrong solution
    fails them: that is what ``code_execution`` then finds out. As in CodeT (Chen et al. 2023) and DataFlow's
    code pipeline.
    """

    category: ClassVar[Category] = Category.GENERATE
    key_docs = {"output_key": "the tests: assert statements calling the code's functions"}
    references = ("Chen et al. 2023, CodeT: Code Generation with Generated Tests, arXiv:2207.10397",)

    prompt: PromptTemplate = Field(TESTS_PROMPT, description="The prompt; reads 'instruction' and 'code'")
    min_asserts: int = Field(2, ge=1, description="Fewest assert statements a usable answer holds")
    only_missing: bool = Field(True, description="Ask only for rows without tests; keep existing tests")
    max_tokens: int = Field(384, ge=1, description="Most tokens to generate per answer")

    def parse(self, result: LLMResult, row: dict[str, Any], *, output_key: Write = "tests") -> dict[str, Any]:
        tests = extract_code(result.text or "", "python")
        try:
            tree = ast.parse(tests)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
            raise AnswerError(f"the tests do not parse: {type(error).__name__}: {error}") from None
        asserts = sum(isinstance(node, ast.Assert) for node in ast.walk(tree))
        if asserts < self.min_asserts:
            raise AnswerError(f"{asserts} assert statement(s), fewer than min_asserts={self.min_asserts}")
        return {output_key: tests}

    def run(self, *frames: pl.DataFrame, llm: LLM, **keys: str) -> OpResult:
        (df,) = frames
        column = self.bind_keys(keys)["output_key"]
        if not self.only_missing or column not in df.columns:
            return super().run(df, llm=llm, **keys)
        has_tests = pl.col(column).is_not_null() & (pl.col(column).str.strip_chars() != "")
        asked = super().run(df.filter(~has_tests), llm=llm, **keys)
        return OpResult(kept=pl.concat([df.filter(has_tests), asked.kept], how="diagonal_relaxed"),
                        rejected=asked.rejected, scores=asked.scores)  # fmt: skip
