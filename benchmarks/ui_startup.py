"""UI start-up: how long after `dataflow ui` is started a user can use it.

Each repetition starts `dataflow ui --port <free port>` (webserver, daemon, code server) with a fresh
DAGSTER_HOME and Delta root under ``benchmarks/.work/ui_startup/`` and measures, from the moment the process is
started:

* (a) ``graphql``: GraphQL answers and the code location ``dataflow_assets.definitions`` is loaded
  (``DagsterGraphQL.wait_until_ready``);
* (b) ``graph page``: Debian's Chromium, driven headless by Playwright and started beforehand (its start is
  reported, not counted), shows the asset graph of the ``demo`` group with all five asset names.

Then the UI is stopped with Ctrl-C (SIGINT) and the time until every process it started is gone is reported too
(``tests/ui/dagster_ui.py`` tracks them); a process left over fails the benchmark. The median of ``--repeat``
repetitions is reported.

Run: ``.venv/bin/python benchmarks/ui_startup.py [--repeat 3]``; results go to ``benchmarks/results/ui_startup.md``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import machine

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / ".work" / "ui_startup"
RESULTS = HERE / "results" / "ui_startup.md"
GROUP = "demo"
ASSETS = ["raw", "normalize", "quality", "dedup", "paragraphs"]
TIMEOUT_S = 300

sys.path.insert(0, str(ROOT))  # run as a script from anywhere: the project's packages are importable
sys.path.insert(0, str(ROOT / "tests" / "ui"))  # the UI process helper shared with the UI test

from dagster_ui import CHROMIUM, CHROMIUM_FLAGS, DataflowUI  # noqa: E402
from playwright.sync_api import BrowserContext, expect, sync_playwright  # noqa: E402

from dataflow_assets.graphql_client import DEFAULT_LOCATION, DagsterGraphQL  # noqa: E402


@dataclass(frozen=True)
class Repetition:
    browser_start_s: float
    graphql_s: float
    graph_page_s: float
    stop_s: float


def measure_once(browser: BrowserContext, browser_start_s: float, folder: Path) -> Repetition:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    ui = DataflowUI(folder / "dagster_home", folder / "delta", log_path=folder / "dataflow-ui.log")
    page = browser.new_page()
    start = time.monotonic()
    ui.start()
    try:
        client = DagsterGraphQL(ui.url)
        client.wait_until_ready(TIMEOUT_S)
        graphql_s = time.monotonic() - start
        client.set_nux_seen()  # a fresh instance shows a first-visit dialog over the page
        page.goto(f"{ui.url}/locations/{DEFAULT_LOCATION}/asset-groups/{GROUP}/lineage")
        for name in ASSETS:
            expect(page.get_by_text(name, exact=True).first).to_be_visible(timeout=TIMEOUT_S * 1000)
        graph_page_s = time.monotonic() - start
    finally:
        page.close()
        stopping = time.monotonic()
        code, survivors = ui.stop()
        stop_s = time.monotonic() - stopping
    if code != 0 or survivors:
        raise SystemExit(f"`dataflow ui` exited {code}, left running: {survivors}\n{ui.log_tail()}")
    return Repetition(browser_start_s, graphql_s, graph_page_s, stop_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="repetitions; the median is reported")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install -y chromium")
    about = machine.describe("dagster", "dagster-webserver", "playwright")
    repetitions: list[Repetition] = []
    with sync_playwright() as playwright:
        for number in range(args.repeat):
            started = time.monotonic()
            browser = playwright.chromium.launch_persistent_context(
                WORK / f"chromium-profile-{number}",  # a fresh user-data-dir each time
                executable_path=str(CHROMIUM),
                headless=True,
                args=CHROMIUM_FLAGS,
            )
            browser_start_s = time.monotonic() - started
            chromium_version = browser.browser.version if browser.browser else "unknown"
            try:
                repetitions.append(measure_once(browser, browser_start_s, WORK / f"run-{number}"))
            finally:
                browser.close()
                shutil.rmtree(WORK / f"chromium-profile-{number}", ignore_errors=True)
            print(f"run {number + 1}/{args.repeat}: {repetitions[-1]}", file=sys.stderr)
    RESULTS.write_text(report(repetitions, about, chromium_version, args.repeat))
    print(RESULTS.read_text())


def report(repetitions: list[Repetition], about: dict[str, object], chromium: str, repeat: int) -> str:
    def median(field: str) -> float:
        return statistics.median(getattr(r, field) for r in repetitions)

    load_now = " ".join(f"{x:.2f}" for x in os.getloadavg())
    rows = [
        f"| {i + 1} | {r.graphql_s:.1f} | {r.graph_page_s:.1f} | {r.graph_page_s - r.graphql_s:.1f} | "
        f"{r.stop_s:.1f} | {r.browser_start_s:.1f} |"
        for i, r in enumerate(repetitions)
    ]
    load = " ".join(f"{x:.2f}" for x in about["load_average_1_5_15_min"])
    return "\n".join(
        [
            "# UI start-up benchmark",
            "",
            f"`dataflow ui` with a fresh DAGSTER_HOME each time; seconds from starting it; median of {repeat} runs.",
            f"dagster {about['dagster']}, dagster-webserver {about['dagster-webserver']}, playwright "
            f"{about['playwright']}, Chromium {chromium} (Debian, headless). Python {about['python']}, "
            f"{about['cpu_model']}, {about['nproc']} CPUs, shared: load average (1, 5, 15 min) {load} at the start, "
            f"{load_now} at the end. {about['date']}.",
            "",
            "| | seconds |",
            "|---|---:|",
            f"| (a) GraphQL answers, code location `{DEFAULT_LOCATION}` loaded | {median('graphql_s'):.1f} |",
            f"| (b) Chromium shows the `{GROUP}` asset graph with its {len(ASSETS)} asset names | "
            f"{median('graph_page_s'):.1f} |",
            f"| Ctrl-C until every process of the UI is gone | {median('stop_s'):.1f} |",
            "",
            "| run | (a) GraphQL ready | (b) graph page | (b) - (a) | stop | Chromium start (not counted) |",
            "|---:|---:|---:|---:|---:|---:|",
            *rows,
            "",
            "(b) - (a) is the browser's part: loading the UI's JavaScript, its first GraphQL queries and the graph "
            "layout. On a busy shared machine the figures follow the other tenants.",
            "",
            f"Re-run: `.venv/bin/python benchmarks/ui_startup.py [--repeat {repeat}]`.",
            "",
        ]
    )


if __name__ == "__main__":
    main()
