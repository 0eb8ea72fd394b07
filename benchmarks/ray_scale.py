"""A row-local stage on polars and on a local Ray: CPU seconds, wall time, peak memory and Ray's cold start.

The stage is the pre-training rules a corpus goes through first (``normalize_text``, ``text_stats``,
``word_count`` and ``gopher_quality`` in one ``Sequential``), over a generated corpus of ``--rows`` documents in one
Delta partition (row groups of 64k rows, as the project writes them). Variants, each in a fresh process:

* ``polars``: the slice read into one frame, the stage, the kept rows and both side tables written with
  ``DeltaStore.write`` (what a step does today);
* ``ray-<blocks>``: the same on a local Ray (``RayEngine(num_cpus=2)``, one CPU and one polars thread per task),
  the partition cut into ``<blocks>`` read tasks, the workers writing Parquet and the driver committing each table
  once (``run_on_ray`` and ``DeltaStore.commit_files``, what a Ray step does).

CPU seconds count every process of the variant: the polars process, or the Ray driver and all its Ray processes
(GCS, raylet, workers), read from ``/proc`` before and after the stage. Peak memory is the process's peak RSS, or
for Ray the sum of each Ray process's own peak (an upper bound: the peaks need not coincide). The cold start is what a
new driver pays before its first block runs: ``ray.init`` plus a first task in every worker (importing polars and
the project); it is not in the stage's figures. The variants must keep the same rows.

Run: ``.venv/bin/python benchmarks/ray_scale.py [--rows 1000000] [--blocks 2,4,16]``; results go to
``benchmarks/results/ray_scale.md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

import machine

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / ".work" / "ray_scale"
RESULTS = HERE / "results" / "ray_scale"
PARTITION_KEY = "corpus"
TARGET = 1.3
CPUS = 2

sys.path.insert(0, str(ROOT))  # run as a script from anywhere: the project's packages are importable

import polars as pl  # noqa: E402

from operators import (  # noqa: E402
    GopherQualityFilter,
    NormalizeTextRefiner,
    Sequential,
    TextStatsEvaluator,
    WordCountFilter,
)
from operators.columns import PARTITION, ROW_ID  # noqa: E402
from resources.delta_store import DeltaStore  # noqa: E402
from resources.step_output import DeltaSlice  # noqa: E402

WORDS = (
    *("the", "and", "of", "to", "that", "with", "have", "be", "is", "in", "for", "on", "a", "it", "was"),
    *("river", "data", "model", "train", "token", "water", "light", "stone", "market", "energy", "policy"),
    *("garden", "signal", "network", "history", "language", "science", "music", "city", "forest", "engine"),
)
"""Stop words among them, as in real prose (Gopher's rules want at least two per document)."""


def stage() -> Sequential:
    return Sequential(NormalizeTextRefiner(), TextStatsEvaluator(), WordCountFilter(min_words=8), GopherQualityFilter())


def corpus(rows: int, seed: int = 7) -> DeltaSlice:
    """The generated corpus as a Delta table (kept between runs): prose, short pages, symbol-heavy pages."""
    uri = WORK / f"corpus-{rows}-{seed}"
    if DeltaStore(WORK).exists(str(uri)):
        return DeltaSlice(str(uri), 0, [PARTITION_KEY])
    rng = random.Random(seed)
    texts = []
    for i in range(rows):
        kind = i % 10
        length = 4 if kind == 0 else rng.randint(60, 140)
        words = [rng.choice(WORDS) for _ in range(length)]
        if kind == 1:
            words = [f"#{w}" for w in words]
        sentences = [" ".join(words[j : j + 12]).capitalize() + "." for j in range(0, len(words), 12)]
        texts.append("  ".join(sentences))
    frame = pl.DataFrame({ROW_ID: [f"d{i}" for i in range(rows)], "text": texts, PARTITION: [PARTITION_KEY] * rows})
    DeltaStore(WORK).write(str(uri), frame, partitions=[PARTITION_KEY])
    return DeltaSlice(str(uri), 0, [PARTITION_KEY])


def run_polars(source: DeltaSlice, out: Path) -> dict[str, object]:
    started, cpu = time.perf_counter(), _own_cpu()
    result = stage().run([source.read()])
    store = DeltaStore(out)
    for side, frame in result.tables().items():
        store.write(store.uri(["bench", "rules"], side), frame, partitions=[PARTITION_KEY])
    store.write(store.uri(["bench", "rules"]), result.kept, partitions=[PARTITION_KEY])
    wall, cpu = time.perf_counter() - started, _own_cpu() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"wall_s": wall, "cpu_s": cpu, "peak_mb": peak_mb, **_output(out)}


def run_ray(source: DeltaSlice, out: Path, blocks: int) -> dict[str, object]:
    import ray

    from resources.ray import RayEngine
    from resources.ray.execute import RayStep, run_on_ray

    rows = pl.scan_delta(source.uri).select(pl.len()).collect().item()
    engine = RayEngine(num_cpus=CPUS, object_store_mb=400, rows_per_block=-(-rows // blocks))
    started = time.perf_counter()
    engine.connect()
    # A first task in every worker: what the first block of a new driver waits for.
    ray.data.range(CPUS, override_num_blocks=CPUS).map_batches(_warm, batch_format="pyarrow").take_all()
    cold_start = time.perf_counter() - started
    idle_mb = sum(_rss_mb(pid, "VmRSS") for pid in _tree())
    before, started = _tree_cpu(), time.perf_counter()
    store = DeltaStore(out)
    run = run_on_ray(engine, RayStep(stage(), source, {}, store, ["bench", "rules"], True, ["text"]))
    staged = run.result
    for side, table in staged.sides.items():
        store.commit_files(store.uri(["bench", "rules"], side), table.files, table.schema, partitions=[PARTITION_KEY])
    store.commit_files(store.uri(["bench", "rules"]), staged.main.files, staged.main.schema, partitions=[PARTITION_KEY])
    wall, cpu = time.perf_counter() - started, _tree_cpu(before)
    peak_mb = sum(_rss_mb(pid, "VmHWM") for pid in _tree())
    engine.disconnect()
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_mb": peak_mb,
        "tasks": run.stats["tasks"],
        "cold_start_s": cold_start,
        "idle_ray_mb": idle_mb,
        **_output(out),
    }


def _warm(batch):
    import operators.general  # noqa: F401
    import resources.ray.batches  # noqa: F401

    return batch


def _output(out: Path) -> dict[str, object]:
    kept = pl.read_delta(str(out / "bench" / "rules"))
    rejected = pl.read_delta(str(out / "bench" / "rules.rejected"))
    digest = hashlib.sha256("\n".join(sorted(kept[ROW_ID].to_list())).encode()).hexdigest()[:16]
    return {"kept": kept.height, "rejected": rejected.height, "kept_ids_sha256": digest}


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _tree() -> list[int]:
    """This process and every process it started (a local Ray's processes are its descendants)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found, frontier = [os.getpid()], [os.getpid()]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        found += frontier
    return found


def _tree_cpu(before: dict[int, float] | None = None) -> dict[int, float] | float:
    """CPU seconds of each process of the tree (user + system, with its waited-for children), or with ``before``
    the total spent since then."""
    ticks = os.sysconf("SC_CLK_TCK")
    now = {}
    for pid in _tree():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        now[pid] = sum(int(f) for f in fields[11:15]) / ticks
    if before is None:
        return now
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in now.items())


def _rss_mb(pid: int, field: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def worker(variant: str, rows: int, out: Path) -> None:
    source = corpus(rows)
    figures = run_polars(source, out) if variant == "polars" else run_ray(source, out, int(variant.split("-")[1]))
    print(json.dumps(figures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--blocks", default="2,4,16", help="Ray variants: read tasks per run")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.rows, Path(args.out))
        return
    WORK.mkdir(parents=True, exist_ok=True)
    corpus(args.rows)
    setup = machine.describe("polars", "deltalake", "ray", "pyarrow")
    variants = ["polars", *(f"ray-{b}" for b in args.blocks.split(","))]
    figures = {}
    for variant in variants:
        out = WORK / f"out-{variant}"
        subprocess.run(["rm", "-rf", str(out)], check=True)
        env = {**os.environ, "POLARS_MAX_THREADS": str(CPUS), "RAY_AUTH_MODE": "disabled"}
        done = subprocess.run(
            [sys.executable, __file__, "--worker", variant, "--rows", str(args.rows), "--out", str(out)],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        figures[variant] = json.loads(done.stdout.strip().splitlines()[-1])
        print(variant, figures[variant], flush=True)
    setup["load_average_at_end"] = os.getloadavg()
    same = len({(f["kept"], f["rejected"], f["kept_ids_sha256"]) for f in figures.values()}) == 1
    if not same:
        raise SystemExit(f"the variants kept different rows: {figures}")
    write_results(args, setup, figures)


def write_results(args: argparse.Namespace, setup: dict[str, object], figures: dict[str, dict]) -> None:
    base = figures["polars"]
    lines = [
        "# A row-local stage on polars and on a local Ray",
        "",
        f"{args.rows:,} generated documents in one Delta partition; the stage `normalize_text`, `text_stats`, "
        f"`word_count`, `gopher_quality` (one `Sequential`), kept {base['kept']:,} and rejected "
        f"{base['rejected']:,} rows in every variant (same row ids). Each variant ran once in a fresh process. "
        f"{_describe(setup)}",
        "",
        *(
            [
                f"The issue asks for 1,000,000 rows; this run used {args.rows:,} because the shared machine was loaded "
                "(see the load averages): the ratios are per row, and more rows add more blocks of the same size.",
                "",
            ]
            if args.rows < 1_000_000
            else []
        ),
        "| variant | tasks | wall s | CPU s | CPU vs polars | peak MB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, f in figures.items():
        ratio = f["cpu_s"] / base["cpu_s"]
        lines.append(
            f"| {name} | {f.get('tasks', '—')} | {f['wall_s']:.1f} | {f['cpu_s']:.1f} | {ratio:.2f}x | "
            f"{f['peak_mb']:,.0f} |"
        )
    rays = {name: f for name, f in figures.items() if name != "polars"}
    best = min(rays, key=lambda name: rays[name]["cpu_s"])
    cold = [f["cold_start_s"] for f in rays.values()]
    lines += [
        "",
        f"Best Ray variant: `{best}`, {rays[best]['cpu_s'] / base['cpu_s']:.2f}x polars' CPU seconds "
        f"(target {TARGET}x). Cold start of a new driver (`ray.init` with 2 CPUs and a first task in each worker, "
        f"not in the figures above): {min(cold):.1f}-{max(cold):.1f} s; an idle local Ray (driver, GCS, raylet, "
        f"2 workers) holds {min(f['idle_ray_mb'] for f in rays.values()):,.0f} MB of RSS.",
        "",
        f"polars processes {args.rows / base['cpu_s']:,.0f} documents per CPU-second on this stage "
        f"(two polars threads); Ray {args.rows / rays[best]['cpu_s']:,.0f}.",
        "",
        "CPU seconds count every process of a variant (for Ray: the driver, GCS, raylet and workers, from `/proc`); "
        "Ray's peak is the sum of its processes' own peaks, an upper bound. The machine is shared: compare ratios.",
        "",
        f"Re-run: `.venv/bin/python benchmarks/ray_scale.py --rows {args.rows} --blocks {args.blocks}`.",
    ]
    RESULTS.with_suffix(".md").write_text("\n".join(lines) + "\n")
    RESULTS.with_suffix(".json").write_text(
        json.dumps({"rows": args.rows, "machine": setup, "variants": figures}, indent=2) + "\n"
    )


def _describe(setup: dict[str, object]) -> str:
    start = " ".join(f"{x:.2f}" for x in setup["load_average_1_5_15_min"])
    end = " ".join(f"{x:.2f}" for x in setup["load_average_at_end"])
    return (
        f"polars {setup['polars']}, deltalake {setup['deltalake']}, ray {setup['ray']}; Python {setup['python']}, "
        f"{setup['cpu_model']}, {setup['nproc']} CPUs, shared: load average (1, 5, 15 min) {start} at the start, "
        f"{end} at the end. {setup['date']}."
    )


if __name__ == "__main__":
    main()
