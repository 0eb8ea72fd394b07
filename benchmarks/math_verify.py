"""Answer checks per CPU-second: ``math_answer_ground_truth`` against math-verify called directly; vote agreement.

Part 1 runs the same (reference, answer) pairs through

* ``direct``: ``verify(parse(reference), parse(answer))`` in this process, math-verify's defaults (its own
  ``signal.alarm`` time limits on), on the texts as they are;
* ``direct_wrapped``: the same, with every bare answer (no ``$``, no ``\\boxed``, under 100 characters) wrapped in
  ``$...$`` so that math-verify's extraction can find it: how a user would call it on bare LaTeX;
* ``operator``: ``MathAnswerGroundTruthFilter(timeout_s=5)`` on a polars frame of the pairs: extraction and the
  answers it decides without sympy in this process, the rest in its worker processes, each check under the time
  limit. Its CPU seconds are this process's plus every worker's (``time.process_time`` in the worker, reported
  with each answer), start-up (interpreter, imports, warm-up) included: each repeat starts a fresh pool.

on three pair sets: ``workload`` (generated, ``--workload`` pairs: model solutions in a MATH/GSM8K-style mix
of answer types against references, a third of them wrong; see ``workload``), ``labelled``
(tests/operators/math/data/answer_pairs.jsonl: bare answers and whole solutions over every category, written to
probe the edges) and ``solutions`` (the same pairs with each bare answer written as a model would, "... the answer
is $\\boxed{...}$.", the reference left bare; pairs that already hold a whole solution unchanged). For each it
reports checks per CPU-second, the ratio operator / direct, and how often each method agrees with the labels.

Part 2 votes on tests/operators/math/data/vote_groups.jsonl (groups of sampled answers to one question with the
correctness of each sample known by construction) with ``math_answer_vote`` and with exact-string voting on the
extracted answers (DataFlow's ``ReasoningPseudoAnswerGenerator``), and reports how often the pseudo-answer agrees
with the reference where the correct samples are the majority (ideal: always) and where they are not (ideal:
never).

    .venv/bin/python benchmarks/math_verify.py              # 2 repeats, about 3 minutes on 2 busy cores
    .venv/bin/python benchmarks/math_verify.py --repeat 1   # a quick check
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import sys
import time
from collections import Counter
from pathlib import Path
from statistics import median

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
# This file's name is the package it measures: its folder must not shadow math_verify on the import path.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent)]

from benchmarks.machine import describe  # noqa: E402
from operators.math.answer import extract_answer, normalize_answer  # noqa: E402
from operators.math.checking import CheckSettings, check_pool  # noqa: E402
from operators.math.filter.math_answer_ground_truth import MathAnswerGroundTruthFilter  # noqa: E402
from operators.math.filter.math_answer_vote import MathAnswerVoteFilter  # noqa: E402

DATA = ROOT / "tests" / "operators" / "math" / "data"
RESULTS = ROOT / "benchmarks" / "results"
TIMEOUT_S = 5.0
SOLUTION_CATEGORIES = ("solution", "reference_solution")


def load(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text().splitlines()]


def as_solution(answer: str) -> str:
    return f"Working through the problem step by step, the answer is $\\boxed{{{answer}}}$."


def is_bare(text: str) -> bool:
    return "$" not in text and "\\boxed" not in text and len(text) < 100


def workload(count: int, seed: int = 0) -> list[dict]:
    """Model solutions against dataset references in the mix of a MATH/GSM8K-style set (mostly numbers, some
    fractions, radicals, intervals, sets, expressions and choice letters), each a few sentences of working ending
    in a final answer written one of several ways; about a third are wrong (a changed number). Labels are known
    by construction: the right answers are written in forms equivalent to the reference."""
    rng = random.Random(seed)

    def integer():
        n = rng.randint(2, 5000)
        return str(n), rng.choice([str(n), f"{n:,}", f"{n}.0"]), str(n + rng.randint(1, 9))

    def decimal():
        cents = rng.randint(101, 99999)
        value = f"{cents / 100:.2f}"
        return value.rstrip("0").rstrip("."), rng.choice([value, f"\\${value}"]), f"{(cents + 7) / 100:.2f}"

    def fraction():
        a, b = rng.randint(1, 12), rng.randint(13, 40)
        g = math.gcd(a, b)
        written = rng.choice([f"\\dfrac{{{a}}}{{{b}}}", f"{a}/{b}"])
        return f"\\frac{{{a // g}}}{{{b // g}}}", written, f"\\frac{{{a + 1}}}{{{b}}}"

    def radical():
        k, r = rng.randint(2, 9), rng.choice([2, 3, 5, 6, 7])
        return f"{k}\\sqrt{{{r}}}", rng.choice([f"\\sqrt{{{k * k * r}}}", f"{k}\\sqrt{r}"]), f"{k + 1}\\sqrt{{{r}}}"

    def with_pi():
        k = rng.randint(2, 50)
        return f"{k}\\pi", rng.choice([f"{k}\\pi", f"\\pi \\cdot {k}"]), f"{k + 2}\\pi"

    def interval():
        a, b = sorted(rng.sample(range(-20, 20), 2))
        return f"({a}, {b}]", rng.choice([f"({a},{b}]", f"\\left({a}, {b}\\right]"]), f"[{a}, {b}]"

    def solution_set():
        a, b = rng.sample(range(-15, 15), 2)
        return f"\\{{{a}, {b}\\}}", f"\\{{{b}, {a}\\}}", f"\\{{{a}, {b + 1}\\}}"

    def expression():
        a = rng.randint(1, 9)
        return f"(x+{a})^2", f"x^2 + {2 * a}x + {a * a}", f"x^2 + {a * a}"

    def choice():
        letter = rng.choice("ABCDE")
        return letter, f"({letter})", rng.choice([c for c in "ABCDE" if c != letter])

    kinds = [integer] * 55 + [decimal] * 10 + [fraction] * 12 + [radical] * 5 + [with_pi] * 3 + [interval] * 5
    kinds += [solution_set] * 3 + [expression] * 4 + [choice] * 3
    pairs = []
    for i in range(count):
        reference, right, wrong = rng.choice(kinds)()
        correct = rng.random() > 0.33
        final = right if correct else wrong
        steps = " ".join(
            f"Step {k}: {rng.randint(2, 99)} + {rng.randint(2, 99)} gives a partial result we keep for later."
            for k in range(1, rng.randint(3, 7))
        )
        ending = rng.choice(
            [f"Therefore, the final answer is $\\boxed{{{final}}}$.", f"The answer is ${final}$.", f"#### {final}"]
        )
        pairs.append({"id": f"w{i:04d}", "answer": f"{steps}\n{ending}", "reference": reference, "equivalent": correct})
    return pairs


def pair_sets(rows: list[dict], workload_size: int) -> dict[str, list[dict]]:
    solutions = [
        {**row, "answer": row["answer"] if row["category"] in SOLUTION_CATEGORIES else as_solution(row["answer"])}
        for row in rows
    ]
    return {"workload": workload(workload_size), "labelled": rows, "solutions": solutions}


def run_direct(pairs: list[dict], wrap: bool) -> tuple[float, list[bool]]:
    from math_verify import parse, verify

    def text(value: str) -> str:
        return f"${value}$" if wrap and is_bare(value) else value

    start = time.process_time()
    verdicts = [bool(verify(parse(text(p["reference"])), parse(text(p["answer"])))) for p in pairs]
    return time.process_time() - start, verdicts


def run_operator(pairs: list[dict]) -> tuple[float, float, list[bool]]:
    """(CPU seconds of this process, CPU seconds of the workers, verdicts), with a freshly started pool."""
    pool = check_pool(CheckSettings(timeout_s=TIMEOUT_S))
    pool.close()  # every repeat pays the workers' start-up
    before = pool.worker_cpu_seconds()
    df = pl.DataFrame(
        {
            "_row_id": [p["id"] for p in pairs],
            "answer": [p["answer"] for p in pairs],
            "reference": [p["reference"] for p in pairs],
        }
    )
    start = time.process_time()
    result = MathAnswerGroundTruthFilter(timeout_s=TIMEOUT_S).run(
        df, input_answer_key="answer", input_reference_key="reference"
    )
    parent = time.process_time() - start
    pool.close()  # the workers' last CPU figures come in with their last answers; closing adds them up
    kept = set(result.kept["_row_id"])
    return parent, pool.worker_cpu_seconds() - before, [p["id"] in kept for p in pairs]


def agreement(pairs: list[dict], verdicts: list[bool]) -> float:
    return sum(v == p["equivalent"] for v, p in zip(verdicts, pairs, strict=True)) / len(pairs)


def checks(repeat: int, workload_size: int) -> dict:
    logging.getLogger("math_verify").setLevel(logging.ERROR)
    results = {}
    for name, pairs in pair_sets(load("answer_pairs.jsonl"), workload_size).items():
        runs: dict[str, list[float]] = {"direct": [], "direct_wrapped": [], "operator": [], "operator_workers": []}
        verdicts: dict[str, list[bool]] = {}
        for _ in range(repeat):
            for method, wrap in (("direct", False), ("direct_wrapped", True)):
                cpu, verdicts[method] = run_direct(pairs, wrap)
                runs[method].append(cpu)
            parent, workers, verdicts["operator"] = run_operator(pairs)
            runs["operator"].append(parent + workers)
            runs["operator_workers"].append(workers)
        cpu = {method: median(values) for method, values in runs.items()}
        results[name] = {
            "pairs": len(pairs),
            "cpu_s": {k: round(v, 3) for k, v in cpu.items()},
            "checks_per_cpu_s": {m: round(len(pairs) / cpu[m], 1) for m in ("direct", "direct_wrapped", "operator")},
            "ratio_operator_vs_direct": round(cpu["direct"] / cpu["operator"], 2),
            "ratio_operator_vs_direct_wrapped": round(cpu["direct_wrapped"] / cpu["operator"], 2),
            "agreement_with_labels": {m: round(agreement(pairs, v), 4) for m, v in verdicts.items()},
            "runs": runs,
        }
    return results


def string_vote(samples: list[str]) -> str | None:
    """DataFlow's pseudo-answer: the most common extracted answer string (the first seen among equals)."""
    answers = [normalize_answer(extract_answer(s)) for s in samples]
    counted = Counter(a for a in answers if a is not None)
    return counted.most_common(1)[0][0] if counted else None


def votes() -> dict:
    groups = load("vote_groups.jsonl")
    rows = [(f"{g['id']}-{i}", [g["id"]], sample) for g in groups for i, sample in enumerate(g["samples"])]
    df = pl.DataFrame(
        rows, schema={"_row_id": pl.String, "_parent_ids": pl.List(pl.String), "solution": pl.String}, orient="row"
    )
    start = time.process_time()
    result = MathAnswerVoteFilter(min_share=0.0).run(df)
    cpu = time.process_time() - start
    voted = pl.concat([result.kept, result.rejected], how="diagonal_relaxed")
    winner = dict(zip(voted["_row_id"].str.replace(r"-\d+$", ""), voted["pseudo_answer"], strict=True))
    report: dict[str, dict] = {}
    for majority in ("correct", "wrong"):
        chosen = [g for g in groups if g["majority"] == majority]
        correct_forms = [
            {normalize_answer(extract_answer(s)) for s, ok in zip(g["samples"], g["correct"], strict=True) if ok}
            | {normalize_answer(g["reference"])}
            for g in chosen
        ]

        def right(pseudo: str | None, forms: set) -> bool:
            return normalize_answer(pseudo) in forms if pseudo is not None else False

        by_equivalence = [right(winner[g["id"]], f) for g, f in zip(chosen, correct_forms, strict=True)]
        by_string = [right(string_vote(g["samples"]), f) for g, f in zip(chosen, correct_forms, strict=True)]
        report[f"majority_{majority}"] = {
            "groups": len(chosen),
            "pseudo_answer_equals_reference": {
                "math_answer_vote": round(sum(by_equivalence) / len(chosen), 4),
                "exact_string_vote": round(sum(by_string) / len(chosen), 4),
            },
        }
    report["samples"] = df.height
    report["cpu_s"] = round(cpu, 3)
    return report


def markdown(results: dict, vote: dict, machine: dict) -> str:
    lines = [
        "# math_answer_ground_truth vs math-verify called directly",
        "",
        f"Machine: {machine['nproc']} CPUs ({machine['cpu_model']}), load {machine['load_average_1_5_15_min']}; "
        f"math-verify {machine['math-verify']}, sympy {machine['sympy']}, polars {machine['polars']}. "
        "Re-run: `.venv/bin/python benchmarks/math_verify.py`.",
        "",
        "Checks per CPU-second (median of the repeats; the operator's CPU includes its worker processes and their "
        f"start-up, with a {TIMEOUT_S:.0f} s limit on every check), and agreement with the labels:",
        "",
        "| pair set | pairs | direct | direct, bare answers in `$...$` | operator | operator / direct | "
        "operator / direct-wrapped | agreement: direct / wrapped / operator |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, r in results.items():
        rate, agree = r["checks_per_cpu_s"], r["agreement_with_labels"]
        lines.append(
            f"| {name} | {r['pairs']} | {rate['direct']} | {rate['direct_wrapped']} | {rate['operator']} | "
            f"{r['ratio_operator_vs_direct']}x | {r['ratio_operator_vs_direct_wrapped']}x | "
            f"{agree['direct']:.1%} / {agree['direct_wrapped']:.1%} / {agree['operator']:.1%} |"
        )
    lines += [
        "",
        "`direct` is math-verify's `verify(parse(reference), parse(answer))` on the texts as they are; on bare "
        "LaTeX answers (`\\{1,2\\}`, `\\begin{pmatrix}...`) its extraction finds nothing or a fragment, which "
        "is cheap and wrong, hence its speed and its agreement on `labelled`. `direct-wrapped` puts bare answers in "
        "`$...$` so that it reads them. The operator decides plain numbers, sets, intervals, matrices, letters and "
        "words without sympy and sends the rest to its workers; `workload` (model solutions against references in "
        "a MATH/GSM8K-style mix) is the typical case.",
        "",
        "Vote (`math_answer_vote`, equivalence classes) against exact-string voting on the extracted answers, "
        f"{vote['samples']} sampled answers in {vote['majority_correct']['groups'] + vote['majority_wrong']['groups']}"
        " groups; share of groups whose pseudo-answer equals the reference:",
        "",
        "| groups | ideal | math_answer_vote | exact-string vote |",
        "|---|---:|---:|---:|",
    ]
    for key, ideal in (("majority_correct", "100%"), ("majority_wrong", "0%")):
        v = vote[key]["pseudo_answer_equals_reference"]
        label = "correct samples are the majority" if key == "majority_correct" else "wrong samples are the majority"
        shares = f"{v['math_answer_vote']:.1%} | {v['exact_string_vote']:.1%}"
        lines.append(f"| {label} ({vote[key]['groups']}) | {ideal} | {shares} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--workload", type=int, default=2000, help="pairs in the generated MATH/GSM8K-style set")
    args = parser.parse_args()
    results = checks(args.repeat, args.workload)
    vote = votes()
    machine = describe("math-verify", "sympy", "polars")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "math_verify.json").write_text(
        json.dumps({"checks": results, "vote": vote, "machine": machine}, indent=2) + "\n"
    )
    (RESULTS / "math_verify.md").write_text(markdown(results, vote, machine))
    print(markdown(results, vote, machine))


if __name__ == "__main__":
    main()
