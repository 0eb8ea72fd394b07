"""Validate a generated module: import it, trace it (every key binding checked) and compile it into assets.

Every failure becomes one message that names the step and what to change (the project's errors already do:
``pipeline 'x', step 'y': input_key='body' names a column that does not exist at this step; columns available
here: ...``), which is what the repair round feeds back to the planner.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import sys
from pathlib import Path
from types import ModuleType

from operators.errors import DataflowError
from operators.pipeline import Pipeline


def load_module(path: Path) -> ModuleType:
    """Import the file under a name of its own (its content's hash), so a repaired version is a new module."""
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]
    name = f"_dataflow_agent_{Path(path).stem}_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def pipeline_class(module: ModuleType) -> type[Pipeline]:
    found = [
        cls
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, Pipeline) and cls.__module__ == module.__name__
    ]
    if len(found) != 1:
        raise DataflowError(f"{module.__file__}: expected one Pipeline class, found {len(found)}")
    return found[0]


def validate_module(path: Path) -> list[str]:
    """The error messages of importing, tracing and compiling the module at ``path``; empty when it is valid."""
    from dataflow_assets.compiler import compile_pipeline  # Dagster: loaded only when a module is validated

    try:
        cls = pipeline_class(load_module(path))
        compile_pipeline(cls())
    except DataflowError as error:
        return [error.args[0] + (f" (hint: {error.hint})" if error.hint else "")]
    except Exception as error:  # a bug of ours or an operator's: still reported, never swallowed
        return [f"{type(error).__name__}: {error}"]
    return []
