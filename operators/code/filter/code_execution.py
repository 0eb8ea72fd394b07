from __future__ import annotations

from typing import ClassVar

import polars as pl
from pydantic import Field

from operators.base import Filter, OpResult, Read, Rule, apply_prepared_rules
from operators.code.execution import ExecutionSettings, describe, run_rows
from operators.registry import register
from operators.sandbox.protocol import Sandbox, Verdict

_VERDICT, _DETAIL, _CPU = "__sandbox_verdict", "__sandbox_detail", "__sandbox_cpu_s"


@register("code_execution")
class CodeExecutionFilter(Filter, ExecutionSettings):
    """Keep rows whose code passes its tests in the sandbox; reject the others as ``sandbox_<verdict>``.

    Each row's program is its code with its tests run after it in the same interpreter and, when the row names an
    entry point, ``check(<entry point>)`` called last (HumanEval's convention; MBPP-style bare ``assert`` lines
    need no entry point). A row passes only on the sandbox harness's proof that the last test statement
    completed: an exit status, "passed" on stdout or an early ``sys.exit(0)`` does not count (see
    ``resources/sandbox/harness.py``). Rejections: ``sandbox_failed`` (an exception or failed assertion, a syntax
    error, an early exit), ``sandbox_timeout``, ``sandbox_memory``, ``sandbox_crashed``, ``sandbox_output_limit``,
    ``sandbox_blocked`` (a forbidden action, tampering with the tests), ``sandbox_no_code`` (a null code value) and,
    with ``require_tests``, ``sandbox_no_tests``; the detail says why and holds the start of the captured stdout and
    stderr; the score is the run's CPU seconds.

    The test and entry-point columns are optional: a frame without them, or a null value, means no tests (the
    program must then run to its end without error) or no entry point. Only Python is executed.

    Unlike DataFlow's ``CodeSandboxEvaluator``, which ``exec``s every snippet in one shared worker with no limits and
    counts "no exception" as a pass, every program runs in its own bubblewrap sandbox with kernel-enforced limits.
    """

    engines: ClassVar[tuple[str, ...]] = ("sandbox",)
    row_local: ClassVar[bool] = True
    key_docs = {
        "input_code_key": "the program (Python source)",
        "input_test_key": "tests run after the program: asserts, or a check(candidate) function (optional column)",
        "input_entry_point_key": "the function passed to check() (optional column)",
    }
    references = ("Chen et al. 2021, Evaluating Large Language Models Trained on Code (HumanEval), arXiv:2107.03374",)
    example = (
        "sandbox = SandboxResource().build_client()  # resources.sandbox.resource\n"
        'result = CodeExecutionFilter(cpu_s=5).run(df, sandbox=sandbox, input_code_key="solution", '
        'input_test_key="test")\n'
        "result.kept, result.rejected  # rejected rows carry _reject_rule = sandbox_<verdict> and the output"
    )

    require_tests: bool = Field(
        False, description="Reject rows without tests (sandbox_no_tests) instead of running them"
    )

    def reads(self, keys: dict[str, str]) -> list[str]:
        return [keys["input_code_key"]]  # the test and entry-point columns are optional (module docstring)

    def rules(
        self,
        *,
        input_code_key: Read = "code",
        input_test_key: Read = "tests",
        input_entry_point_key: Read = "entry_point",
    ) -> dict[str, Rule]:
        verdict, cpu = pl.col(_VERDICT), pl.col(_CPU).alias("sandbox_cpu_s")
        rules = {
            "sandbox_no_code": Rule(score=cpu, keep=verdict != "no_code", detail=pl.col(_DETAIL)),
            "sandbox_no_tests": Rule(score=cpu, keep=verdict != "no_tests", detail=pl.col(_DETAIL)),
        }
        for outcome in Verdict:
            if outcome is not Verdict.PASSED:
                rules[f"sandbox_{outcome}"] = Rule(score=cpu, keep=verdict != outcome.value, detail=pl.col(_DETAIL))
        return rules

    def run(self, *frames: pl.DataFrame, sandbox: Sandbox, **keys: str) -> OpResult:
        (df,) = frames
        bound = self.bind_keys(keys)
        code = pl.col(bound["input_code_key"])
        status = df.select(
            pl.when(code.is_null())
            .then(pl.lit("no_code"))
            .when(self._missing_tests(df, bound))
            .then(pl.lit("no_tests"))
        ).to_series()
        runnable = df.with_columns(pl.when(status.is_null()).then(code).alias("__program"))
        results = run_rows(runnable, {**bound, "input_code_key": "__program"}, sandbox, self, "code_execution")
        outcomes = [
            (
                reason,
                {"no_code": "the code is null", "no_tests": "the row has no tests"}[reason],
                None,
            )
            if reason is not None
            else (result.verdict.value, describe(result, self.max_output_chars), result.cpu_s)
            for reason, result in zip(status, results, strict=True)
        ]
        verdicts, details, cpu = zip(*outcomes, strict=True) if outcomes else ((), (), ())
        prepared = df.with_columns(
            pl.Series(_VERDICT, list(verdicts), pl.String),
            pl.Series(_DETAIL, list(details), pl.String),
            pl.Series(_CPU, list(cpu), pl.Float64),
        )
        return apply_prepared_rules(df, prepared, self.rules(**bound))

    def _missing_tests(self, df: pl.DataFrame, keys: dict[str, str]) -> pl.Expr:
        if not self.require_tests:
            return pl.lit(False)
        column = keys["input_test_key"]
        if column not in df.columns:
            return pl.lit(True)
        return pl.col(column).is_null() | (pl.col(column).cast(pl.String).str.strip_chars() == "")
