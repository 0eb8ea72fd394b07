"""The agent's LangGraph state graph.

understand (the input's schema, and the request split into steps) -> retrieve (candidates per step) -> plan (an
operator per step, then its parameters) -> generate -> validate -> dry_run -> finish, with ``repair`` looping back
to ``plan`` (the error messages become the planner's feedback) for at most ``max_rounds`` rounds and ``fail`` ending
with an account of every round. The state holds only JSON values (the engines live in :class:`Context`), and a
SQLite checkpointer saves it after every node, so an interrupted session resumes from its last finished node by
thread id. An interactive session stops before ``generate`` so the user can approve or edit the plan.
"""

from __future__ import annotations

import tempfile
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from dataflow_assets.agent.dryrun import DryRunner, DryRunResult, write_sample
from dataflow_assets.agent.plan import (
    NEW,
    PlanningError,
    PlanStep,
    add_producers,
    fill_steps,
    pick_steps,
    split_request,
)
from dataflow_assets.agent.render import render, step_names, write_module
from dataflow_assets.agent.retrieve import pipeline_operators, retrieve
from dataflow_assets.agent.understand import understand_input
from dataflow_assets.agent.validate import validate_module
from operators.embedder.protocol import Embedder
from operators.errors import MissingDependencyError
from operators.llm.protocol import LLM, LLMResult

if TYPE_CHECKING:
    from dataflow_assets.agent.synthesize import Synthesizer


class AgentState(TypedDict, total=False):
    request: str
    input: str
    name: str
    input_schema: dict[str, Any]
    intents: list[str]
    candidates: list[dict[str, Any]]
    plan: list[dict[str, Any]]
    module: str
    errors: list[str]
    dry_run: dict[str, Any] | None
    rounds: list[dict[str, Any]]
    round: int
    llm_calls: int
    status: str
    account: str
    synthesized: list[dict[str, Any]]


class CountingLLM:
    """Counts the prompts sent to the wrapped model (the evaluation reports LLM calls per request)."""

    def __init__(self, llm: LLM) -> None:
        self.llm = llm
        self.calls = 0

    @property
    def model_id(self) -> str:
        return self.llm.model_id

    def generate(self, prompts: Sequence[Any], **options: Any) -> list[LLMResult]:
        self.calls += len(prompts)
        return self.llm.generate(prompts, **options)


@dataclass
class Context:
    llm: CountingLLM
    out: Path
    runner: DryRunner
    embedder: Embedder | None = None
    max_rounds: int = 3
    candidates: int = 6
    """Operators retrieved per step of the request: the model's options (more options, more distractors for a
    small model; the right one ranks in the top three for 32 of 34 steps we tried)."""
    synthesizer: Synthesizer | None = None
    """Writes an operator for a step the planner marks ``__new__``; None: the planner may not."""
    engines: Collection[str] | None = None
    """The engines the dry run can provide (``agent/engines.py``); None: any."""

    def allowed(self) -> list[str]:
        """Every operator a plan may name: the registry's, less those a linear pipeline or the engines cannot run."""
        return [info.name for info in pipeline_operators(self.engines)]


def build_graph(context: Context, *, checkpointer: Any = None, interactive: bool = False) -> Any:
    try:
        from langgraph.graph import END, START, StateGraph
    except ImportError:
        raise MissingDependencyError("the agent needs langgraph", hint="pip install -e '.[agent]'") from None
    nodes = Nodes(context)
    graph = StateGraph(AgentState)
    for name in ("understand", "retrieve", "plan", "generate", "validate", "dry_run", "repair", "fail", "finish"):
        graph.add_node(name, getattr(nodes, name))
    graph.add_edge(START, "understand")
    graph.add_edge("understand", "retrieve")
    graph.add_edge("retrieve", "plan")
    graph.add_conditional_edges("plan", nodes.after_plan, ["generate", "repair", "fail"])
    graph.add_edge("generate", "validate")
    graph.add_conditional_edges("validate", nodes.after_check("dry_run"), ["dry_run", "repair", "fail"])
    graph.add_conditional_edges("dry_run", nodes.after_check("finish"), ["finish", "repair", "fail"])
    graph.add_edge("repair", "plan")
    graph.add_edge("fail", END)
    graph.add_edge("finish", END)
    return graph.compile(checkpointer=checkpointer, interrupt_before=["generate"] if interactive else None)


class Nodes:
    """One method per node: each reads the state and returns the keys it changes."""

    def __init__(self, context: Context) -> None:
        self.context = context

    def understand(self, state: AgentState) -> AgentState:
        schema = understand_input(state["input"]).to_json()
        llm = self.context.llm
        before = llm.calls
        try:
            intents = split_request(llm, state["request"], schema)
        except PlanningError:  # retrieval and the pick then see the request whole
            intents = [state["request"]]
        calls = state.get("llm_calls", 0) + llm.calls - before
        return {"input_schema": schema, "intents": intents, "round": 0, "rounds": [], "errors": [], "llm_calls": calls}

    def retrieve(self, state: AgentState) -> AgentState:
        operators = pipeline_operators(self.context.engines)
        candidates = []
        for step, intent in enumerate(state["intents"]):
            found = retrieve(intent, k=self.context.candidates, embedder=self.context.embedder, operators=operators)
            candidates += [{"step": step, "name": c.name, "score": c.score, "why": c.why} for c in found]
        return {"candidates": candidates}

    def plan(self, state: AgentState) -> AgentState:
        llm = self.context.llm
        before = llm.calls
        feedback = "\n".join(f"- {e}" for e in state.get("errors", []))
        made = list(state.get("synthesized", []))  # operators synthesized earlier in the session are options
        intents = state["intents"]
        options = [
            list(dict.fromkeys([c["name"] for c in state["candidates"] if c["step"] == i] + [m["name"] for m in made]))
            for i in range(len(intents))
        ]
        schema = state["input_schema"]
        synthesizer = self.context.synthesizer
        allowed = self.context.allowed() + ([NEW] if synthesizer is not None else [])
        try:
            steps = pick_steps(llm, state["request"], schema, intents, options, feedback, allowed)
            if synthesizer is not None:
                steps = synthesizer.resolve(steps, state["request"], schema, made)
            steps = add_producers(steps, list(schema["columns"]), allowed)
            steps = fill_steps(llm, state["request"], steps, list(schema["columns"]), feedback)
        except PlanningError as error:
            calls = state.get("llm_calls", 0) + llm.calls - before
            return {"plan": [], "errors": [error.args[0]], "llm_calls": calls, "synthesized": made}
        return {
            "plan": [s.to_json() for s in steps],
            "errors": [],
            "dry_run": None,
            "llm_calls": state.get("llm_calls", 0) + llm.calls - before,
            "synthesized": made,
        }

    def generate(self, state: AgentState) -> AgentState:
        steps = [PlanStep.from_json(s) for s in state["plan"]]
        text = render(state["name"], state["request"], steps, state["input_schema"])
        return {"module": str(write_module(self.context.out, state["name"], text))}

    def validate(self, state: AgentState) -> AgentState:
        return {"errors": validate_module(Path(state["module"]))}

    def dry_run(self, state: AgentState) -> AgentState:
        schema = state["input_schema"]
        with tempfile.TemporaryDirectory(prefix="dataflow-sample-") as folder:
            sample = write_sample(schema["path"], schema["pattern"], Path(folder))
            result = self.context.runner.run(Path(state["module"]), sample)
        return {"dry_run": result.to_json(), "errors": dry_run_errors(result)}

    def repair(self, state: AgentState) -> AgentState:
        return {"rounds": [*state["rounds"], _round(state)], "round": state["round"] + 1}

    def fail(self, state: AgentState) -> AgentState:
        rounds = [*state["rounds"], _round(state)]
        last = "; ".join(state.get("errors", [])) or "no error message"
        account = (
            f"No valid pipeline after {len(rounds)} round(s) (at most {self.context.max_rounds + 1}). "
            f"The last round failed with: {last}. Each round's plan and errors are listed above; try naming the "
            "operators or columns in the request, a stronger model (--model PATH.gguf or DATAFLOW_LLM_BACKEND), "
            "or --interactive to edit the plan."
        )
        return {"rounds": rounds, "status": "failed", "account": account}

    def finish(self, state: AgentState) -> AgentState:
        return {"rounds": [*state["rounds"], _round(state)], "status": "built", "account": ""}

    def after_plan(self, state: AgentState) -> str:
        return "generate" if state["plan"] else self._retry(state)

    def after_check(self, success: str) -> Any:
        def route(state: AgentState) -> str:
            return self._retry(state) if state.get("errors") else success

        route.__name__ = f"route_to_{success}"
        return route

    def _retry(self, state: AgentState) -> str:
        return "repair" if state["round"] < self.context.max_rounds else "fail"


def dry_run_errors(result: DryRunResult) -> list[str]:
    """What failed on the sample: an error, or a step that rejected every row it was given."""
    if not result.ok:
        return [f"dry run on a sample: {result.error}"]
    for step in result.steps:
        if step.rows_in and not step.rows_out:
            reasons = ", ".join(f"{k} ({v})" for k, v in step.rejected.items()) or "no reason recorded"
            return [
                f"step {step.step!r} kept none of the {step.rows_in} sample rows it was given; rejected by: "
                f"{reasons}. Loosen its parameters or drop the step"
            ]
    return []


def _round(state: AgentState) -> dict[str, Any]:
    plan = state.get("plan", [])
    return {
        "round": state["round"] + 1,
        "plan": plan,
        "steps": step_names([PlanStep.from_json(s) for s in plan]) if plan else [],
        "errors": list(state.get("errors", [])),
        "dry_run": state.get("dry_run"),
    }
