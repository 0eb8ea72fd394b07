"""Operator synthesis: when no registered operator fits a step of the plan, the agent writes one.

The planner marks such a step ``{"operator": "__new__", "why": "<what it must do>"}`` (:data:`plan.NEW`, in the
pick schema's enum only when synthesis is on; see docs/agent.md for why the model decides rather than a retrieval
score). For that step:

1. **sketch**, one schema-constrained ask: name, category, summary, input column (:mod:`.operator_spec`);
2. **few-shot**: the retriever picks the registered operators of that category closest to the step; the source of
   each and one of its tests go into the next prompt;
3. **logic**, one schema-constrained ask: typed parameters, imports, the body of ``compute``, examples;
4. the module and its test are rendered from templates (:mod:`.operator_render`), formatted and checked by ruff
   (static, nothing runs);
5. the test runs in the bubblewrap sandbox (the code is untrusted), which mounts the project and its libraries
   read-only; only the harness's proof (verdict ``passed``) counts;
6. the static policy (:func:`.operator_spec.policy_problems`): once registered, the operator runs in the user's own
   process, outside any sandbox, so it may not import, open files, evaluate code or reach for dunders;
7. the files are written into the user's package, ``<out>/operators/<domain>/`` (a plug-in domain, discovered
   like any other with ``<out>`` on the import path), imported, and the registry must accept the class.

A failure at 3-7 goes back to the logic ask with its message, for at most ``rounds`` attempts; then the step fails
with an account of every attempt, which becomes the plan's error (the graph's repair loop may then plan another
way). The shipped ``operators/`` tree is never written: ``<out>`` must be a folder of the user's own.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import json
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import operators
from dataflow_assets.agent.operator_render import RenderedOperator, render_operator, sandbox_job
from dataflow_assets.agent.operator_spec import (
    ALLOWED_IMPORTS,
    VALUE_TYPES,
    SpecError,
    build_spec,
    check_sketch,
    logic_schema,
    policy_problems,
    sketch_schema,
)
from dataflow_assets.agent.plan import NEW, PlanningError, PlanStep, _ask
from dataflow_assets.agent.retrieve import pipeline_operators, retrieve
from dataflow_assets.scaffold import NAME
from operators.domains import import_all
from operators.errors import DataflowError
from operators.llm.protocol import LLM
from operators.registry import describe, get_operator, registered
from operators.sandbox.protocol import Sandbox, SandboxLimits

DOMAIN = "synthesized"
"""The plug-in domain of the user's package that synthesized operators go to."""
SKETCH_TEMPLATE = "agent_synthesize_sketch@1"
LOGIC_TEMPLATE = "agent_synthesize_logic@1"
SYSTEM = (
    "You write small, correct data-preparation operators in plain Python. Answer with JSON only, following the "
    "schema. Your examples must be exactly what your code returns."
)
SAMPLING = {"temperature": 0.0, "max_tokens": 640, "seed": 0}
FEW_SHOT = 2
"""Similar registered operators shown to the model."""
SOURCE_CHARS, TEST_CHARS = 500, 300
"""Caps per few-shot operator, so that the prompt and the answer fit a small model's context (2,048 tokens by
default); only operators whose class is at most ``2 * SOURCE_CHARS`` long are examples (short ones read best)."""
LIMITS = SandboxLimits(cpu_s=20, wall_s=60, memory_mb=2048, max_processes=64, max_file_mb=16, max_open_files=256)
"""Per test run: importing polars, pydantic and the operators package takes about 0.4 CPU seconds and fits in
1 GiB of address space (measured); the rest is headroom for the operator's own work on its examples."""
CATEGORY_CONTRACT = {
    "refine": "return the new value of the row (it is written to output_key)",
    "evaluate": "return the row's score (written to output_key)",
    "filter": "return True to keep the row, False to reject it",
}


class SynthesisError(PlanningError):
    """No operator could be synthesized for a step; the message is the account of every attempt."""


@dataclass
class Synthesized:
    """What the report shows of one synthesis."""

    step: str
    status: str
    """``registered`` or ``failed``."""
    name: str = ""
    category: str = ""
    module: str = ""
    test: str = ""
    tests_run: str = ""
    """Which test ran where, and its verdict."""
    attempts: list[dict[str, Any]] = field(default_factory=list)
    """``{"attempt", "stage", "detail"}`` per failed attempt; stage: sketch, answer, lint, sandbox, policy,
    register."""
    account: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Synthesized:
        return cls(**data)


class Synthesizer:
    """Writes, tests and registers operators for the steps the planner marks ``__new__``."""

    def __init__(
        self,
        llm: LLM,
        out: Path,
        *,
        sandbox: Sandbox | None = None,
        domain: str = DOMAIN,
        rounds: int = 3,
        limits: SandboxLimits = LIMITS,
    ) -> None:
        self.llm, self.out, self.domain, self.rounds, self.limits = llm, Path(out).absolute(), domain, rounds, limits
        self._sandbox = sandbox
        check_plugin_folder(self.out, domain)
        if (self.out / "operators" / domain).is_dir():  # operators synthesized earlier: in the registry again
            load_user_domain(self.out, domain)

    @property
    def sandbox(self) -> Sandbox:
        """The bubblewrap sandbox with the project and its libraries mounted read-only (built on first use)."""
        if self._sandbox is None:
            from resources.sandbox.client import SandboxClient

            self._sandbox = SandboxClient(self.limits, workers=1, libraries=library_folders())
        return self._sandbox

    def resolve(
        self, steps: list[PlanStep], request: str, input_schema: dict[str, Any], made: list[dict[str, Any]]
    ) -> list[PlanStep]:
        """``steps`` with each ``__new__`` replaced by the operator synthesized for it (an operator registered
        earlier in the session for the same words is reused); every synthesis is appended to ``made``."""
        resolved = []
        for step in steps:
            if step.operator != NEW:
                resolved.append(step)
                continue
            earlier = next((m for m in made if m["step"] == step.why and m["status"] == "registered"), None)
            record = Synthesized.from_json(earlier) if earlier else self.synthesize(step.why, request, input_schema)
            if earlier is None:
                made.append(record.to_json())
            if record.status != "registered":
                raise SynthesisError(record.account)
            resolved.append(PlanStep(record.name, step.why))
        return resolved

    def synthesize(self, step: str, request: str, input_schema: dict[str, Any]) -> Synthesized:
        """Write an operator that does ``step``, test it in the sandbox and register it; or say why not."""
        columns = {c: t for c, t in input_schema["columns"].items() if not c.startswith("_")}
        scalars = [c for c, t in columns.items() if t.rstrip("?") in VALUE_TYPES]  # what compute(value) can take
        sample = input_schema["sample"][0] if input_schema["sample"] else {}
        record = Synthesized(step=step, status="failed")
        try:
            self.sandbox  # noqa: B018 (built here, so that a machine without bubblewrap fails before any ask)
        except DataflowError as error:
            return self._failed(record, [{"attempt": 1, "stage": "sandbox", "detail": error.args[0]}])
        prompt, schema = sketch_prompt(step, request, columns, sample), sketch_schema(scalars or list(columns))
        try:
            answer = _ask(self.llm, prompt, schema, SKETCH_TEMPLATE, system=SYSTEM, sampling=SAMPLING)
            sketch = check_sketch(answer, columns)
        except (PlanningError, SpecError) as error:
            return self._failed(record, [{"attempt": 1, "stage": "sketch", "detail": error.args[0]}])
        sketch["name"] = self._free_name(sketch["name"])
        shots = few_shot(step, sketch["category"])
        attempts: list[dict[str, Any]] = []
        for attempt in range(1, self.rounds + 1):
            feedback = "\n".join(f"- attempt {a['attempt']} ({a['stage']}): {a['detail']}" for a in attempts[-2:])
            prompt = logic_prompt(step, request, sketch, columns, sample, shots, feedback)
            stage, detail = self._attempt(record, step, sketch, columns, prompt)
            if stage == "registered":
                record.status, record.attempts = "registered", attempts
                return record
            attempts.append({"attempt": attempt, "stage": stage, "detail": detail})
        return self._failed(record, attempts)

    def _attempt(
        self, record: Synthesized, step: str, sketch: dict[str, Any], columns: dict[str, str], prompt: str
    ) -> tuple[str, str]:
        """One round of logic, checks, sandbox and registration: ``("registered", "")`` or the failed stage and
        why."""
        try:
            logic = _ask(
                self.llm, prompt, logic_schema(sketch["category"]), LOGIC_TEMPLATE, system=SYSTEM, sampling=SAMPLING
            )
            spec = build_spec(step, sketch, logic, columns)
        except (PlanningError, SpecError) as error:
            return "answer", error.args[0]
        rendered = render_operator(spec, self.domain)
        with tempfile.TemporaryDirectory(prefix="dataflow-synth-") as staging:
            findings = lint(Path(staging), rendered)
            if findings:
                return "lint", findings
            rendered = RenderedOperator(
                rendered.module,
                rendered.test,
                {path: (Path(staging) / path).read_text() for path in rendered.files},
            )
        program, tests, files = sandbox_job(rendered)
        result = self.sandbox.run(program, tests=tests, files=files, limits=self.limits)
        if not result.passed:
            output = " | ".join((result.stderr or result.stdout).strip().splitlines()[-3:])
            return "sandbox", f"{result.verdict}: {result.detail}" + (f" (output: {output})" if output else "")
        problems = policy_problems(spec)
        if problems:
            return "policy", "; ".join(problems)
        written = self._write(rendered)
        try:
            cls = self._register(spec.name)
        except Exception as error:  # the registry's refusal, reported to the model like any failure
            for path in written:
                path.unlink(missing_ok=True)
            return "register", f"{type(error).__name__}: {error}"
        record.name, record.category = cls.name, spec.category
        record.module, record.test = str(self.out / rendered.module), str(self.out / rendered.test)
        record.tests_run = (
            f"{rendered.test}: {len(spec.examples)} example(s), verdict {result.verdict} in the sandbox "
            f"({result.wall_s:.1f} s wall, {result.cpu_s:.1f} s CPU)"
        )
        return "registered", ""

    def _write(self, rendered: RenderedOperator) -> list[Path]:
        written = []
        for relative, text in rendered.files.items():
            path = self.out / relative
            if path.name == "__init__.py" and path.exists():
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            written.append(path)
        return written

    def _register(self, name: str) -> type[operators.Operator]:
        load_user_domain(self.out, self.domain)
        cls = get_operator(name)
        if not cls.__module__.startswith(f"operators.{self.domain}."):
            raise DataflowError(f"{name!r} names {cls.__module__}.{cls.__qualname__}, not the synthesized operator")
        describe(cls)  # the docs the agent and the CLI read must build
        return cls

    def _free_name(self, name: str) -> str:
        """``name``, or ``name_2``, ``name_3``... when the registry or the user's package has it already."""
        taken = set(registered())
        folder = self.out / "operators" / self.domain
        existing = {p.stem for p in folder.glob("*/*.py")} if folder.is_dir() else set()
        candidate, count = name, 1
        while candidate in taken or candidate in existing:
            count += 1
            candidate = f"{name}_{count}"
        return candidate

    def _failed(self, record: Synthesized, attempts: list[dict[str, Any]]) -> Synthesized:
        record.attempts = attempts
        tried = "; ".join(f"attempt {a['attempt']} ({a['stage']}): {a['detail']}" for a in attempts)
        record.account = (
            f"no operator could be synthesized for the step {record.step!r} in {len(attempts)} attempt(s), so "
            f"nothing was registered. {tried}"
        )
        return record


def sketch_prompt(step: str, request: str, columns: dict[str, str], sample: dict[str, Any]) -> str:
    return "\n".join(
        [
            "TASK: sketch a new operator",
            f"STEP: {step}",
            f"REQUEST: {request}",
            f"INPUT COLUMNS: {json.dumps(columns)}",
            f"SAMPLE ROW: {_short(sample)}",
            "CATEGORIES: refine (rewrites a value or adds a column, one row out per row in), evaluate (adds a score "
            "column), filter (keeps or rejects rows).",
            "Give a snake_case name saying what it does, its category, a one-line summary and the column it reads.",
        ]
    )


def logic_prompt(
    step: str,
    request: str,
    sketch: dict[str, Any],
    columns: dict[str, str],
    sample: dict[str, Any],
    shots: str,
    feedback: str,
) -> str:
    category, key = sketch["category"], sketch["input_key"]
    lines = [
        f"TASK: write the logic of the new {category} operator {sketch['name']}",
        f"STEP: {step}",
        f"REQUEST: {request}",
        f"OPERATOR: {sketch['name']} ({category}): {sketch.get('summary', '')}",
        f"INPUT: column {key!r} ({columns[key]}); sample value: {_short(sample.get(key))}",
        "WRITE the body of: def compute(value, <your parameters>): it runs once per row (value is never None) and "
        f"must {CATEGORY_CONTRACT[category]}.",
        f"Plain Python only. Modules you use go in imports (allowed: {', '.join(ALLOWED_IMPORTS)}); no import "
        "statements, files, network or eval. Parameters: at most 3, each with a default.",
        "EXAMPLES (input -> expected output) become the operator's test: give 2 to 6 that cover each case, with "
        "exactly what compute returns" + (" (keep or reject)." if category == "filter" else "."),
    ]
    if shots:
        lines += ["SIMILAR OPERATORS OF THE LIBRARY (how they are written and tested):", shots]
    if feedback:
        lines += ["THE LAST ATTEMPT FAILED. Fix the code or the examples. What went wrong:", feedback]
    return "\n".join(lines)


def few_shot(step: str, category: str, k: int = FEW_SHOT) -> str:
    """The source and one test of the ``k`` registered operators of ``category`` closest to ``step``."""
    infos = [i for i in pipeline_operators() if str(i.category) == category and not i.engines and not i.requires]
    sources = {info.name: _source(get_operator(info.name)) for info in infos}
    infos = [info for info in infos if 0 < len(sources[info.name]) <= 2 * SOURCE_CHARS]
    blocks = []
    for candidate in retrieve(step, k=k, operators=infos):
        blocks.append(f"--- {candidate.name}:\n{_capped(sources[candidate.name], SOURCE_CHARS)}")
        test = example_test(get_operator(candidate.name).__name__)
        if test:
            blocks.append(f"--- a test of {candidate.name}:\n{_capped(test, TEST_CHARS)}")
    return "\n".join(blocks)


def example_test(class_name: str) -> str:
    """The first test function of the project's tests that uses ``class_name`` ('' when the tests are not here)."""
    for text in _test_sources():
        if class_name not in text:
            continue
        lines = text.splitlines()
        for node in ast.parse(text).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)])  # parameters name classes too
                segment = "\n".join(lines[start - 1 : node.end_lineno])
                if class_name in segment:
                    return segment
    return ""


@cache
def _test_sources() -> tuple[str, ...]:
    folder = project_root() / "tests" / "operators"
    return tuple(path.read_text() for path in sorted(folder.rglob("test_*.py"))) if folder.is_dir() else ()


def project_root() -> Path:
    """The folder holding the shipped ``operators`` package."""
    return Path(operators.base.__file__).resolve().parents[1]


def library_folders() -> list[str]:
    """What a synthesized operator's test imports in the sandbox: the project, and this environment's
    site-packages (polars, pydantic and what they need)."""
    paths = sysconfig.get_paths()
    return [str(project_root()), *dict.fromkeys(str(Path(paths[k]).resolve()) for k in ("purelib", "platlib"))]


def check_plugin_folder(out: Path, domain: str) -> None:
    """Refuse a ``--out`` whose ``operators`` is a package of its own (the project itself: synthesized operators
    must never go into the shipped tree) and a domain name another package already holds."""
    if not NAME.match(domain):
        raise DataflowError(f"domain {domain!r} is not a valid name", hint="use lower_case letters, digits and '_'")
    folder = out / "operators"
    if (folder / "__init__.py").exists() or folder.resolve() == project_root() / "operators":
        raise DataflowError(
            f"{folder} is a package of its own (the project's operators?); synthesized operators go to a plug-in "
            "folder <out>/operators/<domain>/ of your own package",
            hint="give --out a folder of your own, e.g. --out my_dataflow",
        )
    found = importlib.util.find_spec(f"operators.{domain}")
    if found is not None and Path(found.origin or "").resolve().parent != (folder / domain).resolve():
        raise DataflowError(
            f"the domain name {domain!r} is taken by {Path(found.origin or '').parent}",
            hint="choose another domain for synthesized operators",
        )


def load_user_domain(out: Path, domain: str) -> None:
    """Import the plug-in domain ``<out>/operators/<domain>`` (every module, so its operators register), as
    discovery would with ``<out>`` on the import path; ``<out>`` is appended to ``sys.path`` so that child
    processes (the dry run) find it too."""
    root = str(out)
    if root not in sys.path:
        sys.path.append(root)
    folder = str(out / "operators")
    if folder not in operators.__path__:
        operators.__path__.append(folder)
    importlib.invalidate_caches()
    import_all(importlib.import_module(f"operators.{domain}"))


def lint(staging: Path, rendered: RenderedOperator) -> str:
    """Format the rendered files (in ``staging``) with ruff and check them (``E9``, ``F``: syntax errors, undefined
    or unused names); the findings, or '' when clean (or when ruff is not installed)."""
    try:
        from ruff.__main__ import find_ruff_bin
    except ImportError:  # ruff is a dev tool: the sandbox still finds what it would have
        return ""
    paths = []
    for relative, text in rendered.files.items():
        path = staging / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        paths.append(str(path))
    ruff = find_ruff_bin()
    subprocess.run([ruff, "format", "--quiet", "--isolated", "--line-length", "120", *paths], check=False)
    checked = subprocess.run(
        [ruff, "check", "--quiet", "--isolated", "--select", "E9,F", "--output-format", "concise", *paths],
        capture_output=True,
        text=True,
        check=False,
    )
    return " | ".join(line.replace(str(staging) + "/", "") for line in checked.stdout.strip().splitlines()[:5])


def _short(value: Any, limit: int = 300) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + "..."


def _source(cls: type) -> str:
    """The class's source with its docstring cut to the first line: the budget goes to the logic."""
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):
        return ""
    node = ast.parse(source).body[0]
    docstring = ast.get_docstring(node) if isinstance(node, ast.ClassDef) else None
    if not docstring:
        return source
    first, lines = node.body[0], source.splitlines()
    indent = lines[first.lineno - 1][: len(lines[first.lineno - 1]) - len(lines[first.lineno - 1].lstrip())]
    summary = f'{indent}"""{docstring.splitlines()[0]}"""'
    return "\n".join([*lines[: first.lineno - 1], summary, *lines[first.end_lineno :]])


def _capped(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit].rsplit("\n", 1)[0] + "\n    ..."
