from __future__ import annotations

from typing import ClassVar

import polars as pl

from operators.base import Evaluator, OpResult, Read, Write
from operators.code.execution import ExecutionSettings, describe, run_rows
from operators.registry import register
from operators.sandbox.protocol import Sandbox


@register("code_execution_verdict")
class CodeExecutionVerdictEvaluator(Evaluator, ExecutionSettings):
    """Run each row's code and tests in the sandbox and record the verdict, without filtering.

    The same execution as ``code_execution`` (see it for the verdicts, the optional test and entry-point columns
    and why a pass is trustworthy); every row is kept with ``execution_verdict`` (``passed``, ``failed``,
    ``timeout``, ``memory``, ``crashed``, ``output_limit``, ``blocked``; null for a null program),
    ``execution_passed`` (a boolean, for pass@k and filters), ``execution_detail`` and ``execution_cpu_s``.
    """

    engines: ClassVar[tuple[str, ...]] = ("sandbox",)
    key_method: ClassVar[str] = "keys"
    key_docs = {
        "input_code_key": "the program (Python source)",
        "input_test_key": "tests run after the program (optional column)",
        "input_entry_point_key": "the function passed to check() (optional column)",
        "output_verdict_key": "the sandbox's verdict",
        "output_passed_key": "True when the tests provably ran to the end",
        "output_detail_key": "why, and the start of the captured output",
        "output_cpu_key": "CPU seconds the run used",
    }

    def keys(
        self,
        *,
        input_code_key: Read = "code",
        input_test_key: Read = "tests",
        input_entry_point_key: Read = "entry_point",
        output_verdict_key: Write = "execution_verdict",
        output_passed_key: Write = "execution_passed",
        output_detail_key: Write = "execution_detail",
        output_cpu_key: Write = "execution_cpu_s",
    ) -> None:
        """Key bindings only: the work is in ``run``."""

    def reads(self, keys: dict[str, str]) -> list[str]:
        return [keys["input_code_key"]]

    def run(self, *frames: pl.DataFrame, sandbox: Sandbox, **keys: str) -> OpResult:
        (df,) = frames
        bound = self.bind_keys(keys)
        results = run_rows(df, bound, sandbox, self, "code_execution_verdict")
        return OpResult(
            kept=df.with_columns(
                pl.Series(bound["output_verdict_key"], [r and r.verdict.value for r in results], pl.String),
                pl.Series(bound["output_passed_key"], [r and r.passed for r in results], pl.Boolean),
                pl.Series(bound["output_detail_key"], [describe(r, self.max_output_chars) for r in results], pl.String),
                pl.Series(bound["output_cpu_key"], [r and r.cpu_s for r in results], pl.Float64),
            )
        )
