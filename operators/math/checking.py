"""Checking answers against references in bulk: extraction here, sympy in bounded worker processes.

``check_pairs`` is what the ground-truth filter, the vote and the benchmark share. For each (reference, answer)
pair of texts (whole solutions or bare answers) it extracts and normalizes both final answers, decides without
sympy what it can (``quick_verdict``), sends each distinct remaining pair once to a :class:`WorkerPool`, and says
how each check ended: a :class:`CheckResult` with a reason when the answer is not accepted. A check that outlives
its time limit is ``math_check_timeout``, never "equivalent".
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from operators.math.answer import extract_answer, normalize_answer
from operators.math.equivalence import Verdict, quick_verdict
from operators.math.verify_pool import Outcome, WorkerPool, shared_pool

SYMPY_CHECK = "operators.math.sympy_check:sympy_verdict"


class Reason(StrEnum):
    """Why an answer is not accepted; the snake_case names are the filters' reject reasons."""

    REFERENCE_MISSING = "math_reference_missing"
    REFERENCE_UNPARSEABLE = "math_reference_unparseable"
    ANSWER_MISSING = "math_answer_missing"
    ANSWER_UNPARSEABLE = "math_answer_unparseable"
    MISMATCH = "math_answer_mismatch"
    TIMEOUT = "math_check_timeout"
    ERROR = "math_check_error"


class CheckSettings(BaseModel):
    """How equivalence is checked; operators that check answers take these as their parameters."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    timeout_s: float = Field(
        5.0, gt=0, le=600, description="Wall-clock limit of one check (parse and compare) in a worker process"
    )
    workers: int = Field(0, ge=0, le=64, description="Worker processes for the checks; 0 = one per CPU core, at most 4")
    float_rounding: int = Field(
        6, ge=1, le=15, description="Decimals to which numbers are rounded before comparing (math-verify's default)"
    )
    memory_mb: int = Field(2048, ge=256, description="Address-space limit of each worker process, in MiB")

    def check_settings(self) -> CheckSettings:
        """These settings alone (an operator that takes them is a subclass with more fields)."""
        return CheckSettings(**{name: getattr(self, name) for name in CheckSettings.model_fields})


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one pair: ``reason`` is None when the answer is equivalent to the reference."""

    reason: Reason | None
    answer: str | None
    reference: str | None
    answer_normalized: str | None
    reference_normalized: str | None
    note: str | None = None

    @property
    def equivalent(self) -> bool:
        return self.reason is None

    def detail(self) -> str:
        """Both extracted answers (and the normalized forms compared) as JSON, for ``_reject_detail``."""
        detail = {
            "answer": self.answer,
            "reference": self.reference,
            "answer_normalized": self.answer_normalized,
            "reference_normalized": self.reference_normalized,
        }
        if self.note:
            detail["note"] = self.note
        return json.dumps(detail, ensure_ascii=False)


_VERDICT_REASONS = {
    Verdict.EQUIVALENT: None,
    Verdict.DIFFERENT: Reason.MISMATCH,
    Verdict.REFERENCE_UNPARSEABLE: Reason.REFERENCE_UNPARSEABLE,
    Verdict.ANSWER_UNPARSEABLE: Reason.ANSWER_UNPARSEABLE,
}


def worker_count(settings: CheckSettings) -> int:
    return settings.workers or max(1, min(4, os.cpu_count() or 1))


def check_pool(settings: CheckSettings) -> WorkerPool:
    """The process's pool of sympy-check workers for these settings (started on first use, then kept)."""
    return shared_pool(
        SYMPY_CHECK,
        workers=worker_count(settings),
        timeout_s=settings.timeout_s,
        memory_mb=settings.memory_mb,
        warmup=("1", "1"),
    )


def final_answer(text: str | None) -> tuple[str | None, str | None]:
    """The extracted final answer of ``text`` and its normalized form."""
    extracted = extract_answer(text)
    return extracted, normalize_answer(extracted)


def verdicts(pairs: list[tuple[str, str]], settings: CheckSettings) -> dict[tuple[str, str], Outcome | Verdict]:
    """A verdict per distinct pair of normalized (reference, answer): quick ones directly, the rest from workers."""
    decided: dict[tuple[str, str], Outcome | Verdict] = {}
    for pair in pairs:
        if pair not in decided:
            quick = quick_verdict(*pair, settings.float_rounding)
            if quick is not None:
                decided[pair] = quick
    remaining = list(dict.fromkeys(pair for pair in pairs if pair not in decided))
    if remaining:
        outcomes = check_pool(settings).run([(*pair, settings.float_rounding) for pair in remaining])
        decided.update(zip(remaining, outcomes, strict=True))
    return decided


def _result(outcome: Outcome | Verdict) -> tuple[Reason | None, str | None]:
    if isinstance(outcome, Verdict):
        return _VERDICT_REASONS[outcome], None
    if outcome.status == "ok":
        return _VERDICT_REASONS[Verdict(outcome.value)], None
    if outcome.status == "timeout":
        return Reason.TIMEOUT, f"no verdict within {outcome.seconds:.1f} s"
    return Reason.ERROR, f"{outcome.status}: {outcome.value}"


def check_pairs(references: list[str | None], answers: list[str | None], settings: CheckSettings) -> list[CheckResult]:
    """One :class:`CheckResult` per (reference, answer) pair of texts."""
    refs = [final_answer(text) for text in references]
    outs = [final_answer(text) for text in answers]
    to_check = [
        (ref[1], out[1])
        for text, ref, out in zip(references, refs, outs, strict=True)
        if text and text.strip() and ref[1] and out[1]
    ]
    decided = verdicts(to_check, settings)
    results = []
    for text, (ref, ref_norm), (out, out_norm) in zip(references, refs, outs, strict=True):
        if text is None or not text.strip():
            reason, note = Reason.REFERENCE_MISSING, None
        elif ref_norm is None:
            reason, note = Reason.REFERENCE_UNPARSEABLE, "no final answer found in the reference"
        elif out_norm is None:
            reason, note = Reason.ANSWER_MISSING, None
        else:
            reason, note = _result(decided[(ref_norm, out_norm)])
        results.append(CheckResult(reason, out, ref, out_norm, ref_norm, note))
    return results


VOTE_REASONS = (Reason.ANSWER_MISSING.value, "math_vote_tie", "math_vote_minority", "math_vote_weak")
"""A voted sample's reject reasons: no final answer, no majority, not in the majority, too small a majority."""


@dataclass(frozen=True)
class VoteResult:
    """One sample's part in its group's vote."""

    answer: str | None
    """The sample's extracted final answer."""
    winner: str | None
    """The majority answer (the extracted text of its most frequent form); None on a tie or with no answers."""
    share: float
    """Samples in the majority class over all samples of the group (those without an answer count against it)."""
    agrees: bool
    """The sample's answer is in the majority class."""
    tie: bool
    """Another class has as many samples as the majority class."""
    note: str | None = None

    def reason(self, min_share: float) -> str | None:
        """Why the sample is not kept (one of ``VOTE_REASONS``, in that order of precedence), or None."""
        if self.answer is None:
            return Reason.ANSWER_MISSING.value
        if self.tie:
            return "math_vote_tie"
        if not self.agrees:
            return "math_vote_minority"
        return "math_vote_weak" if self.share < min_share else None


def vote(groups: list[list[str | None]], settings: CheckSettings) -> list[list[VoteResult]]:
    """Majority vote over equivalent answers within each group of solutions (the samples of one question).

    Answers are grouped into classes of equivalent answers, not of identical strings: distinct normalized answers
    are taken from the most frequent, and each joins the first class whose representative it is equivalent to
    (so classes never chain through a run of near-equal numbers). All comparisons of all groups go to the workers
    as one batch; a comparison that times out or fails counts as "not equivalent" and is noted.
    """
    extracted = [[final_answer(text) for text in group] for group in groups]
    orders = [_by_frequency([norm for _, norm in group]) for group in extracted]
    pairs = [(a, b) for order in orders for i, a in enumerate(order) for b in order[i + 1 :]]
    decided = verdicts(pairs, settings)
    results = []
    for group, order in zip(extracted, orders, strict=True):
        counts = {form: sum(norm == form for _, norm in group) for form in order}
        classes: list[list[str]] = []
        failed = []
        for form in order:
            for members in classes:
                reason, note = _result(decided[(members[0], form)])
                if note and reason in (Reason.TIMEOUT, Reason.ERROR):
                    failed.append(f"{members[0]!r} vs {form!r}: {note}")
                if reason is None:
                    members.append(form)
                    break
            else:
                classes.append([form])
        sizes = [sum(counts[form] for form in members) for members in classes]
        best = max(range(len(classes)), key=lambda i: sizes[i]) if classes else None
        winner_forms = set(classes[best]) if best is not None else set()
        winner = next((raw for raw, norm in group if norm == classes[best][0]), None) if best is not None else None
        tie = best is not None and sizes.count(sizes[best]) > 1
        winner = None if tie else winner
        share = sizes[best] / len(group) if best is not None else 0.0
        note = "; ".join(failed) or None
        results.append([VoteResult(raw, winner, share, norm in winner_forms, tie, note) for raw, norm in group])
    return results


def _by_frequency(forms: list[str | None]) -> list[str]:
    """Distinct non-null forms, most frequent first (ties in order of first appearance)."""
    present = [form for form in forms if form is not None]
    return sorted(dict.fromkeys(present), key=lambda form: -present.count(form))
