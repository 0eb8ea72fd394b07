"""Plan a pipeline as structured output, in three asks, so that even a small model cannot leave the registry.

1. **Split the request** into the steps it asks for (short phrases, in order): retrieval then runs per step, so
   that an operator that does one part of a long request is not crowded out by the others (DataFlow-Agent's
   sub-intent decomposition, Liang et al. 2025).
2. **Pick one operator per step**, one ask each (a small model chooses badly among several lists at once, and shown
   the whole request it picks for the other steps): a JSON schema whose ``operator`` is an enum of that step's
   retrieved candidates, best match first (and ``none`` where the request has several steps: reading or saving the
   data needs no operator). Then the columns a chosen operator reads but nobody wrote are traced to the registry's
   operator that writes them, which is put before it (``language`` reads what ``language_id`` writes).
3. **Fill each step**: for step *i*, the schema is that operator's own pydantic schema (its typed fields, with
   their bounds and enums) plus its key bindings, where every key that *reads* is an enum of the columns available
   at step *i* (the input's columns plus what the steps before it write). A number the request does not state is
   left at its default, and a column a step writes keeps its conventional name (a refiner rewrites the column it
   reads) unless the request names another.

With grammar-constrained decoding (llama.cpp) or a server that enforces JSON schemas, the answer cannot name an
operator, a parameter or a column that does not exist; what is left to go wrong (a value out of range, a
condition that rejects everything) is caught by validation and the dry run and fed back here as error messages.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any

from operators.base import Category, KeyRole, Operator
from operators.errors import DataflowError
from operators.llm.protocol import LLM
from operators.registry import OperatorInfo, describe, get_operator

MAX_STEPS = 6
NEW = "__new__"
"""The pick schema's extra operator when synthesis is on: no registered operator fits; ``why`` says what a new one
must do (``dataflow_assets.agent.synthesize`` writes it)."""
NEW_TEXT = (
    ": none of the other options does this step: a new operator is written for it (it reads one column and keeps, "
    "rewrites or scores each row)"
)
NONE = "none"
"""The pick for a step that needs no operator (reading or saving the data)."""
NONE_TEXT = ": no operator; only for a step that reads or saves the data"
SPLIT_TEMPLATE = "agent_split_request@1"
PICK_TEMPLATE = "agent_pick_steps@3"
FILL_TEMPLATE = "agent_fill_step@2"
SYSTEM = (
    "You design data-preparation pipelines from a library of operators. Answer with JSON only, following the "
    "schema. Do what the request asks, nothing more, in the order it must run."
)
SAMPLING = {"temperature": 0.0, "max_tokens": 512, "seed": 0}
KINDS = {
    Category.FILTER: "keeps or drops whole rows by a rule or threshold",
    Category.REFINE: "rewrites the text of a column, keeps every row",
    Category.EVALUATE: "adds score or label columns, keeps every row",
    Category.GENERATE: "writes new rows or columns",
}
SPLIT_EXAMPLES = [
    (
        "Fix spelling mistakes in the answers and drop answers shorter than 3 sentences",
        ["correct spelling mistakes in the answers", "drop answers with fewer than 3 sentences"],
    ),
    ("Score how readable each review is", ["score the readability of each review"]),
    (
        "Keep the questions that mention Python, with a regular expression",
        ["keep questions that mention Python, with a regular expression"],
    ),
    (
        "Expand contractions, mask person names, then keep only Spanish texts",
        ["expand contractions", "mask person names", "keep only Spanish texts"],
    ),
]
"""Written for the prompt (not the evaluation's requests): how a request splits into steps."""
FILL_EXAMPLES = [
    (
        "drop answers shorter than 7 sentences",
        "dataflow_sentence_number",
        "question, answer",
        {"min_sentences": 7, "input_key": "answer"},
    ),
    ("remove numbers from the titles", "remove_numbers", "title, body", {"input_key": "title"}),
]
"""How a step's words become parameters and keys (the defaults left out)."""
NUMBER_WORDS = dict(
    zip(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "  # noqa: SIM905
        "seventeen eighteen nineteen twenty".split(),
        range(21),
        strict=True,
    )
) | {"thirty": 30, "forty": 40, "fifty": 50, "hundred": 100, "thousand": 1000}


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


def split_schema() -> dict[str, Any]:
    steps = {"type": "array", "items": {"type": "string", "maxLength": 120}, "minItems": 1, "maxItems": MAX_STEPS}
    return {"type": "object", "properties": {"steps": steps}, "required": ["steps"], "additionalProperties": False}


def pick_schema(names: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"operator": {"type": "string", "enum": names}},
        "required": ["operator"],
        "additionalProperties": False,
    }


def fill_schema(cls: type[Operator], available: list[str]) -> dict[str, Any]:
    """The operator's typed fields (its own pydantic schema, ``$ref``s inlined) plus its key bindings; a read key's
    own default comes first among the columns it may name."""
    schema = cls.model_json_schema()
    definitions = schema.get("$defs", {})
    properties = {name: _clean(_inline(prop, definitions)) for name, prop in schema.get("properties", {}).items()}
    required = list(schema.get("required", []))
    columns = [c for c in available if not c.startswith("_")]
    needed = needed_reads(cls)
    for key in cls.key_parameters().values():
        if key.role is KeyRole.READ and key.name in needed:
            choices = columns + ([key.default] if key.default.startswith("_") and key.default in available else [])
            choices = sorted(choices or available, key=lambda c: c != key.default)
            properties[key.name] = {"type": "string", "enum": choices}
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


def summary(info: OperatorInfo, limit: int = 220) -> str:
    """The docstring's first sentence (its first line may stop mid-sentence), in one line."""
    text = " ".join(f"{info.description} {info.details}".split()).replace("``", "")
    end = re.search(r"\.(\s|$)", text)
    text = text[: end.start() + 1] if end else text
    return text if len(text) <= limit else text[: limit - 3] + "..."


def split_prompt(request: str, input_schema: dict[str, Any], feedback: str) -> str:
    lines = [
        "TASK: split the request into steps",
        "Split a data-preparation request into the separate actions it asks for, in order: one step per action "
        "(clean, filter, score, deduplicate, split, generate...). Keep each step's numbers, column names and how it "
        "is to be done. Do not add steps the request does not ask for.",
        "EXAMPLES:",
        *(f"REQUEST: {r}\nSTEPS: {json.dumps(s)}" for r, s in SPLIT_EXAMPLES),
        "NOW:",
        f"REQUEST: {request}",
        f"INPUT COLUMNS: {json.dumps(input_schema['columns'])}",
    ]
    if feedback:
        lines += ["THE LAST PLAN FAILED. What went wrong:", feedback]
    lines.append('Answer with the JSON object {"steps": [...]}: the steps of this request, in order.')
    return "\n".join(lines)


def pick_prompt(input_schema: dict[str, Any], index: int, intent: str, names: list[str], feedback: str) -> str:
    """The step alone, not the whole request: a small model shown the request picks for its other steps."""
    lines = [
        f"TASK: choose the operator of step {index + 1}",
        "Choose the operator that does exactly what the step says. Kinds of operator: "
        + "; ".join(f"{kind} {what}" for kind, what in KINDS.items())
        + ". A filter that keeps rows with at least N also drops those with "
        "fewer: read what each option measures (words, characters, sentences...). A step that records, scores, "
        "labels or marks rows without dropping any takes an evaluate operator, not a filter. Each option names its "
        "domain: a step about one kind of data (math, code, SQL, RAG...) takes an operator of that domain where one "
        "fits. The options are listed best match first.",
        f"INPUT COLUMNS: {json.dumps(input_schema['columns'])}",
        f"SAMPLE ROW: {_short(input_schema['sample'][0] if input_schema['sample'] else {})}",
        f"STEP: {intent}",
        "OPTIONS:",
        *(f"- {name}" + _option_text(name) for name in names),
    ]
    if feedback:
        lines += ["THE LAST PLAN FAILED. Fix it. What went wrong:", feedback]
    lines.append(f'Which option does exactly this: "{intent}"? Answer with the JSON object {{"operator": <its name>}}.')
    return "\n".join(lines)


def _option_text(name: str) -> str:
    if name in (NONE, NEW):
        return NONE_TEXT if name == NONE else NEW_TEXT
    info = _info(name)
    return f" ({info.domain} {info.category}): {summary(info)}"


def fill_prompt(request: str, index: int, step: PlanStep, available: list[str], feedback: str) -> str:
    info = _info(step.operator)
    numbers = sorted({_plain(n) for n in request_numbers(request)})
    lines = [
        f"TASK: set the parameters of step {index + 1}: {step.operator}",
        "Set only the parameters this step asks for, with the request's numbers; leave out every other one (it "
        "keeps its default). A filter's parameters describe the rows it KEEPS. Bind each key to the column it "
        "must read.",
        "EXAMPLES (other operators):",
        *(
            f"- step {step!r}, operator {name}, columns {columns} -> {json.dumps(answer)}"
            for step, name, columns, answer in FILL_EXAMPLES
        ),
        f"OPERATOR: {info.name} ({info.category}, {KINDS.get(info.category, '')}): {summary(info, 400)}",
        f"REQUEST: {request}",
        f"THIS STEP: {step.why}",
        f"NUMBERS IN THE REQUEST: {', '.join(numbers) or 'none'}",
        "PARAMETERS:",
        *(f"- {p.name} ({_kind(p.type)}{_default(p.default, p.required)}): {p.description}" for p in info.parameters),
        "KEYS (column names):",
        *(f"- {k.name} ({k.role}s, default {k.default!r}): {k.description}" for k in [*info.inputs, *info.outputs]),
        f"COLUMNS AVAILABLE AT THIS STEP: {', '.join(c for c in available if not c.startswith('_'))}",
    ]
    if feedback:
        lines += ["THE LAST PLAN FAILED. What went wrong:", feedback]
    lines.append(
        f'Answer with the JSON object of the key bindings and of the parameters that "{step.why}" sets, '
        "with the request's numbers."
    )
    return "\n".join(lines)


def _kind(type_name: str) -> str:
    return {"int": "integer", "float": "number", "bool": "true/false", "str": "text"}.get(type_name, type_name)


def _default(value: Any, required: bool) -> str:
    return ", required" if required else f", default {json.dumps(value)}"


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


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


def split_request(llm: LLM, request: str, input_schema: dict[str, Any], feedback: str = "") -> list[str]:
    """Ask 1: the steps the request asks for, as short phrases, in order. A step most of whose words are not the
    request's is dropped (a small model fills the list with generic words, or copies the prompt's examples); with
    none left, the request is one step."""
    answer = _ask(llm, split_prompt(request, input_schema, feedback), split_schema(), SPLIT_TEMPLATE)
    words = _content_words(request)
    steps = [" ".join(str(s).split()) for s in answer.get("steps") or []]
    return [s for s in steps if 2 * len(_content_words(s) & words) > len(_content_words(s))][:MAX_STEPS] or [request]


def _content_words(text: str) -> set[str]:
    """The text's words that carry meaning, a plural's final s dropped ("words" and "word" are one word)."""
    from bm25s.stopwords import STOPWORDS_EN

    words = (w for w in re.findall(r"[a-z0-9]{3,}", text.lower()) if w not in STOPWORDS_EN)
    return {w[:-1] if w.endswith("s") and not w.endswith("ss") and len(w) > 3 else w for w in words}


def pick_steps(
    llm: LLM,
    request: str,
    input_schema: dict[str, Any],
    intents: list[str],
    options: list[list[str]],
    feedback: str = "",
    allowed: list[str] | None = None,
) -> list[PlanStep]:
    """Ask 2: one operator per step of the request. The schema's enum for a step is its retrieved ``options`` (and
    none when there are several steps); an answer from a server that does not enforce schemas may name any operator
    in ``allowed`` (every usable one of the registry by default)."""
    picked: list[PlanStep] = []
    for index, (intent, names) in enumerate(zip(intents, options, strict=True)):
        names = [*names, NONE] if len(intents) > 1 else names
        names = [*names, NEW] if allowed and NEW in allowed else names
        prompt = pick_prompt(input_schema, index, intent, names, feedback)
        name = _ask(llm, prompt, pick_schema(names), PICK_TEMPLATE).get("operator")
        if name == NONE:
            continue
        if name not in (allowed or names):
            raise PlanningError(f"the planner named an operator that is not in the registry: {name!r}")
        if picked and picked[-1].operator == name != NEW:  # two phrasings of one action (or a small model repeating)
            picked[-1].why = f"{picked[-1].why}; {intent}"
            continue
        picked.append(PlanStep(name, intent))
    if not picked and len(intents) > 1:  # every step said "none": pick once for the request as a whole
        merged = list(dict.fromkeys(name for names in options for name in names))
        return pick_steps(llm, request, input_schema, [request], [merged], feedback, allowed)
    if not picked:
        raise PlanningError("no step of the request matched an operator", hint="name the operators in the request")
    return picked


def add_producers(steps: list[PlanStep], columns: list[str], usable: list[str]) -> list[PlanStep]:
    """Put before each step the operator that writes the columns it reads under their own names and nobody wrote
    yet (``language`` reads ``language`` and ``language_score``: ``language_id`` writes both). Only an evaluator
    that writes every such column is put in; a step's main input (``input_key``) is the user's to bind."""
    available = list(columns)
    planned: list[PlanStep] = []
    for step in steps:
        cls = get_operator(step.operator)
        missing = {
            k.default
            for k in cls.key_parameters().values()
            if k.role is KeyRole.READ and k.name != "input_key" and k.default not in available
        }
        producer = next((name for name in usable if missing and missing <= _evaluator_writes(name)), None)
        if producer is not None and producer != step.operator:
            planned.append(PlanStep(producer, f"writes {', '.join(sorted(missing))}, which {step.operator} reads"))
            available = columns_after(planned[-1], available)
        planned.append(step)
        available = columns_after(step, available)
    return planned


def _evaluator_writes(name: str) -> set[str]:
    cls = get_operator(name)
    if cls.category is not Category.EVALUATE:
        return set()
    return {k.default for k in cls.key_parameters().values() if k.role is KeyRole.WRITE}


def fill_steps(
    llm: LLM, request: str, steps: list[PlanStep], input_columns: list[str], feedback: str = ""
) -> list[PlanStep]:
    """Ask 3: each step's parameters and keys, with the columns available at that step as the keys' enum."""
    available = list(input_columns)
    filled = []
    for index, step in enumerate(steps):
        cls = get_operator(step.operator)
        schema = fill_schema(cls, available)
        answer = _ask(llm, fill_prompt(request, index, step, available, feedback), schema, FILL_TEMPLATE)
        params = grounded_params(cls, {k: v for k, v in answer.items() if k in cls.model_fields}, request)
        done = PlanStep(step.operator, step.why, params, distinct_writes(cls, bind_keys(cls, answer, request)))
        filled.append(done)
        available = columns_after(done, available)
    return filled


def bind_keys(cls: type[Operator], answer: dict[str, Any], request: str) -> dict[str, str]:
    """The key bindings of an answer. A written column keeps its default name unless the request names the one the
    answer gives; a refiner whose output defaults to its input's column rewrites the column it reads."""
    parameters = cls.key_parameters().values()
    keys = {k.name: str(answer[k.name]) for k in parameters if k.role is KeyRole.READ and answer.get(k.name)}
    read_defaults = {k.default: keys.get(k.name, k.default) for k in parameters if k.role is KeyRole.READ}
    words = set(re.findall(r"[\w.-]+", request.lower()))
    for key in parameters:
        if key.role is not KeyRole.WRITE:
            continue
        given = str(answer.get(key.name) or "")
        if given and given.lower() in words:
            keys[key.name] = given
        elif cls.category is Category.REFINE and key.default in read_defaults:
            keys[key.name] = read_defaults[key.default]
    return keys


def grounded_params(cls: type[Operator], params: dict[str, Any], request: str) -> dict[str, Any]:
    """Drop a number the request does not state (give or take one, or as a percentage): it keeps its default.
    Small models fill every field they see with a plausible value; only the request's own numbers are asked."""
    numbers = request_numbers(request)
    kept = {}
    for name, value in params.items():
        number = isinstance(value, int | float) and not isinstance(value, bool)
        default = cls.model_fields[name].get_default(call_default_factory=True)
        if number and value != default and not any(_near(value, n) for n in numbers):
            continue
        kept[name] = value
    return kept


def request_numbers(request: str) -> list[float]:
    """The numbers a request states, in digits or words (``5``, ``2.5``, ``five``, ``1,000``, ``30%``; "no" or
    "without" state a zero: "no overlap")."""
    text = request.lower().replace(",", "")
    numbers = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", text)]
    words = NUMBER_WORDS | {"no": 0, "none": 0, "without": 0}
    numbers += [float(words[w]) for w in re.findall(r"[a-z]+", text) if w in words]
    numbers += [float(n) / 100 for n in re.findall(r"(\d+(?:\.\d+)?)\s*(?:%|percent)", text)]
    return numbers


def _near(value: float, number: float) -> bool:
    """``value`` is what the request's ``number`` says: itself, one more or less (a strict bound made inclusive)."""
    return abs(value - number) <= 1 if float(number).is_integer() and float(value).is_integer() else value == number


def _info(name: str) -> OperatorInfo:
    return describe(get_operator(name))
