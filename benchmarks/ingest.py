"""The cost of reading a clean 100k-line JSONL file, against another checkout of the project.

The reader's guards (nesting depth, UTF-8, numbers pyarrow may read differently) must stay cheap next to the
pyarrow parse they protect. This script times ``read_source`` on one deterministic file with the code of this
checkout and, with ``--baseline PATH``, with the code of another checkout (e.g. ``main``), each run a fresh
subprocess, the two interleaved so that a busy spell on the shared machine hits both. It reports the median
CPU seconds (user + sys, all threads) and wall seconds, and the ratio of this checkout to the baseline.

    .venv/bin/python benchmarks/ingest.py --baseline /work/main     # 100,000 lines, 7 runs each
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
from pathlib import Path

from machine import describe

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
RESULTS = HERE / "results"
WORDS = "the of data model training token filter quality page line text corpus value result"

_TIMED = """
import json, resource, sys, time
from pathlib import Path
from operators.sources.file_source import FileSource
from operators.sources.readers import read_source
path = Path(sys.argv[1])
source = FileSource(path=str(path), columns={"text": "string", "n": "int", "score": "float?"})
start, usage = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
result = read_source(source, [path], partition_key=None)
wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
cpu = after.ru_utime - usage.ru_utime + after.ru_stime - usage.ru_stime
print(json.dumps({"wall_s": wall, "cpu_s": cpu, "rows": result.rows.height, "quarantined": result.quarantine.height}))
"""


def corpus(lines: int, seed: int) -> Path:
    """A clean JSONL file of English-like records with nested extra columns (the fast path's usual input)."""
    path = WORK / f"ingest-{lines}-{seed}.jsonl"
    if path.exists():
        return path
    rng = random.Random(seed)
    words = WORDS.split()
    WORK.mkdir(parents=True, exist_ok=True)
    with path.open("w") as out:
        for n in range(lines):
            text = " ".join(rng.choice(words) for _ in range(rng.randint(20, 80)))
            record = {"text": text, "n": n, "score": round(rng.random(), 4), "meta": {"lang": "en"}}
            record["tags"] = [rng.choice(words) for _ in range(rng.randint(0, 4))]
            out.write(json.dumps(record) + "\n")
    return path


def run_once(tree: Path, path: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", _TIMED, str(path)],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--baseline", type=Path, help="another checkout of the project to compare with")
    parser.add_argument("--baseline-name", default="baseline", help="what the baseline is, e.g. a commit")
    args = parser.parse_args()
    path = corpus(args.lines, args.seed)
    trees = {"this": HERE.parent} | ({"baseline": args.baseline.resolve()} if args.baseline else {})
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    for _ in range(args.repeat):
        for name, tree in trees.items():
            runs[name].append(run_once(tree, path))
    medians = {
        name: {key: statistics.median(run[key] for run in found) for key in ("cpu_s", "wall_s")}
        for name, found in runs.items()
    }
    report = {
        "lines": args.lines,
        "bytes": path.stat().st_size,
        "repeat": args.repeat,
        "baseline": args.baseline_name if args.baseline else None,
        "medians": medians,
        "runs": runs,
        "machine": describe("polars", "pyarrow", "numpy"),
    }
    rows = [f"| {name} | {m['cpu_s']:.3f} | {m['wall_s']:.3f} |" for name, m in medians.items()]
    lines = [
        "# Reading a clean JSONL file",
        "",
        f"`read_source` on {args.lines:,} lines ({path.stat().st_size / 1e6:.1f} MB), median of {args.repeat} runs,"
        " each a fresh subprocess, the checkouts interleaved.",
        "",
        "| checkout | CPU s | wall s |",
        "|---|---|---|",
        *rows,
    ]
    if "baseline" in medians:
        ratio = {key: medians["this"][key] / medians["baseline"][key] for key in ("cpu_s", "wall_s")}
        report["ratio"] = ratio
        lines += [
            "",
            f"Baseline: {args.baseline_name}.",
            f"Ratio this / baseline: CPU {ratio['cpu_s']:.3f}, wall {ratio['wall_s']:.3f}.",
        ]
    lines += ["", "Re-run: `.venv/bin/python benchmarks/ingest.py --baseline <other checkout>`", ""]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ingest.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "ingest.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
