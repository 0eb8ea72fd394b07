"""Render a synthesized operator and its pytest test from an :class:`OperatorSpec`, deterministically.

The model's code is the body of one function, ``compute(value, *parameters)``; everything around it comes from
these templates: the class of the right category, ``@register``, the docstring, typed ``Field`` parameters, the key
bindings (``Read``/``Write``), and the per-row application (``map_elements``: nulls stay null; a filter rejects a
row whose value is null). The test checks every example and that row ids are kept, so it runs the same under
pytest and in the sandbox (where :func:`sandbox_job` runs it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import PurePosixPath

from dataflow_assets.agent.operator_spec import PYTHON_TYPES, OperatorSpec
from dataflow_assets.scaffold import DOMAIN_INIT, SUFFIX, class_name
from operators.base import Category

BASES = {"refine": "Refiner", "evaluate": "Evaluator", "filter": "Filter"}
DTYPES = {"string": "pl.String", "int": "pl.Int64", "float": "pl.Float64", "bool": "pl.Boolean"}


@dataclass(frozen=True)
class RenderedOperator:
    """The files of a synthesized operator, by path relative to the user's package root (``--out``)."""

    module: str
    test: str
    files: dict[str, str]
    """Every file to write, the module and the test among them, by relative path."""


def operator_class(spec: OperatorSpec) -> str:
    return class_name(spec.name, SUFFIX[Category(spec.category)])


def render_operator(spec: OperatorSpec, domain: str) -> RenderedOperator:
    """The operator module, its test, and the package files of the plug-in domain."""
    package = PurePosixPath("operators", domain)
    module = str(package / spec.category / f"{spec.name}.py")
    test = str(PurePosixPath("tests", "operators", domain, f"test_{spec.name}.py"))
    files = {
        str(package / "__init__.py"): DOMAIN_INIT.format(
            domain=domain, description="Operators synthesized by dataflow agent"
        ),
        str(package / spec.category / "__init__.py"): f'"""{spec.category.capitalize()} operators of {domain}."""\n',
        module: _module(spec),
        test: _test(spec, domain),
    }
    return RenderedOperator(module, test, files)


def _module(spec: OperatorSpec) -> str:
    base = BASES[spec.category]
    key_imports = "Read, Rule" if spec.category == "filter" else "Read, Write"
    arguments = "".join(f", {p.name}: {PYTHON_TYPES[p.type]}" for p in spec.parameters)
    call = f"lambda value: compute(value{''.join(f', self.{p.name}' for p in spec.parameters)})"
    per_row = (
        f"pl.col(input_key).map_elements({call if spec.parameters else 'compute'}, "
        f"return_dtype={DTYPES[spec.output_type]}, skip_nulls=True)"
    )
    fields = "".join(
        f"    {p.name}: {PYTHON_TYPES[p.type]} = Field({p.default!r}, description={p.description!r})\n"
        for p in spec.parameters
    )
    if spec.category == "filter":
        method = f"""    def rules(self, *, input_key: Read = {spec.input_key!r}) -> dict[str, Rule]:
        kept = {per_row}
        return {{{spec.name + "_rejected"!r}: Rule(score=kept.cast(pl.Float64).alias({spec.name!r}), keep=kept)}}
"""
        docs = ""
        behaviour = f"Rejection:\n    ``{spec.name}_rejected`` (score 1 if kept, else 0); a null value is rejected."
    else:
        method = f"""    def expressions(
        self, *, input_key: Read = {spec.input_key!r}, output_key: Write = {spec.output_key!r}
    ) -> dict[str, pl.Expr]:
        return {{output_key: {per_row}}}
"""
        docs = f"    key_docs = {{'output_key': {spec.summary!r}}}\n"
        behaviour = "A null value gives a null output."
    imports = _imports(
        ["from __future__ import annotations"],
        [f"import {name}" for name in spec.imports],
        ["import polars as pl", *(["from pydantic import Field"] if spec.parameters else [])],
        [f"from operators.base import {base}, {key_imports}", "from operators.registry import register"],
    )
    body = "\n".join(f"    {line}" if line else "" for line in spec.code.splitlines())
    return f'''"""``{spec.name}``: {_doc(spec.summary)}

Synthesized by ``dataflow agent`` for the step: {_doc(spec.step)}
Its examples are its test (``test_{spec.name}.py``), which passed in the bubblewrap sandbox before it was
registered.
"""

{imports}


def compute(value: {PYTHON_TYPES[spec.input_type]}{arguments}) -> {PYTHON_TYPES[spec.output_type]}:
    """{_doc(spec.summary)} (one row's value, never null)."""
{body}


@register({spec.name!r})
class {operator_class(spec)}({base}):
    """{_doc(spec.summary)}

    Each row's value goes through ``compute`` (plain Python, one row at a time). {behaviour}
    """

{fields}{docs}
{method}'''


def _test(spec: OperatorSpec, domain: str) -> str:
    cls = operator_class(spec)
    ids = [f"r{i}" for i in range(len(spec.examples))]
    inputs = [e.input for e in spec.examples]
    rows = (
        f"pl.DataFrame({{'_row_id': {ids!r}, {spec.input_key!r}: INPUTS}}, "
        f"schema={{'_row_id': pl.String, {spec.input_key!r}: {DTYPES[spec.input_type]}}})"
    )
    if spec.category == "filter":
        kept = [i for i, e in zip(ids, spec.examples, strict=True) if e.expected]
        rejected = [i for i, e in zip(ids, spec.examples, strict=True) if not e.expected]
        check = f"""def test_{spec.name}_keeps_and_rejects_its_examples():
    result = {cls}().run(ROWS)
    kept = result.kept["_row_id"].to_list()
    assert kept == {kept!r}, f"kept {{[INPUTS[int(i[1:])] for i in kept]}}, expected to keep {{KEPT}}"
    assert result.rejected["_reject_rule"].to_list() == {[spec.name + "_rejected"] * len(rejected)!r}
"""
        constants = f"KEPT = {[e.input for e in spec.examples if e.expected]!r}\n"
        helpers = ""
    else:
        check = f"""def test_{spec.name}_gives_the_expected_output_on_its_examples():
    out = {cls}().run(ROWS).kept
    assert out["_row_id"].to_list() == {ids!r}
    got = out[{spec.output_key!r}].to_list()
    wrong = [(i, g, e) for i, g, e in zip(INPUTS, got, EXPECTED, strict=True) if not same(g, e)]
    assert not wrong, f"(input, got, expected): {{wrong}}"
"""
        constants = f"EXPECTED = {[e.expected for e in spec.examples]!r}\n"
        helpers = f'''

def same(got, expected):
    """Equal, floats within a relative 1e-6."""
    if isinstance(expected, float) and isinstance(got, int | float):
        return {"math.isclose(got, expected, rel_tol=1e-6, abs_tol=1e-9)"}
    return got == expected
'''
    imports = _imports(
        ["import math"] if "math." in helpers else [],
        ["import polars as pl"],
        [f"from operators.{domain}.{spec.category}.{spec.name} import {cls}"],
    )
    return f'''"""``{spec.name}``: the examples it was synthesized with (they passed in the sandbox first)."""

{imports}

INPUTS = {inputs!r}
{constants}ROWS = {rows}
{helpers}

{check}'''


def sandbox_job(rendered: RenderedOperator) -> tuple[str, str, dict[str, str]]:
    """The program, tests and files that run the operator's test in the sandbox. The program puts the plug-in
    package (in the scratch folder's ``plugin/``) first on the import path, before anything imports ``operators``,
    and has polars imported without its CPU check (see :data:`resources.sandbox.client.POLARS_WITHOUT_CPU_CHECK`);
    the tests are the test module followed by a call of each test function."""
    from resources.sandbox.client import POLARS_WITHOUT_CPU_CHECK  # Dagster comes with resources: only now

    program = POLARS_WITHOUT_CPU_CHECK + 'import os\n\nsys.path.insert(0, os.path.abspath("plugin"))\n'
    test = rendered.files[rendered.test]
    calls = [line.split("(")[0][4:] for line in test.splitlines() if line.startswith("def test_")]
    tests = test + "\n\n" + "".join(f"{name}()\n" for name in calls)
    files = {os.path.join("plugin", path): text for path, text in rendered.files.items() if path != rendered.test}
    return program, tests, files


def _imports(*sections: list[str]) -> str:
    """Import lines in isort's sections (future, standard library, third party, first party), one blank line
    between sections."""
    return "\n\n".join("\n".join(section) for section in sections if section)


def _doc(text: str) -> str:
    return " ".join(text.split()).replace("\\", "\\\\").replace('"""', "'''")
