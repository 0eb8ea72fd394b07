"""Plan a pipeline as structured output, in two asks, so that even a small model cannot leave the registry.

1. **Pick the steps**: a JSON schema whose ``operator`` is an enum of the retrieved candidates (a list of at most
   ``MAX_STEPS``, each with a short reason).
2. **Fill each step**: for step *i*, the schema is that operator's own pydantic schema (its typed fields, with
   their bounds and enums) plus its key bindings, where every key that *reads* is an enum of the columns available
   at step *i* (the input's columns plus what the steps before it write).

With grammar-constrained decoding (llama.cpp) or a server that enforces JSON schemas, the answer cannot name an
operator, a parameter or a column that does not exist; what is left to go wrong (a value out of range, a
condition that rejects everything) is caught by validation and the dry run and fed back here as error messages.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from operators.base import KeyRole, Operator
from operators.errors import DataflowError
from operators.llm.protocol import LLM
from operators.registry import describe, get_operator

MAX_STEPS = 6
NEW = "__new__"
"""The pick schema's extra operator when synthesis is on: no registered operator fits; ``why`` says what a new one
must do (``dataflow_assets.agent.synthesize`` writes it)."""
NEW_DESCRIPTION = (
    "none of the operators above does this step: a new operator is written for it. Say in why exactly what it must "
    "do, to which column"
)
PICK_TEMPLATE = "agent_pick_steps@1"
FILL_TEMPLATE = "agent_fill_step@1"
SYSTEM = (
    "You design data-preparation pipelines from a library of operators. Answer with JSON only, following the "
    "schema. Choose the fewest operators that do what the request asks, in the order they must run."
)
SAMPLING = {"temperature": 0.0, "max_tokens": 512, "seed": 0}


class PlanningError(DataflowError):
    """The model gave no usable plan (a failed call, or an answer outside the schema)."""


@dataclass
class PlanStep:
    operator: str
    why: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"operator": self.operator, "why": self.why, "params": self.params, "keys": self.keys}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PlanStep:
        return cls(data["operator"], data.get("why", ""), dict(data.get("params", {})), dict(data.get("keys", {})))


def pick_schema(candidates: list[str]) -> dict[str, Any]:
    step = {
        "type": "object",
        "properties": {
            "operator": {"type": "string", "enum": candidates},
            "why": {"type": "string", "maxLength": 160},
        },
        "required": ["operator", "why"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {"steps": {"type": "array", "items": step, "minItems": 1, "maxItems": MAX_STEPS}},
        "required": ["steps"],
        "additionalProperties": False,
    }


def fill_schema(cls: type[Operator], available: list[str]) -> dict[str, Any]:
    """The operator's typed fields (its own pydantic schema, ``$ref``s inlined) plus its key bindings."""
    schema = cls.model_json_schema()
    definitions = schema.get("$defs", {})
    properties = {name: _clean(_inline(prop, definitions)) for name, prop in schema.get("properties", {}).items()}
    required = list(schema.get("required", []))
    columns = [c for c in available if not c.startswith("_")]
    needed = needed_reads(cls)
    for key in cls.key_parameters().values():
        if key.role is KeyRole.READ and key.name in needed:
            choices = columns + ([key.default] if key.default.startswith("_") and key.default in available else [])
            properties[key.name] = {"type": "string", "enum": choices or available}
            required.append(key.name)
        elif key.role is KeyRole.READ:  # an optional column (e.g. a code row's language): may stay unbound
            properties[key.name] = {"type": "string", "enum": list(dict.fromkeys([key.default, *columns]))}
        else:
            properties[key.name] = {"type": "string", "maxLength": 64}
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


def needed_reads(cls: type[Operator]) -> set[str]:
    """The read keys whose column must exist: an operator's ``reads()`` lists the columns it requires, and a read
    key it leaves out (a language or path column the code operators use when present) is optional."""
    defaults = {k.name: k.default for k in cls.key_parameters().values()}
    reads = [k.name for k in cls.key_parameters().values() if k.role is KeyRole.READ]
    try:
        required = set(cls.model_construct().reads(defaults))
    except Exception:  # an operator whose reads() needs its parameters: every read key is required
        return set(reads)
    return {name for name in reads if defaults[name] in required}


def distinct_writes(cls: type[Operator], keys: dict[str, str]) -> dict[str, str]:
    """``keys`` with any write key that repeats an earlier write key's column set back to its default (or, when
    that is taken too, to a numbered one): two outputs of one step in one column would fail only when it runs."""
    taken: set[str] = set()
    cleaned = dict(keys)
    for key in cls.key_parameters().values():
        if key.role is not KeyRole.WRITE:
            continue
        column = cleaned.get(key.name, key.default)
        if column in taken:
            column = key.default if key.default not in taken else f"{key.default}_{len(taken) + 1}"
            cleaned[key.name] = column
        taken.add(column)
    return cleaned


def _inline(node: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline(copy.deepcopy(definitions[node["$ref"].rsplit("/", 1)[-1]]), definitions)
        return {k: _inline(v, definitions) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v, definitions) for v in node]
    return node


def _clean(node: Any) -> Any:
    """Drop what only documents (titles) so the grammar stays small; keep types, bounds, enums, defaults."""
    if isinstance(node, dict):
        return {k: _clean(v) for k, v in node.items() if k != "title"}
    if isinstance(node, list):
        return [_clean(v) for v in node]
    return node


def columns_after(step: PlanStep, available: list[str]) -> list[str]:
    """The columns after ``step`` (best effort for a plan whose parameters may still be invalid)."""
    cls = get_operator(step.operator)
    keys = {k.name: step.keys.get(k.name, k.default) for k in cls.key_parameters().values()}
    try:
        return cls(**step.params).output_columns(available, keys)
    except Exception:  # an invalid parameter: validation reports it; here only the columns written matter
        return available + [keys[k.name] for k in cls.key_parameters().values() if k.role is KeyRole.WRITE]


def pick_prompt(request: str, input_schema: dict[str, Any], candidates: list[dict[str, str]], feedback: str) -> str:
    lines = [
        "TASK: choose the operators",
        f"REQUEST: {request}",
        f"INPUT COLUMNS: {json.dumps(input_schema['columns'])}",
        f"SAMPLE ROW: {_short(input_schema['sample'][0] if input_schema['sample'] else {})}",
        "OPERATORS:",
        *(f"- {c['name']} ({c['category']}): {c['description']}" for c in candidates),
    ]
    if feedback:
        lines += ["THE LAST PLAN FAILED. Fix it. What went wrong:", feedback]
    lines.append(f"List the steps, first to last (at most {MAX_STEPS}), each with a short reason.")
    return "\n".join(lines)


def fill_prompt(request: str, index: int, step: PlanStep, available: list[str], feedback: str) -> str:
    info = describe(get_operator(step.operator))
    lines = [
        f"TASK: set the parameters of step {index + 1}: {step.operator}",
        f"REQUEST: {request}",
        f"OPERATOR: {info.name} ({info.category}): {info.description}",
        "PARAMETERS:",
        *(
            f"- {p.name} ({p.type}{', required' if p.required else f', default {json.dumps(p.default)}'}): "
            f"{p.description}"
            for p in info.parameters
        ),
        "KEYS (column names):",
        *(f"- {k.name} ({k.role}, default {k.default!r}): {k.description}" for k in [*info.inputs, *info.outputs]),
        f"COLUMNS AVAILABLE AT THIS STEP: {', '.join(c for c in available if not c.startswith('_'))}",
    ]
    if feedback:
        lines += ["THE LAST PLAN FAILED. What went wrong:", feedback]
    lines.append("Give only the parameters the request needs changed from their defaults, and the key bindings.")
    return "\n".join(lines)


def _short(row: dict[str, Any], limit: int = 300) -> str:
    text = json.dumps(row, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + "..."


def _ask(
    llm: LLM,
    prompt: str,
    schema: dict[str, Any],
    template: str,
    *,
    system: str = SYSTEM,
    sampling: dict[str, Any] = SAMPLING,
) -> dict[str, Any]:
    [result] = llm.generate([prompt], system=system, json_schema=schema, template=template, **sampling)
    if not result.ok:
        raise PlanningError(f"the planner's call failed ({result.error}): {result.error_message}")
    if isinstance(result.parsed, dict):
        return result.parsed
    try:
        value = json.loads(result.text or "")
    except json.JSONDecodeError:
        raise PlanningError(f"the planner answered no JSON: {(result.text or '')[:200]!r}") from None
    if not isinstance(value, dict):
        raise PlanningError(f"the planner answered {type(value).__name__}, not an object")
    return value


def pick_steps(
    llm: LLM,
    request: str,
    input_schema: dict[str, Any],
    candidates: list[str],
    feedback: str = "",
    allowed: list[str] | None = None,
) -> list[PlanStep]:
    """Stage 1: the operators, in order, each with why. The prompt describes the retrieved ``candidates``; the
    schema's enum is ``allowed`` (every usable operator of the registry by default), so a retrieval miss narrows
    what the model reads, not what it may name."""
    docs = [{"name": n, **_doc(n)} for n in candidates if n != NEW]
    allowed = allowed or candidates
    if NEW in allowed:
        docs.append({"name": NEW, "category": "new", "description": NEW_DESCRIPTION})
    answer = _ask(llm, pick_prompt(request, input_schema, docs, feedback), pick_schema(allowed), PICK_TEMPLATE)
    steps = answer.get("steps")
    if not isinstance(steps, list) or not steps:
        raise PlanningError("the planner chose no steps")
    picked = []
    for step in steps[:MAX_STEPS]:
        if not isinstance(step, dict) or step.get("operator") not in allowed:
            raise PlanningError(f"the planner named an operator that is not in the registry: {step!r}")
        why = str(step.get("why", ""))
        if picked and picked[-1].operator == step["operator"] and (step["operator"] != NEW or picked[-1].why == why):
            continue  # small models repeat the last item until the length bound; twice in a row adds nothing
        picked.append(PlanStep(step["operator"], why))
    return picked


def fill_steps(
    llm: LLM, request: str, steps: list[PlanStep], input_columns: list[str], feedback: str = ""
) -> list[PlanStep]:
    """Stage 2: each step's parameters and keys, with the columns available at that step as the keys' enum."""
    available = list(input_columns)
    filled = []
    for index, step in enumerate(steps):
        cls = get_operator(step.operator)
        schema = fill_schema(cls, available)
        answer = _ask(llm, fill_prompt(request, index, step, available, feedback), schema, FILL_TEMPLATE)
        keys = distinct_writes(cls, {k: str(answer[k]) for k in cls.key_parameters() if answer.get(k)})
        params = {k: v for k, v in answer.items() if k in cls.model_fields}
        done = PlanStep(step.operator, step.why, params, keys)
        filled.append(done)
        available = columns_after(done, available)
    return filled


def _doc(name: str) -> dict[str, str]:
    info = describe(get_operator(name))
    return {"category": str(info.category), "description": info.description}
