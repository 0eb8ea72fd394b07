"""Overhead benchmark: what running a pipeline as Dagster assets on Delta tables costs over plain polars calls.

The same 10-step heuristic pipeline runs on a generated JSONL corpus in three variants, each in a fresh
subprocess of its own so that peak memory is that variant's alone:

* ``plain``: ``pl.read_ndjson``, the ten operators called one after the other, one ``write_delta`` of the kept
  rows at the end (no rejected rows, scores or lineage). What a user would write without the framework.
* ``assets``: ``materialize_pipeline`` of the pipeline: eleven assets (source + ten steps) executed in-process by
  Dagster, every step's output (and a filter's rejected rows and scores) stored as Delta tables.
* ``stage``: the same ten operators in one ``Sequential`` stage: two assets (source + stage), so two Delta
  round trips instead of eleven.

Timed: the pipeline's work, from reading the corpus to the final Delta commit. Not timed but reported: the
setup (imports, tracing, the Dagster instance). Generating the corpus is neither. All three variants must end
with the same rows, or the benchmark fails.

Ratios are given in wall time (the target's measure) and in CPU seconds, which a busy shared machine disturbs less;
the results quote the ratios of the results they replace, and ``--note`` says what changed since.

Run: ``.venv/bin/python benchmarks/overhead.py [--rows 100000] [--repeat 3] [--note TEXT]``; results go to
``benchmarks/results/overhead.{json,md}``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import machine
import polars as pl

from operators import (
    BoundOperator,
    ColumnExpressionRefiner,
    Dataset,
    ExactDedupFilter,
    FileSource,
    NormalizeTextRefiner,
    Pipeline,
    Sequential,
    TextStatsEvaluator,
    TracedPipeline,
    WordCountFilter,
)
from operators.columns import ROW_ID
from operators.sources.readers import row_tag

if TYPE_CHECKING:
    import dagster as dg

    from dataflow_assets.runner import RunSummary

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
RESULTS = HERE / "results"
TARGET_RATIO = 1.3
VARIANTS = ("plain", "assets", "stage")
LABELS = {
    "plain": "(a) plain polars calls",
    "assets": "(b) 11 assets via Dagster + Delta",
    "stage": "(b2) 1 Sequential stage via Dagster + Delta",
}

# --- the pipeline ---


class OverheadPipeline(Pipeline):
    """Ten cheap heuristic steps on one JSONL file: the kind of pipeline where per-step overhead shows most."""

    group = "overhead"

    def __init__(self, corpus: Path) -> None:
        super().__init__()
        self.raw = corpus_source(corpus)
        self.normalize = NormalizeTextRefiner()
        self.stats = TextStatsEvaluator()
        self.length = WordCountFilter(min_words=20, max_words=500)
        self.chars_per_word = ColumnExpressionRefiner(expression="char_count / word_count")
        self.alpha_ratio = ColumnExpressionRefiner(
            expression="length(regexp_replace(text, '[^A-Za-z]+', '', 'g')) / char_count"
        )
        self.line_breaks = ColumnExpressionRefiner(expression="length(text) - length(replace(text, '\n', ''))")
        self.lead = ColumnExpressionRefiner(expression="split_part(text, '\n\n', 1)")
        self.dedup = ExactDedupFilter()
        self.quality = ColumnExpressionRefiner(
            expression="alpha_ratio * 10 - abs(chars_per_word - 5) - line_breaks / word_count"
        )
        self.lead_length = WordCountFilter(min_words=8)

    def forward(self) -> Dataset:
        docs = self.raw()
        docs = self.normalize(docs, input_key="text", output_key="text")
        docs = self.stats(docs, input_key="text")
        docs = self.length(docs, input_key="text")
        docs = self.chars_per_word(docs, output_key="chars_per_word")
        docs = self.alpha_ratio(docs, output_key="alpha_ratio")
        docs = self.line_breaks(docs, output_key="line_breaks")
        docs = self.lead(docs, output_key="lead")
        docs = self.dedup(docs, input_key="text")
        docs = self.quality(docs, output_key="quality")
        return self.lead_length(docs, input_key="lead")


class OverheadStagePipeline(Pipeline):
    """The same ten steps as one ``Sequential`` stage: the design's answer for cheap operators."""

    group = "overhead_stage"

    def __init__(self, corpus: Path) -> None:
        super().__init__()
        self.raw = corpus_source(corpus)
        self.heuristics = Sequential(*((step.op, step.keys) for step in heuristic_steps(corpus)))

    def forward(self) -> Dataset:
        return self.heuristics(self.raw())


def corpus_source(corpus: Path) -> FileSource:
    return FileSource(path=str(corpus), columns={"text": "string", "url": "string"})


def heuristic_steps(corpus: Path) -> list[BoundOperator]:
    """The ten bound operators of :class:`OverheadPipeline`, in order: what the plain variant calls directly."""
    return [node.step for node in OverheadPipeline(corpus).trace().nodes.values() if not node.is_source]


# --- the corpus ---

NOUNS = (
    "river valley city market water light stone bridge garden winter summer harvest village school letter road "
    "engine forest island mountain station library museum kitchen window morning evening history science music "
    "farmer teacher doctor sailor painter builder student traveller merchant neighbour family council child"
)
VERBS = "carries builds opens follows changes remembers explains describes measures protects crosses watches"
ADJECTIVES = "old new small large quiet busy bright dark cold warm heavy narrow ancient modern local distant"
ADVERBS = "quickly slowly carefully often rarely always early later together again nearly clearly"
PREPOSITIONS = "in on near under behind across beyond through after before"
DETERMINERS = "the the the a a this that every each another"
CONJUNCTIONS = "and but while because although"


def generate_corpus(path: Path, rows: int, seed: int) -> None:
    """Write ``rows`` English-like documents as JSONL: mostly clean prose, plus the cases the steps act on."""
    rng = random.Random(seed)
    docs: list[str] = []
    with path.open("w", encoding="utf-8") as out:
        for number in range(rows):
            text = _document(rng, docs)
            docs.append(text)
            out.write(json.dumps({"text": text, "url": f"https://example.org/doc/{number}"}) + "\n")


def _document(rng: random.Random, earlier: list[str]) -> str:
    """One document; the kinds and shares are chosen so that every filter rule rejects some rows."""
    draw = rng.random()
    if draw < 0.08 and earlier:
        return _near_copy(rng, rng.choice(earlier))
    if draw < 0.16:
        return " ".join(_clause(rng)[: rng.randint(2, 9)]).capitalize()
    if draw < 0.17:
        return "\n\n".join(_paragraph(rng) for _ in range(rng.randint(20, 30)))
    if draw < 0.22:
        return _title(rng) + "\n\n" + _body(rng)
    if draw < 0.32:
        return _spaced_out(rng, _body(rng))
    return _body(rng)


def _body(rng: random.Random) -> str:
    return "\n\n".join(_paragraph(rng) for _ in range(rng.randint(1, 3)))


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(2, 4)))


def _sentence(rng: random.Random) -> str:
    words = _clause(rng)
    if rng.random() < 0.3:
        words[-1] += ","
        words += [_pick(rng, CONJUNCTIONS), *_clause(rng)]
    return " ".join(words).capitalize() + rng.choice(".....?!")


def _clause(rng: random.Random) -> list[str]:
    """Determiner, maybe an adjective, noun, verb, object; maybe a place and an adverb."""
    words = [*_noun_phrase(rng), _pick(rng, VERBS), *_noun_phrase(rng)]
    if rng.random() < 0.5:
        words += [_pick(rng, PREPOSITIONS), *_noun_phrase(rng)]
    if rng.random() < 0.3:
        words.append(_pick(rng, ADVERBS))
    return words


def _noun_phrase(rng: random.Random) -> list[str]:
    adjective = [_pick(rng, ADJECTIVES)] if rng.random() < 0.4 else []
    return [_pick(rng, DETERMINERS), *adjective, _pick(rng, NOUNS)]


def _title(rng: random.Random) -> str:
    """A heading as the first paragraph: too short a lead for the lead_length filter."""
    return " ".join(word.capitalize() for word in [_pick(rng, ADJECTIVES), _pick(rng, NOUNS)])


def _pick(rng: random.Random, words: str) -> str:
    return rng.choice(words.split())


def _near_copy(rng: random.Random, text: str) -> str:
    """An exact duplicate once case, punctuation and spacing are ignored."""
    variants = [str.upper, str.lower, str.title, lambda t: t.replace(".", "!").replace(",", ""), str]
    copy = rng.choice(variants)(text)
    return _spaced_out(rng, copy) if rng.random() < 0.5 else copy


def _spaced_out(rng: random.Random, text: str) -> str:
    """Extra whitespace that normalize_text removes: doubled spaces, tabs, blank lines, padding."""
    spaced = text.replace(" ", rng.choice(["  ", " \t", "\u00a0 "]), rng.randint(1, 6))
    return "  " + spaced.replace("\n\n", "\n\n\n\n", 1) + " \n"


# --- the variants (run in a child process) ---

PHASES = ("read", "compute", "write", "other")
"""Where a run's wall time goes: reading the corpus (and Delta inputs), operators, Delta writes, the rest."""


class Variant(Protocol):
    def run(self) -> str:
        """Run the pipeline once (timed) and return the URI of the final Delta table."""
        ...

    def phases(self) -> dict[str, float]:
        """Seconds of the last run spent in each of ``PHASES`` but ``other``; asked for after the timing."""
        ...


class PlainRun:
    """(a): the operators called on polars frames, as a user would write it without the framework."""

    def __init__(self, corpus: Path, root: Path) -> None:
        self.corpus = corpus
        self.uri = str(root / "final")
        self.steps = heuristic_steps(corpus)
        self.seconds = dict.fromkeys(PHASES[:-1], 0.0)

    def run(self) -> str:
        with self._phase("read"):
            df = pl.read_ndjson(self.corpus)
            line = pl.int_range(1, pl.len() + 1).cast(pl.String)
            df = df.with_columns(pl.concat_str(pl.lit(f"{row_tag(self.corpus.name)}-"), line).alias(ROW_ID))
        with self._phase("compute"):
            for step in self.steps:
                df = step.run([df]).kept
        with self._phase("write"):
            df.write_delta(self.uri)
        return self.uri

    def phases(self) -> dict[str, float]:
        return self.seconds

    @contextmanager
    def _phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        self.seconds[name] += time.perf_counter() - started


class DagsterRun:
    """(b) and (b2): ``materialize_pipeline`` in-process, the way ``dataflow run`` does it."""

    def __init__(
        self,
        traced: TracedPipeline,
        root: Path,
        instance: dg.DagsterInstance,
        materialize: Callable[..., RunSummary],
    ) -> None:
        self.traced, self.root, self.instance, self.materialize = traced, root, instance, materialize
        self.run_ids: list[str] = []

    def run(self) -> str:
        summary = self.materialize(self.traced, root=self.root, instance=self.instance)
        self.run_ids = summary.run_ids
        return summary.steps[-1].uri

    def phases(self) -> dict[str, float]:
        """Split the steps' time by the timestamps of their Dagster events.

        A step's time from STEP_START to its last LOADED_INPUT is Delta reads, from STEP_INPUT to STEP_OUTPUT the
        operator (for a source, reading its files), up to HANDLED_OUTPUT the IO manager's Delta writes and
        metadata. What is left of the wall time is Dagster's own work: planning, events, the run's start and end.
        """
        seconds = dict.fromkeys(PHASES[:-1], 0.0)
        for run_id in self.run_ids:
            for times in _step_event_times(self.instance.all_logs(run_id)).values():
                if "HANDLED_OUTPUT" not in times:  # an asset check: its time stays in "other"
                    continue
                if "LOADED_INPUT" in times:
                    seconds["read"] += times["LOADED_INPUT"] - times["STEP_START"]
                    seconds["compute"] += times["STEP_OUTPUT"] - times["STEP_INPUT"]
                else:  # a source: its work is reading the files
                    seconds["read"] += times["STEP_OUTPUT"] - times["STEP_START"]
                seconds["write"] += times["HANDLED_OUTPUT"] - times["STEP_OUTPUT"]
        return seconds


def _step_event_times(entries: Sequence[dg.EventLogEntry]) -> dict[str, dict[str, float]]:
    """``{step: {event type: timestamp of its last event of that type}}``."""
    times: dict[str, dict[str, float]] = {}
    for entry in entries:
        if entry.step_key and entry.dagster_event_type is not None:
            times.setdefault(entry.step_key, {})[entry.dagster_event_type.value] = entry.timestamp
    return times


@contextmanager
def open_variant(variant: str, corpus: Path, root: Path) -> Iterator[Variant]:
    """Everything a variant needs before the clock starts; Dagster is imported only by the variants that use it,
    so that the plain variant's memory does not include it."""
    if variant == "plain":
        yield PlainRun(corpus, root)
        return
    import dagster as dg

    from dataflow_assets.runner import materialize_pipeline

    pipeline = OverheadPipeline(corpus) if variant == "assets" else OverheadStagePipeline(corpus)
    with dg.instance_for_test() as instance:
        yield DagsterRun(pipeline.trace(), root, instance, materialize_pipeline)


def measure(variant: str, corpus: Path) -> dict[str, Any]:
    """Time one run of ``variant`` in this process; the setup (imports, tracing, instance) is timed apart."""
    WORK.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=WORK, prefix=f"{variant}-") as root:
        started = time.perf_counter()
        with open_variant(variant, corpus, Path(root)) as runner:
            setup_s = time.perf_counter() - started
            before, wall_start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
            uri = runner.run()
            wall_s = time.perf_counter() - wall_start
            after = resource.getrusage(resource.RUSAGE_SELF)
            phases = runner.phases()
        final = pl.read_delta(uri).select(ROW_ID, "text").sort(ROW_ID)
    return {
        "variant": variant,
        "wall_s": wall_s,
        "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "setup_s": setup_s,
        "peak_rss_mib": after.ru_maxrss / 1024,
        "phases_s": {**phases, "other": wall_s - sum(phases.values())},
        "final_rows": final.height,
        "final_digest": hashlib.sha256(final.write_ndjson().encode()).hexdigest(),
    }


# --- the parent: repeats, checks, reports ---


def run_child(variant: str, corpus: Path) -> dict[str, Any]:
    """Run one variant in a fresh interpreter, so that its peak RSS is its own."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", variant, "--corpus", str(corpus)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"variant {variant} failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def check_same_rows(runs: list[dict[str, Any]]) -> None:
    """Every run of every variant must end with the same rows; a faster wrong answer is no result."""
    outcomes = {(r["final_rows"], r["final_digest"]) for r in runs}
    if len(outcomes) != 1:
        detail = "\n".join(f"  {r['variant']}: {r['final_rows']} rows, digest {r['final_digest'][:16]}" for r in runs)
        raise SystemExit(f"the variants disagree on the final rows (_row_id, text):\n{detail}")


def summarize(runs: list[dict[str, Any]], rows: int) -> dict[str, dict[str, Any]]:
    """Per variant, the median of each figure over the repeats."""
    summary: dict[str, dict[str, Any]] = {}
    for variant in VARIANTS:
        mine = [r for r in runs if r["variant"] == variant]
        figures: dict[str, Any] = {
            key: statistics.median(r[key] for r in mine) for key in ("wall_s", "cpu_s", "setup_s", "peak_rss_mib")
        }
        figures["rows_per_s"] = rows / figures["wall_s"]
        figures["phases_s"] = {phase: statistics.median(r["phases_s"][phase] for r in mine) for phase in PHASES}
        summary[variant] = figures
    return summary


def ratios(summary: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each Dagster variant over plain, in wall time (the target's measure) and in CPU seconds (steadier on a
    shared machine, where other work stretches the wall time of every variant differently)."""
    found: dict[str, dict[str, Any]] = {}
    for variant in ("assets", "stage"):
        ratio = summary[variant]["wall_s"] / summary["plain"]["wall_s"]
        found[f"{variant}/plain"] = {
            "wall_ratio": ratio,
            "cpu_ratio": summary[variant]["cpu_s"] / summary["plain"]["cpu_s"],
            "verdict": "PASS" if ratio <= TARGET_RATIO else "MISS",
        }
    return found


def previous_report() -> dict[str, Any] | None:
    """The committed results this run replaces, to quote them next to the new ones."""
    path = RESULTS / "overhead.json"
    return json.loads(path.read_text()) if path.exists() else None


def _ratio_text(report: dict[str, Any], name: str) -> str:
    """``2.22x wall, 1.98x CPU`` (older reports carry no CPU ratio: it is computed from their CPU seconds)."""
    ratio, summary = report["ratios"][name], report["summary"]
    variant = name.split("/")[0]
    cpu = ratio.get("cpu_ratio", summary[variant]["cpu_s"] / summary["plain"]["cpu_s"])
    return f"{ratio['wall_ratio']:.2f}x wall, {cpu:.2f}x CPU"


def environment() -> dict[str, object]:
    return machine.describe("polars", "deltalake", "dagster", "pyarrow")


def markdown(report: dict[str, Any]) -> str:
    """The committed summary: a table of medians, the ratios against the target, how to re-run."""
    params, env, summary = report["parameters"], report["environment"], report["summary"]
    lines = [
        "# Overhead benchmark",
        "",
        f"{params['rows']:,} generated rows (seed {params['seed']}, {params['corpus_mib']:.1f} MiB JSONL), "
        f"10 heuristic steps, median of {params['repeat']} runs, each in a fresh process.",
        "",
        "| variant | wall s | CPU s | rows/s | peak RSS MiB | setup s (not timed) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for variant in VARIANTS:
        f = summary[variant]
        lines.append(
            f"| {LABELS[variant]} | {f['wall_s']:.2f} | {f['cpu_s']:.2f} | {f['rows_per_s']:,.0f} "
            f"| {f['peak_rss_mib']:.0f} | {f['setup_s']:.2f} |"
        )
    lines += ["", f"Target: (b) within {TARGET_RATIO}x of (a) in wall time.", ""]
    for name, ratio in report["ratios"].items():
        lines.append(f"- {name}: **{_ratio_text(report, name)}** ({ratio['verdict']})")
    previous = report.get("previous")
    if previous:
        lines += ["", f"Previous committed run ({previous['environment']['date']}):", ""]
        lines += [f"- {name}: {_ratio_text(previous, name)}" for name in previous["ratios"]]
    if report.get("note"):
        lines += ["", f"What changed: {report['note']}"]
    lines += [
        "",
        "Where the wall time goes (medians, seconds; for (b) and (b2) split by the steps' Dagster event times):",
        "",
        "| variant | read (corpus, Delta inputs) | operators | Delta writes + metadata | other (Dagster) |",
        "|---|---:|---:|---:|---:|",
    ]
    for variant in VARIANTS:
        lines.append(
            f"| {LABELS[variant]} | " + " | ".join(f"{summary[variant]['phases_s'][p]:.2f}" for p in PHASES) + " |"
        )
    lines += [
        "",
        f"Final rows (all variants): {report['final_rows']:,}. Python {env['python']}, polars {env['polars']}, "
        f"deltalake {env['deltalake']}, dagster {env['dagster']}; {env['nproc']} CPUs ({env['cpu_model']}); "
        f"{env['date']}.",
        "",
        f"Re-run: `.venv/bin/python benchmarks/overhead.py --rows {params['rows']} --repeat {params['repeat']}`",
        "",
    ]
    return "\n".join(lines)


def _without_history(report: dict[str, Any] | None) -> dict[str, Any] | None:
    """What a report needs to be quoted: its date and figures, not its runs or its own predecessor."""
    if report is None:
        return None
    return {key: report[key] for key in ("environment", "summary", "ratios") if key in report}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="documents to generate")
    parser.add_argument("--repeat", type=int, default=3, help="runs per variant; the median is reported")
    parser.add_argument("--seed", type=int, default=1, help="seed of the corpus generator")
    parser.add_argument("--note", default="", help="what changed since the committed results (quoted in them)")
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.corpus)))
        return
    WORK.mkdir(parents=True, exist_ok=True)
    corpus = WORK / f"corpus-{args.rows}-{args.seed}.jsonl"
    generate_corpus(corpus, args.rows, args.seed)
    env = environment()
    runs: list[dict[str, Any]] = []
    for repeat in range(args.repeat):
        for variant in VARIANTS:  # interleaved, so that a busy spell on the machine hits every variant alike
            runs.append(run_child(variant, corpus))
            print(f"run {repeat + 1}/{args.repeat} {variant}: {runs[-1]['wall_s']:.2f} s", file=sys.stderr)
    check_same_rows(runs)
    summary = summarize(runs, args.rows)
    report = {
        "parameters": {
            "rows": args.rows,
            "repeat": args.repeat,
            "seed": args.seed,
            "corpus_mib": corpus.stat().st_size / 2**20,
            "steps": {
                node.name: node.step.op.name
                for node in OverheadPipeline(corpus).trace().nodes.values()
                if not node.is_source
            },
            "target_ratio": TARGET_RATIO,
        },
        "environment": env,
        "summary": summary,
        "ratios": ratios(summary),
        "final_rows": runs[0]["final_rows"],
        "runs": runs,
        "note": args.note,
        "previous": _without_history(previous_report()),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "overhead.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "overhead.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
