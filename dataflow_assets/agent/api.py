"""``build_pipeline``: the agent as a Python API (``dataflow agent`` is a thin wrapper around it)."""

from __future__ import annotations

import copy
import hashlib
import json
import re
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dataflow_assets.agent.dryrun import DryRunner, default_runner
from dataflow_assets.agent.engines import AgentEngines, probe_engines
from dataflow_assets.agent.graph import AgentState, Context, CountingLLM, build_graph
from dataflow_assets.agent.synthesize import DOMAIN, Synthesizer
from operators.embedder.protocol import Embedder
from operators.llm.protocol import LLM
from operators.sandbox.protocol import Sandbox

DEFAULT_INPUT = Path(__file__).parent.parent / "text" / "data" / "pretrain"
CHECKPOINTS = Path(".dataflow_agent") / "checkpoints.sqlite"
"""Under the output folder: the SQLite file of LangGraph's checkpoints, one thread per session."""

N_CTX = 8192
"""The local model's context for planning: a step's prompt with its operator's docs and the last round's errors
can pass llama.cpp's default 2048 tokens (the KV cache of a 1.5B model at 8192 is about 230 MB)."""
Review = Callable[[list[dict[str, Any]]], list[dict[str, Any]] | None]
"""Shown the plan before it is built: return it (or an edited copy) to go on, None to stop."""


@dataclass
class AgentReport:
    status: str
    """``built``, ``failed``, or ``stopped`` (the user declined the plan)."""
    name: str
    thread_id: str
    module: str = ""
    request: str = ""
    input_schema: dict[str, Any] = field(default_factory=dict)
    intents: list[str] = field(default_factory=list)
    """The request split into steps."""
    candidates: list[dict[str, Any]] = field(default_factory=list)
    """Retrieved per step: ``{"step", "name", "score", "why"}``."""
    plan: list[dict[str, Any]] = field(default_factory=list)
    rounds: list[dict[str, Any]] = field(default_factory=list)
    dry_run: dict[str, Any] | None = None
    account: str = ""
    llm_calls: int = 0
    seconds: float = 0.0
    synthesized: list[dict[str, Any]] = field(default_factory=list)
    """Operators written for steps no registered operator fitted: where, the tests run, the verdict."""
    engines: dict[str, Any] = field(default_factory=dict)
    """The engines offered (name -> identity) and those left out (name -> why), with the operators left out."""

    @property
    def ok(self) -> bool:
        return self.status == "built"

    @classmethod
    def from_state(cls, state: AgentState, *, status: str, thread_id: str, seconds: float) -> AgentReport:
        return cls(
            status=status,
            name=state.get("name", ""),
            thread_id=thread_id,
            module=state.get("module", ""),
            request=state.get("request", ""),
            input_schema=state.get("input_schema", {}),
            intents=state.get("intents", []),
            candidates=state.get("candidates", []),
            plan=state.get("plan", []),
            rounds=state.get("rounds", []),
            dry_run=state.get("dry_run"),
            account=state.get("account", ""),
            llm_calls=state.get("llm_calls", 0),
            seconds=round(seconds, 2),
            synthesized=state.get("synthesized", []),
        )

    def to_markdown(self) -> str:
        lines = [f"# Agent: {self.name} — {self.status}", "", f"Request: {self.request}", ""]
        if self.input_schema:
            lines += [
                f"Input: {self.input_schema['path']} ({self.input_schema['files']} file(s), "
                f"columns {json.dumps(self.input_schema['columns'])})",
                "",
            ]
        if self.engines:
            lines += ["## Engines", *(f"- {n}: {i}" for n, i in self.engines["usable"].items())]
            lines += [f"- left out: {n}: {why}" for n, why in self.engines["left_out"].items()]
            left = [f"{o['operator']} ({o['engine']})" for o in self.engines["operators_left_out"]]
            lines += [f"- operators not offered: {', '.join(left)}" if left else "", ""]
        lines += ["## Steps of the request and the operators retrieved for each"]
        for step, intent in enumerate(self.intents):
            found = ", ".join(f"{c['name']} ({c['why']})" for c in self.candidates if c.get("step") == step)
            lines.append(f"{step + 1}. {intent}: {found}")
        lines.append("")
        lines += ["## Plan"]
        lines += [
            f"{i}. {s['operator']} params={json.dumps(s['params'])} keys={json.dumps(s['keys'])} — {s['why']}"
            for i, s in enumerate(self.plan, 1)
        ]
        if self.synthesized:
            lines += ["", "## Synthesized operators"]
            for made in self.synthesized:
                if made["status"] == "registered":
                    lines.append(f"- {made['name']} ({made['category']}) for {made['step']!r}: registered")
                    lines += [f"  - module: {made['module']}", f"  - test: {made['test']}"]
                    lines.append(f"  - tests run: {made['tests_run']}")
                else:
                    lines.append(f"- for {made['step']!r}: failed: {made['account']}")
                lines += [f"  - attempt {a['attempt']} failed at {a['stage']}: {a['detail']}" for a in made["attempts"]]
        lines += ["", "## Rounds"]
        for r in self.rounds:
            lines.append(f"- round {r['round']}: {' -> '.join(r['steps']) or 'no plan'}")
            lines += [f"  - error: {e}" for e in r["errors"]]
            if r.get("dry_run") and r["dry_run"].get("isolation"):
                lines.append(f"  - dry run in: {r['dry_run']['isolation']}")
            if r.get("dry_run") and r["dry_run"]["ok"]:
                lines += [
                    f"  - dry run: {s['step']} {s['rows_in']} -> {s['rows_out']}"
                    + (f" (rejected: {s['rejected']})" if s["rejected"] else "")
                    for s in r["dry_run"]["steps"]
                ]
        if self.module:
            lines += ["", f"Module: {self.module}"]
        if self.account:
            lines += ["", self.account]
        lines += ["", f"LLM calls: {self.llm_calls}; {self.seconds} s"]
        return "\n".join(lines)


def default_name(request: str) -> str:
    words = [w for w in re.findall(r"[a-z][a-z0-9]*", request.lower()) if len(w) > 2][:4]
    return "_".join(["agent", *words]) if words else "agent_pipeline"


def session_id(request: str, input: str, name: str) -> str:
    """The same command names the same session, so running it again resumes an interrupted one."""
    digest = hashlib.sha256("\0".join([request, input]).encode()).hexdigest()[:10]
    return f"{name}-{digest}"


def build_pipeline(
    request: str,
    *,
    input: str | Path | None = None,
    name: str | None = None,
    llm: LLM | None = None,
    embedder: Embedder | None = None,
    out: str | Path = ".",
    max_rounds: int = 3,
    runner: DryRunner | None = None,
    review: Review | None = None,
    thread_id: str | None = None,
    synthesize: bool = False,
    sandbox: Sandbox | None = None,
    synthesis_domain: str = DOMAIN,
    engines: AgentEngines | None = None,
) -> AgentReport:
    """Turn ``request`` into a pipeline module under ``<out>/dataflow_assets/agent_built/<name>.py``.

    ``llm`` defaults to the LLM resource from the environment (``DATAFLOW_LLM_*``; the embedded model if unset).
    With ``synthesize``, a step no registered operator fits gets a new operator, tested in ``sandbox`` (the
    bubblewrap sandbox by default) and written to ``<out>/operators/<synthesis_domain>/`` (see :mod:`.synthesize`).
    A session is checkpointed in ``<out>/.dataflow_agent/checkpoints.sqlite``; calling again with the same request,
    input and name (or ``thread_id``) resumes it where it stopped. ``engines`` are those the plan may use
    (default: every engine the definitions build from the environment that can be built here, see
    :mod:`dataflow_assets.agent.engines`); the dry run runs in the sandbox where bubblewrap works.
    """
    from langgraph.checkpoint.sqlite import SqliteSaver

    started = time.monotonic()
    out = Path(out).absolute()
    input_path = str(Path(input).absolute() if input else DEFAULT_INPUT)
    name = name or default_name(request)
    thread_id = thread_id or session_id(request, input_path, name)
    counting = CountingLLM(llm or _default_llm())
    engines = engines or probe_engines(out / ".dataflow_agent" / "delta")
    context = Context(
        llm=counting,
        out=out,
        runner=runner or default_runner(engines),
        embedder=embedder,
        max_rounds=max_rounds,
        synthesizer=Synthesizer(counting, out, sandbox=sandbox, domain=synthesis_domain) if synthesize else None,
        engines=set(engines.usable),
    )
    (out / CHECKPOINTS).parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(out / CHECKPOINTS, check_same_thread=False)) as connection:
        graph = build_graph(context, checkpointer=SqliteSaver(connection), interactive=review is not None)
        config = {"configurable": {"thread_id": thread_id}}
        saved = graph.get_state(config)
        if saved.values and not saved.next:  # finished before: report it again
            state = saved.values
        else:
            start = None if saved.next else {"request": request, "input": input_path, "name": name, "llm_calls": 0}
            state = graph.invoke(start, config)
            while review is not None and graph.get_state(config).next == ("generate",):
                edited = review(copy.deepcopy(state["plan"]))
                if edited is None:
                    return _report(state, "stopped", thread_id, started, engines)
                if edited != state["plan"]:
                    graph.update_state(config, {"plan": edited})
                state = graph.invoke(None, config)
    return _report(state, state["status"], thread_id, started, engines)


def _report(state: AgentState, status: str, thread_id: str, started: float, engines: AgentEngines) -> AgentReport:
    report = AgentReport.from_state(state, status=status, thread_id=thread_id, seconds=time.monotonic() - started)
    report.engines = {**engines.to_json(), "operators_left_out": engines.excluded()}
    return report


def _default_llm() -> LLM:
    from resources.llm.resource import LLMResource

    resource = LLMResource.from_env(Path(".dataflow_agent"))
    return resource.model_copy(update={"n_ctx": max(resource.n_ctx, N_CTX)}).build_client()


def default_embedder(out: str | Path) -> Embedder | None:
    """The embedder from the environment (the shipped all-MiniLM-L6-v2 by default), or None when it cannot load:
    retrieval then ranks lexically only."""
    try:
        from resources.embedder.resource import EmbedderResource

        client = EmbedderResource.from_env(Path(out) / ".dataflow_agent" / "delta").build_client()
        client.embed(["probe"])
    except Exception:  # an optional help to retrieval, never a reason to stop
        return None
    return client


def edit_plan_in_file(out: str | Path, show: Callable[[str], None], input: Callable[[str], str]) -> Review:
    """The ``--interactive`` review: the plan is written to a JSON file the user may edit, then approved."""

    def review(plan: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        path = Path(out) / ".dataflow_agent" / "plan.json"
        path.write_text(json.dumps(plan, indent=2))
        show(json.dumps(plan, indent=2))
        answer = input(f"Build this plan? Edit {path} first if you like. [y/n]").strip().lower()
        return json.loads(path.read_text()) if answer.startswith("y") else None

    return review
