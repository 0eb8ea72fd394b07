"""Render a plan into a pipeline module, deterministically: the model never writes code.

The module reads like the shipped pipelines (``dataflow_assets/text/pretrain.py``): ``__init__`` holds a
``FileSource`` on the user's input and one attribute per step, ``forward()`` wires them in order with every key
binding spelled out. It is written to ``<out>/dataflow_assets/<PACKAGE>/<name>.py``, where pipeline discovery finds
it when ``<out>`` is on the import path, and formatted with ruff when ruff is installed.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

from dataflow_assets.agent.plan import PlanStep
from dataflow_assets.scaffold import class_name
from operators.errors import DataflowError
from operators.registry import get_operator

PACKAGE = "agent_built"
"""The pipeline domain package the agent's modules go to."""
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
RESERVED_ATTRIBUTES = {"raw", "forward", "run", "trace", "group", "description"}


def module_path(out: Path, name: str) -> Path:
    return Path(out) / "dataflow_assets" / PACKAGE / f"{name}.py"


def step_names(steps: list[PlanStep]) -> list[str]:
    """Attribute (and asset) names: the operator's name, numbered when it repeats."""
    names: list[str] = []
    for step in steps:
        base = step.operator if step.operator not in RESERVED_ATTRIBUTES else f"{step.operator}_step"
        name, count = base, 1
        while name in names:
            count += 1
            name = f"{base}_{count}"
        names.append(name)
    return names


def render(name: str, request: str, steps: list[PlanStep], input_schema: dict[str, Any]) -> str:
    if not NAME.match(name):
        raise DataflowError(f"pipeline name {name!r}: use lower-case letters, digits and '_'", hint="e.g. my_corpus")
    classes = [get_operator(s.operator).__name__ for s in steps]
    names = step_names(steps)
    summary = " -> ".join(["raw", *names])
    reasons = "\n".join(f"- ``{n}``: {_doc_text(s.why)}" for n, s in zip(names, steps, strict=True) if s.why)
    members = "\n".join(
        f"        self.{n} = {cls}({_arguments(s.params)})" for n, cls, s in zip(names, classes, steps, strict=True)
    )
    calls = "\n".join(
        f"        rows = self.{n}(rows{''.join(f', {k}={v!r}' for k, v in sorted(s.keys.items()))})"
        for n, s in zip(names, steps, strict=True)
    )
    source = f"FileSource(path=str(data_dir), pattern={input_schema['pattern']!r}, columns={input_schema['columns']!r})"
    imports = ", ".join(sorted({"FileSource", "Pipeline", *classes}))
    return f'''"""``{name}``: {_doc_text(_one_line(request))}

Built by ``dataflow agent`` from that request: {summary}.
{reasons}
"""

from pathlib import Path

from operators import {imports}

INPUT = Path({input_schema["path"]!r})


class {class_name(name, "Pipeline")}(Pipeline):
    group = {name!r}
    description = {_one_line(request)!r}

    def __init__(self, data_dir: Path | str = INPUT) -> None:
        super().__init__()
        self.raw = {source}
{members}

    def forward(self):
        rows = self.raw()
{calls}
        return rows
'''


def write_module(out: Path, name: str, text: str) -> Path:
    """Write the module (and the package files discovery needs), formatted by ruff when available."""
    path = module_path(out, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    init = path.parent / "__init__.py"
    if not init.exists():
        init.write_text('"""Pipelines built by ``dataflow agent`` from requests in plain words."""\n')
    path.write_text(text)
    format_with_ruff(path)
    return path


def format_with_ruff(path: Path) -> None:
    try:
        from ruff.__main__ import find_ruff_bin
    except ImportError:  # ruff is a dev tool; the module is valid Python without it
        return
    subprocess.run([find_ruff_bin(), "format", "--quiet", "--line-length", "120", str(path)], check=False)
    subprocess.run(
        [find_ruff_bin(), "check", "--quiet", "--fix", "--select", "I", "--line-length", "120", str(path)], check=False
    )


def _arguments(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in params.items())


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _doc_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"""', "'''")
