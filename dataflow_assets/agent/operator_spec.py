"""What the model writes when the agent synthesizes an operator, and the checks it passes before any of it runs.

The model answers two JSON schemas, so that a grammar-constrained small model cannot leave the operator contract:

1. the **sketch**: ``name`` (snake_case), ``category`` (``refine``, ``evaluate`` or ``filter``), a one-line
   ``summary`` and ``input_key``, an enum of the input's columns;
2. the **logic**: the typed ``parameters`` (at most three, each ``int``/``float``/``bool``/``string`` with a
   default), the standard-library ``imports`` it needs (an enum), the ``code`` (the body of one plain Python
   function of one row's value), its output (a column name and a type; a filter's function says keep or not), and
   ``examples`` (input value -> expected output) that become its test.

Everything else (the class, ``@register``, the docstring, the key bindings, type hints, the test) is rendered from
templates (:mod:`.operator_render`), so the contract holds by construction. :func:`policy_problems` is the static
check the code must also pass to be registered: the operator will later run in the user's own process, outside the
sandbox its tests ran in, so it may not import, open files, evaluate code or reach for dunder attributes.
"""

from __future__ import annotations

import ast
import builtins
import keyword
import re
import textwrap
from dataclasses import asdict, dataclass, field
from typing import Any

from operators.base import Filter
from operators.errors import DataflowError

CATEGORIES = ("refine", "evaluate", "filter")
VALUE_TYPES = ("string", "int", "float", "bool")
PYTHON_TYPES = {"string": "str", "int": "int", "float": "float", "bool": "bool"}
ALLOWED_IMPORTS = ("re", "math", "string", "unicodedata", "statistics", "collections", "itertools", "json")
"""Standard-library modules the code may use: pure computation, no I/O."""
FORBIDDEN_NAMES = frozenset(
    {
        "open",
        "exec",
        "eval",
        "compile",
        "__import__",
        "globals",
        "locals",
        "vars",
        "getattr",
        "setattr",
        "delattr",
        "input",
        "breakpoint",
        "exit",
        "quit",
        "help",
        "memoryview",
        "os",
        "sys",
        "subprocess",
        "socket",
        "shutil",
        "pathlib",
        "importlib",
        "builtins",
    }
)
"""Names the code may not use: I/O, dynamic code and reflection (and modules it could reach without importing)."""
NAME_PATTERN = r"^[a-z][a-z0-9_]{2,39}$"
PARAMETER_PATTERN = r"^[a-z][a-z0-9_]{0,30}$"
MAX_PARAMETERS = 3
MAX_EXAMPLES = 6
KEEP, REJECT = "keep", "reject"
RESERVED = frozenset({"value", "self", "input_key", "output_key", "compute", "pl", "Field", "register"}) | frozenset(
    name for name in dir(Filter) if not name.startswith("_")
)
"""Parameter names that would shadow the function's argument, the keys or the operator's own attributes."""


class SpecError(DataflowError):
    """The model's answer does not make a valid operator (a name, a type, an example that does not parse)."""


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    default: Any
    description: str


@dataclass(frozen=True)
class Example:
    input: Any
    expected: Any
    """The output value; for a filter, True when the row must be kept."""


@dataclass(frozen=True)
class OperatorSpec:
    """A synthesized operator, complete: what the templates render."""

    name: str
    category: str
    summary: str
    step: str
    """What the plan asked the operator to do (its ``why``)."""
    input_key: str
    input_type: str
    output_key: str
    output_type: str
    """``bool`` for a filter: its function says whether to keep the row."""
    code: str
    """The body of ``compute(value, *parameters)``, dedented."""
    parameters: list[Parameter] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)
    examples: list[Example] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OperatorSpec:
        return cls(
            **{k: v for k, v in data.items() if k not in {"parameters", "examples"}},
            parameters=[Parameter(**p) for p in data.get("parameters", [])],
            examples=[Example(**e) for e in data.get("examples", [])],
        )


def sketch_schema(columns: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "name": {"type": "string", "pattern": NAME_PATTERN},
            "category": {"type": "string", "enum": list(CATEGORIES)},
            "summary": {"type": "string", "maxLength": 160},
            "input_key": {"type": "string", "enum": columns},
        },
        "required": ["name", "category", "summary", "input_key"],
        "additionalProperties": False,
    }


def logic_schema(category: str) -> dict[str, Any]:
    parameter = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "pattern": PARAMETER_PATTERN},
            "type": {"type": "string", "enum": list(VALUE_TYPES)},
            "default": {"type": "string", "maxLength": 40},
            "description": {"type": "string", "maxLength": 120},
        },
        "required": ["name", "type", "default", "description"],
        "additionalProperties": False,
    }
    expected = {"type": "string", "enum": [KEEP, REJECT]} if category == "filter" else {"type": "string"}
    example = {
        "type": "object",
        "properties": {"input": {"type": "string"}, "expected": expected},
        "required": ["input", "expected"],
        "additionalProperties": False,
    }
    properties: dict[str, Any] = {
        "parameters": {"type": "array", "items": parameter, "maxItems": MAX_PARAMETERS},
        "imports": {"type": "array", "items": {"type": "string", "enum": list(ALLOWED_IMPORTS)}, "maxItems": 4},
        "code": {"type": "string"},  # no maxLength: llama.cpp's grammar unrolls it (max_tokens bounds it)
        "examples": {"type": "array", "items": example, "minItems": 2, "maxItems": MAX_EXAMPLES},
    }
    if category != "filter":
        properties = {
            "output_key": {"type": "string", "pattern": PARAMETER_PATTERN},
            "output_type": {"type": "string", "enum": list(VALUE_TYPES)},
            **properties,
        }
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


def check_sketch(sketch: dict[str, Any], columns: dict[str, str]) -> dict[str, Any]:
    """The sketch with its fields checked (name, category, a scalar input column); else a :class:`SpecError`."""
    input_key = str(sketch.get("input_key", ""))
    if input_key not in columns:
        raise SpecError(f"input_key {input_key!r} is not a column of the input ({', '.join(columns)})")
    if columns[input_key].rstrip("?") not in VALUE_TYPES:
        raise SpecError(f"input column {input_key!r} holds {columns[input_key]} values; an operator here reads scalars")
    return {
        "name": _matching("name", str(sketch.get("name", "")), NAME_PATTERN),
        "category": _one_of("category", sketch.get("category"), CATEGORIES),
        "summary": " ".join(str(sketch.get("summary", "")).split()),
        "input_key": input_key,
    }


def build_spec(step: str, sketch: dict[str, Any], logic: dict[str, Any], columns: dict[str, str]) -> OperatorSpec:
    """The operator the two answers describe; a :class:`SpecError` names the field that does not fit."""
    sketch = check_sketch(sketch, columns)
    category, input_key = sketch["category"], sketch["input_key"]
    input_type = columns[input_key].rstrip("?")
    if category == "filter":
        output_key, output_type = input_key, "bool"
    else:
        output_key = str(logic.get("output_key", ""))
        output_type = _one_of("output_type", logic.get("output_type"), VALUE_TYPES)
    parameters = [_parameter(i, p) for i, p in enumerate(logic.get("parameters") or [])]
    names = [p.name for p in parameters]
    if len(set(names)) != len(names):
        raise SpecError(f"parameters: a name appears twice in {names}")
    examples = [_example(i, e, input_type, category, output_type) for i, e in enumerate(logic.get("examples") or [])]
    if len(examples) < 2:
        raise SpecError("give at least two examples (input -> expected output): they become the operator's test")
    return OperatorSpec(
        name=sketch["name"],
        category=category,
        summary=sketch["summary"] or step,
        step=step,
        input_key=input_key,
        input_type=input_type,
        output_key=_matching("output_key", output_key, PARAMETER_PATTERN),
        output_type=output_type,
        code=function_body(str(logic.get("code", ""))),
        parameters=parameters,
        imports=sorted({_one_of("imports", m, ALLOWED_IMPORTS) for m in logic.get("imports") or []}),
        examples=examples,
    )


def function_body(code: str) -> str:
    """The body as the model wrote it, dedented; a ``def compute(...):`` line it repeated is dropped."""
    lines = textwrap.dedent(code.replace("\t", "    ")).strip("\n").splitlines()
    if lines and lines[0].lstrip().startswith("def "):
        lines = textwrap.dedent("\n".join(lines[1:])).splitlines()
    return "\n".join(line.rstrip() for line in lines)


def policy_problems(spec: OperatorSpec) -> list[str]:
    """Why the code may not run in the user's process (empty when it may): imports, names and attributes outside
    pure computation on the row's value."""
    source = f"def compute(value, {', '.join(p.name for p in spec.parameters)}):\n{textwrap.indent(spec.code, '    ')}"
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        return [f"the code does not parse: {error.msg} (line {max(1, (error.lineno or 2) - 1)} of the body)"]
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            problems.append(
                f"line {node.lineno - 1}: the code may not import; list standard-library modules in `imports` "
                f"(allowed: {', '.join(ALLOWED_IMPORTS)})"
            )
        elif isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            problems.append(f"line {node.lineno - 1}: `{node.id}` is not allowed (no I/O, no dynamic code)")
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            problems.append(f"line {node.lineno - 1}: private or dunder attribute `.{node.attr}` is not allowed")
        elif isinstance(node, ast.Global | ast.Nonlocal):
            problems.append(f"line {node.lineno - 1}: `global`/`nonlocal` is not allowed: compute from the value")
    if not any(isinstance(node, ast.Return) and node.value is not None for node in ast.walk(tree)):
        problems.append("the code never returns a value: end with `return ...`")
    return list(dict.fromkeys(problems))


def _parameter(index: int, data: dict[str, Any]) -> Parameter:
    where = f"parameters[{index}]"
    name = _matching(f"{where}.name", str(data.get("name", "")), PARAMETER_PATTERN)
    if name in RESERVED or keyword.iskeyword(name) or name.startswith("model_") or hasattr(builtins, name):
        raise SpecError(f"{where}.name {name!r} is reserved (a key, an operator attribute or a builtin): rename it")
    kind = _one_of(f"{where}.type", data.get("type"), VALUE_TYPES)
    default = parse_value(f"{where}.default", str(data.get("default", "")), kind)
    return Parameter(name, kind, default, " ".join(str(data.get("description", "")).split()) or name)


def _example(index: int, data: dict[str, Any], input_type: str, category: str, output_type: str) -> Example:
    where = f"examples[{index}]"
    value = parse_value(f"{where}.input", str(data.get("input", "")), input_type)
    expected = str(data.get("expected", ""))
    if category == "filter":
        return Example(value, _one_of(f"{where}.expected", expected, (KEEP, REJECT)) == KEEP)
    return Example(value, parse_value(f"{where}.expected", expected, output_type))


def parse_value(where: str, text: str, kind: str) -> Any:
    """``text`` as a value of ``kind`` (``string`` values are taken as written)."""
    if kind == "string":
        return text
    cleaned = text.strip().lower()
    try:
        if kind == "bool":
            if cleaned not in {"true", "false"}:
                raise ValueError
            return cleaned == "true"
        return int(cleaned) if kind == "int" else float(cleaned)
    except ValueError:
        raise SpecError(f"{where} {text!r} is not a {kind}") from None


def _one_of(where: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise SpecError(f"{where} {value!r} is not one of {', '.join(choices)}")
    return str(value)


def _matching(where: str, value: str, pattern: str) -> str:
    if not re.fullmatch(pattern.strip("^$"), value):
        raise SpecError(f"{where} {value!r} must be snake_case: lower-case letters, digits and '_'")
    return value
