"""The ``dataflow`` command: run pipelines, list operators, start the UI, trace rows.

Errors print as one line and a hint; ``dataflow --debug ...`` shows the traceback instead.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from dagster import DagsterInstance
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from dataflow_assets.compiler import compile_pipeline
from dataflow_assets.definitions import DATA_ROOT_ENV, data_root
from dataflow_assets.graphql_client import DagsterGraphQL
from dataflow_assets.lineage import Hop, row_lineage
from dataflow_assets.partitions import register_new_files
from dataflow_assets.pipelines import demo_pipelines, discover_pipelines, get_pipeline, pipeline_names
from dataflow_assets.planning import partition_keys, partitions_hint
from dataflow_assets.runner import RunSummary, local_instance, materialize_pipeline
from dataflow_assets.scaffold import Written, new_operator, new_pipeline
from operators.base import Category
from operators.columns import ROW_ID
from operators.domains import discover
from operators.errors import DataflowError, SourceReadError
from operators.progress import ProgressEvent, add_listener
from operators.registry import OperatorInfo, describe, get_operator, list_operators
from resources.delta_store import DeltaStore

app = typer.Typer(
    help="Prepare LLM training data with pipelines of operators on Dagster and Delta.", add_completion=False
)
# Piped output (CI logs, files) gets a wide fixed width instead of rich's 80 columns, so tables stay on one line.
console = Console() if sys.stdout.isatty() else Console(width=160)
_state = {"debug": False}
PROGRESS_LOG_S = 10.0
"""When output is not a terminal (a log), how often a long step prints its progress."""
BACKFILL_TAG = "dataflow/backfill"
"""Tag on the runs of a backfill made here (Dagster's own ``dagster/backfill`` tag belongs to daemon backfills)."""

RootOption = Annotated[
    Path | None,
    typer.Option("--root", help=f"Folder of the Delta tables (default ${DATA_ROOT_ENV} or ./data/delta)"),
]


@app.callback()
def _options(debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks")] = False) -> None:
    _state["debug"] = debug


def _instance() -> DagsterInstance:
    """The Dagster instance in $DAGSTER_HOME (default ./.dagster), shared with `dataflow ui`."""
    return local_instance(os.environ.setdefault("DAGSTER_HOME", str(Path(".dagster").absolute())))


PipelineArgument = Annotated[str, typer.Argument(help="A pipeline's group name (`dataflow pipelines` lists them)")]
PartitionOption = Annotated[
    list[str] | None, typer.Option("--partition", "-p", help="Partition key, i.e. a file of the source (repeatable)")
]
ResumeOption = Annotated[
    bool,
    typer.Option("--resume", help="Compute only the steps and partitions that are missing or stale (after a failure)"),
]


@app.command()
def run(
    pipeline: PipelineArgument,
    partition: PartitionOption = None,
    resume: ResumeOption = False,
    root: RootOption = None,
) -> None:
    """Materialize a pipeline in-process and print rows in/out per step."""
    root = root or data_root()
    summary = _materialize(pipeline, root, partition or None, resume=resume)
    if not summary.steps:
        return
    last = summary.steps[-1]
    example = DeltaStore(root).read(last.uri).frame.head(1) if last.rows_out else None
    if example is not None and ROW_ID in example.columns:
        console.print(f"Trace a row:  dataflow lineage {last.asset} {example[ROW_ID][0]}")
    console.print("Open the UI:  dataflow ui")


@app.command()
def backfill(
    pipeline: PipelineArgument,
    partition: PartitionOption = None,
    start: Annotated[str | None, typer.Option("--from", help="First partition of a range (default: the first)")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last partition of a range (default: the last)")] = None,
    resume: ResumeOption = False,
    url: Annotated[
        str | None,
        typer.Option(help="Submit to a running Dagster (e.g. http://127.0.0.1:3000) instead of running here"),
    ] = None,
    wait: Annotated[bool, typer.Option(help="With --url: wait until the backfill ends")] = True,
    root: RootOption = None,
) -> None:
    """Recompute a set or range of partitions (default all); other partitions' rows are not touched.

    Runs here, in-process, unless --url submits it as a Dagster backfill that the daemon of `dataflow ui` runs."""
    traced = get_pipeline(pipeline).trace()
    instance = _instance()
    compiled = compile_pipeline(traced)
    register_new_files(instance, compiled.sources)
    all_keys = partition_keys(compiled, instance)
    if not all_keys:
        raise DataflowError(f"pipeline {pipeline!r} has no partitions to backfill", hint=f"dataflow run {pipeline}")
    keys = select_partitions(all_keys, partition or [], start, end)
    if url is None:
        backfill_id = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        console.print(f"backfill {backfill_id}: {len(keys)} partition(s) of {traced.group}")
        _materialize(pipeline, root or data_root(), keys, resume=resume, tags={BACKFILL_TAG: backfill_id})
        return
    if resume:
        raise DataflowError("--resume plans from runs made here", hint="drop --url, or use the UI's backfill options")
    client = DagsterGraphQL(url)
    backfill_id = client.launch_partition_backfill([list(a.key.path) for a in compiled.assets], keys)
    console.print(f"backfill {backfill_id} submitted to {url}: {len(keys)} partition(s) of {traced.group}")
    console.print(f"Follow it:  {url.rstrip('/')}/runs/b/{backfill_id}")
    if wait:
        result = client.wait_for_backfill(backfill_id, timeout_s=24 * 3600)
        failed = [run for run, status in result.runs.items() if status != "SUCCESS"]
        console.print(f"backfill {backfill_id}: {result.status}, {len(result.runs)} run(s), {len(failed)} failed")
        if result.status != "COMPLETED_SUCCESS" or failed:
            raise DataflowError(f"backfill {backfill_id} ended {result.status}", hint=f"runs not successful: {failed}")


def select_partitions(all_keys: list[str], listed: list[str], start: str | None, end: str | None) -> list[str]:
    """The partitions named by a list or by a range (both ends included; all partitions when neither is given)."""
    if listed and (start or end):
        raise DataflowError("give partitions either as --partition or as a --from/--to range, not both")
    for key in [*listed, *(k for k in (start, end) if k)]:
        if key not in all_keys:
            raise DataflowError(f"unknown partition {key!r}", hint=partitions_hint(all_keys))
    if listed:
        return listed
    first = all_keys.index(start) if start else 0
    last = all_keys.index(end) if end else len(all_keys) - 1
    if first > last:
        raise DataflowError(f"--from {start!r} comes after --to {end!r}")
    return all_keys[first : last + 1]


@app.command()
def demo(root: RootOption = None) -> None:
    """The main job: both text pipelines on the bundled samples with the embedded model, and what they made."""
    root = root or data_root()
    pipelines = demo_pipelines()
    for pipeline in pipelines:
        _materialize(pipeline, root, None)
    if "text_sft" in pipelines:
        _show_sft_pairs(DeltaStore(root))
    console.print(f"Open the UI:  dataflow ui   (asset groups {', '.join(pipelines)})")


def _show_sft_pairs(store: DeltaStore) -> None:
    final = store.read(store.uri(["text_sft", "deduplicated"])).frame
    shown = final.head(3)
    if shown.height < 3:  # the judge may reject most of a small model's pairs: show refined ones too
        refined = store.read(store.uri(["text_sft", "refined"])).frame
        shown = pl.concat([shown, refined.filter(~pl.col(ROW_ID).is_in(shown[ROW_ID]))], how="diagonal_relaxed")
    console.rule(f"{min(3, shown.height)} generated SFT pairs ({final.height} passed the judge)")
    for pair in shown.head(3).iter_rows(named=True):
        console.print(f"[bold]instruction:[/] {pair['instruction'][:300]}")
        console.print(f"[bold]response:[/]    {pair['response'][:500]}")
        console.print(f"[dim]row {pair[ROW_ID]} · trace it: dataflow lineage text_sft/refined {pair[ROW_ID]}[/]\n")


def _materialize(
    pipeline: str,
    root: Path,
    partitions: list[str] | None,
    *,
    resume: bool = False,
    tags: dict[str, str] | None = None,
) -> RunSummary:
    traced = get_pipeline(pipeline).trace()
    steps = list(traced.nodes)
    with console.status(f"[bold]{traced.group}[/]: starting") as status:
        done: list[str] = []
        current = {"step": "", "printed": 0.0}

        def on_event(event_type: str, step_key: str) -> None:
            if event_type == "STEP_START":
                current["step"] = f"{step_key.split('__')[-1]} ({len(done) + 1}/{len(steps)})"
                status.update(f"[bold]{traced.group}[/]: {current['step']}")
            elif event_type == "STEP_SUCCESS" and step_key.split("__")[-1] in steps:  # a step, not a check
                done.append(step_key)
                console.print(f"  [green]✓[/] {step_key.replace('__', '/')}")

        def on_progress(event: ProgressEvent) -> None:
            """A live bar on a terminal; in a log, a line at most every PROGRESS_LOG_S seconds and the last."""
            status.update(f"[bold]{traced.group}[/]: {current['step']} · {event.line()}")
            now = time.monotonic()
            if not console.is_terminal and (event.finished or now - current["printed"] >= PROGRESS_LOG_S):
                current["printed"] = now
                console.print(f"    {current['step']} · {event.line()}")

        remove = add_listener(on_progress)
        try:
            summary = materialize_pipeline(
                traced,
                root=root,
                instance=_instance(),
                partitions=partitions,
                resume=resume,
                tags=tags,
                on_event=on_event,
            )
        finally:
            remove()
    if not summary.run_ids:
        console.print(f"[bold]{traced.group}[/]: nothing to do, every step is materialized and up to date")
        return summary
    _print_summary(summary)
    console.print(f"Delta tables: {Path(root) / traced.group}")
    return summary


def _print_summary(summary: RunSummary) -> None:
    table = Table(title="rows per step")
    for column in ("asset", "rows in", "rows out", "removed", "top reasons", "delta version"):
        table.add_column(column, justify="right" if column.startswith(("rows", "removed", "delta")) else "left")
    for step in summary.steps:
        reasons = ", ".join(f"{r} ({n})" for r, n in list(step.removed_by_reason.items())[:3])
        table.add_row(
            step.asset,
            "" if step.rows_in is None else str(step.rows_in),
            str(step.rows_out),
            str(sum(step.removed_by_reason.values())),
            reasons,
            str(step.delta_version),
        )
    console.print(table)
    failed = [name for name, passed in summary.checks.items() if not passed]
    console.print(f"Checks: {len(summary.checks) - len(failed)} of {len(summary.checks)} passed")
    for name in failed:
        console.print(f"  [yellow]![/] {name}")


@app.command()
def ops(
    name: Annotated[str | None, typer.Argument(help="Describe one operator")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Export the structured docs as JSON (for tools, the agent)")
    ] = False,
    domain: Annotated[str | None, typer.Option(help="Only the operators of this domain")] = None,
) -> None:
    """List the operators, or describe one. Builds no pipeline."""
    infos = [describe(get_operator(name))] if name else list_operators()
    if domain:
        infos = [info for info in infos if info.domain == domain]
    if as_json:
        print(json.dumps([info.to_json() for info in infos] if name is None else infos[0].to_json(), indent=2))
        return
    for problem in discover().problems:
        console.print(f"[yellow]![/] {escape(problem.line())}")
    if name is None:
        table = Table(title=f"operators ({len(infos)})")
        for column in ("name", "category", "domain", "description"):
            table.add_column(column)
        for info in infos:
            table.add_row(info.name, str(info.category), info.domain, info.description)
        console.print(table)
        return
    _print_operator(infos[0])


def _print_operator(info: OperatorInfo) -> None:
    console.print(f"[bold]{info.name}[/] ({info.category}, domain {info.domain}): {info.description}")
    if info.details:
        console.print(info.details)
    table = Table(title="parameters")
    for column in ("name", "type", "default", "description"):
        table.add_column(column)
    for parameter in info.parameters:
        default = "(required)" if parameter.required else json.dumps(parameter.default)
        table.add_row(parameter.name, parameter.type, default[:60], parameter.description)
    console.print(table)
    for label, keys in (("reads", info.inputs), ("writes", info.outputs)):
        for key in keys:
            what = f": {key.description}" if key.description else ""
            console.print(f"  {label} [bold]{key.name}[/] (default {key.default!r}){what}")
    if info.engines:
        console.print(f"  engines: {', '.join(info.engines)}")
    for reference in info.references:
        console.print(f"  reference: {reference}")
    if info.example:
        console.rule("example")
        console.print(info.example, markup=False)


@app.command()
def pipelines() -> None:
    """List the discovered pipelines (asset groups) and the domains left out, with why. Builds no pipeline."""
    found = discover_pipelines()
    table = Table(title="pipelines")
    for column in ("group", "domain", "description"):
        table.add_column(column)
    for group, cls in sorted(found.pipelines.items()):
        table.add_row(group, found.domains[group], cls.description)
    console.print(table)
    for problem in found.problems:
        console.print(f"[yellow]![/] {escape(problem.line())}")


new_app = typer.Typer(help="Write a working operator or pipeline (with its test) to start from.")
app.add_typer(new_app, name="new")
ScaffoldRoot = Annotated[Path, typer.Option("--root", help="The project folder to write into")]


@new_app.command("operator")
def new_operator_command(
    name: Annotated[str, typer.Argument(help="Registry name, e.g. long_lines (also the module's name)")],
    category: Annotated[Category, typer.Option(help="What it does to rows")] = Category.FILTER,
    domain: Annotated[str, typer.Option(help="The domain package (created if new)")] = "general",
    root: ScaffoldRoot = Path("."),
) -> None:
    """Write operators/<domain>/<category>/<name>.py and its test."""
    _report_written(new_operator(root, name, category=category, domain=domain))
    console.print(f"Run its test:  pytest tests/operators/{domain}/test_{name}.py   Describe it:  dataflow ops {name}")


@new_app.command("pipeline")
def new_pipeline_command(
    name: Annotated[str, typer.Argument(help="The pipeline's group name, e.g. my_corpus")],
    domain: Annotated[str, typer.Option(help="The domain package under dataflow_assets/ (created if new)")] = "general",
    description: Annotated[str, typer.Option(help="One line saying what it makes")] = "",
    root: ScaffoldRoot = Path("."),
) -> None:
    """Write dataflow_assets/<domain>/<name>.py, its sample data and a test that materializes it."""
    _report_written(new_pipeline(root, name, domain=domain, description=description))
    console.print(f"Run it:  dataflow run {name}   Test it:  pytest tests/dataflow_assets/{domain}/test_{name}.py")


def _report_written(written: Written) -> None:
    for path in written.files:
        console.print(f"  [green]+[/] {path}")


@app.command()
def agent(
    request: Annotated[str, typer.Argument(help="What the pipeline should do, in plain words")],
    input: Annotated[Path | None, typer.Option("--input", help="Folder (or file) of the data to prepare")] = None,
    name: Annotated[str | None, typer.Option(help="The pipeline's group name (default: from the request)")] = None,
    interactive: Annotated[bool, typer.Option(help="Show the plan and approve or edit it before it is built")] = False,
    out: Annotated[Path, typer.Option(help="Folder of your package: writes dataflow_assets/agent_built/")] = Path("."),
    model: Annotated[str | None, typer.Option(help="The planner's model: a GGUF path (local) or a model name")] = None,
    max_rounds: Annotated[int, typer.Option(help="Repair rounds after the first plan")] = 3,
    embeddings: Annotated[bool, typer.Option(help="Also retrieve operators by embedding similarity")] = True,
    synthesize: Annotated[
        bool, typer.Option(help="Write, sandbox-test and register a new operator where none fits (needs bubblewrap)")
    ] = False,
) -> None:
    """Build a validated, dry-run pipeline module from a request (the DataFlow-Agent, on LangGraph)."""
    from dataflow_assets.agent.api import build_pipeline, default_embedder, edit_plan_in_file

    if model:
        os.environ["DATAFLOW_LLM_MODEL"] = model  # the dry run's child process plans nothing but reads it too
    report = build_pipeline(
        request,
        input=input,
        name=name,
        out=out,
        max_rounds=max_rounds,
        embedder=default_embedder(out) if embeddings else None,
        review=edit_plan_in_file(out, console.print, input=typer.prompt) if interactive else None,
        synthesize=synthesize,
    )
    console.print(escape(report.to_markdown()))
    if report.ok:
        console.print(f"Run it:  PYTHONPATH={out} dataflow run {report.name}")
    else:
        raise typer.Exit(1)


@app.command()
def ui(port: Annotated[int, typer.Option(help="Port on 127.0.0.1")] = 3000) -> None:
    """Start the Dagster UI (and daemon) on 127.0.0.1; Ctrl-C stops it cleanly."""
    instance = _instance()
    for name in pipeline_names():  # files already in a dynamic source's folder show as partitions at once
        try:
            register_new_files(instance, compile_pipeline(get_pipeline(name)).sources)
        except SourceReadError as error:  # a deployment may start before its first file arrives
            console.print(f"[yellow]{name}:[/] {error.args[0]}; its sensor registers files when they arrive")
    # A shell starts background jobs with SIGINT ignored, and children inherit that: restore Ctrl-C for us and
    # for `dagster dev`, which would otherwise ignore it (DESIGN §7).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    workspace = Path(__file__).resolve().parent.parent / "workspace.yaml"
    command = [sys.executable, "-m", "dagster", "dev", "-h", "127.0.0.1", "-p", str(port)]
    command += ["-w", str(workspace)] if workspace.exists() else ["-m", "dataflow_assets.definitions"]
    # Its own process group: `dagster dev` started from a script ignores SIGINT unless it leads its group
    # (DESIGN §7), and stopping the group also stops the webserver and daemon it spawned.
    process = subprocess.Popen(command, start_new_session=True, env={**os.environ, DATA_ROOT_ENV: str(data_root())})
    console.print(f"Dagster UI: http://127.0.0.1:{port}  (Ctrl-C to stop)")
    try:
        process.wait()
    except KeyboardInterrupt:
        console.print("stopping…")
        _stop_group(process)


def _stop_group(process: subprocess.Popen[bytes], grace_seconds: float = 15.0) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace_seconds
        while time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.2)
        if process.poll() is not None:
            return


@app.command()
def lineage(
    asset: Annotated[str, typer.Argument(help="group/step, e.g. demo/dedup")],
    row_id: Annotated[str, typer.Argument(help="The row's _row_id")],
    root: RootOption = None,
) -> None:
    """Show where a row came from and what every step decided about it."""
    group, _, step = asset.partition("/")
    if not step:
        raise DataflowError(f"asset {asset!r} is not of the form group/step", hint="e.g. demo/dedup")
    hop = row_lineage(get_pipeline(group).trace(), DeltaStore(root or data_root()), step, row_id)
    tree = Tree(f"[bold]row {row_id}[/] at {asset}")
    _add_hop(tree, hop)
    console.print(tree)


def _add_hop(parent: Tree, hop: Hop) -> None:
    colour = {"rejected": "red", "generated": "cyan", "source": "yellow"}.get(hop.status, "green")
    line = f"[bold]{hop.asset}[/] [{colour}]{hop.status}[/] ({hop.category} · {hop.operator}) delta v{hop.version}"
    if hop.rule:
        line += f": [red]{hop.rule}[/] score={hop.score}" + (f" {hop.detail}" if hop.detail else "")
    if hop.scores:
        line += "  scores: " + ", ".join(f"{k}={v}" for k, v in hop.scores.items())
    if hop.source_file:
        line += f"  ← {hop.source_file} line {hop.source_line}"
    if hop.engines:
        line += "  " + ", ".join(f"{name}={model}" for name, model in hop.engines.items())
    if hop.inputs_read:
        line += "  read " + ", ".join(f"{a}@v{v}" for a, v in hop.inputs_read.items())
    if hop.row_id != (hop.upstream[0].row_id if hop.upstream else hop.row_id):
        line += f"  (id {hop.row_id})"
    branch = parent.add(line)
    for upstream in hop.upstream:
        _add_hop(branch, upstream)


def main() -> None:
    """Console entry point: one readable line per error unless --debug."""
    try:
        app()
    except DataflowError as error:
        if _state["debug"]:
            raise
        console.print(f"[red]error:[/] {escape(error.args[0])}")
        if error.hint:
            console.print(f"  hint: {escape(error.hint)}")
        sys.exit(1)
    except Exception as error:
        if _state["debug"]:
            raise
        console.print(f"[red]error:[/] {type(error).__name__}: {escape(str(error))}")
        console.print("  hint: run again with --debug for the traceback")
        sys.exit(1)


if __name__ == "__main__":
    main()
