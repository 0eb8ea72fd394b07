"""What ``code_execution`` and ``code_execution_verdict`` share: a sandbox job per row, run in parallel.

A row's program is its code column; its tests are the test column and its entry point the entry-point column when
those columns exist and the row's value is not null. The two are optional so that one operator serves rows with
tests (HumanEval's ``check(candidate)``, MBPP's bare asserts) and rows without (the program must then just run to
its end): the framework's keys name existing columns, so ``reads()`` lists only the code column and the others
are looked up in the frame at run time. Rows without tests can be refused instead (``require_tests``).
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl
from pydantic import BaseModel, Field

from operators.progress import track
from operators.sandbox.protocol import Sandbox, SandboxJob, SandboxLimits, SandboxResult


class ExecutionSettings(BaseModel):
    """The parameters both execution operators take."""

    cpu_s: float | None = Field(None, gt=0, description="CPU seconds per program; None: the sandbox engine's limit")
    wall_s: float | None = Field(None, gt=0, description="Wall-clock seconds per program; None: the engine's limit")
    memory_mb: int | None = Field(None, ge=64, description="Address space per program, MiB; None: the engine's")
    max_output_chars: int = Field(
        2000, ge=0, description="Characters of the program's stdout and stderr kept in the detail of a row"
    )

    def limits(self, sandbox: Sandbox) -> SandboxLimits | None:
        overrides = {k: v for k in ("cpu_s", "wall_s", "memory_mb") if (v := getattr(self, k)) is not None}
        if not overrides:
            return None
        return replace(sandbox.limits, **overrides)


def optional_column(df: pl.DataFrame, name: str) -> list[str | None]:
    """The column's values, or all None where the frame has no such column."""
    return df[name].cast(pl.String).to_list() if name in df.columns else [None] * df.height


def run_rows(
    df: pl.DataFrame, keys: dict[str, str], sandbox: Sandbox, settings: ExecutionSettings, label: str
) -> list[SandboxResult | None]:
    """One result per row; None for a row that has no code (null)."""
    code = df[keys["input_code_key"]].to_list()
    tests = optional_column(df, keys["input_test_key"])
    entry_points = optional_column(df, keys["input_entry_point_key"])
    limits = settings.limits(sandbox)
    indexes = [i for i, program in enumerate(code) if program is not None]
    jobs = [SandboxJob(code[i], tests[i], entry_points[i] or None, limits=limits) for i in indexes]
    tracker = track(label, len(jobs))
    results = sandbox.run_many(jobs, on_result=lambda _, result: tracker.advance(errors=int(not result.passed)))
    by_row: list[SandboxResult | None] = [None] * df.height
    for index, result in zip(indexes, results, strict=True):
        by_row[index] = result
    return by_row


def describe(result: SandboxResult | None, max_chars: int) -> str:
    """A rejected row's detail: why, then the start of what the program printed."""
    if result is None:
        return "no code"
    parts = [result.detail or ("" if result.passed else str(result.verdict))]
    for name, text in (("stdout", result.stdout), ("stderr", result.stderr)):
        if text and max_chars:
            parts.append(f"{name}: {text[:max_chars]}")
    return " | ".join(part for part in parts if part)
