"""``dataflow new``: write a working operator or pipeline (with its test and sample data) to start from.

Each file is generated from a small template that follows the house conventions (a registered, documented
operator with a typed field and a key binding; a pipeline that reads a bundled sample; tests that assert
behaviour), so that what is generated passes lint and its tests as it is. A new domain gets its package
declarations too (``operators/<domain>/__init__.py`` with its ``DomainSpec``, ``dataflow_assets/<domain>/``), which
is all a domain needs to be discovered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from operators.base import Category
from operators.errors import DataflowError

NAME = re.compile(r"^[a-z][a-z0-9_]*$")

SUFFIX = {
    Category.FILTER: "Filter",
    Category.REFINE: "Refiner",
    Category.EVALUATE: "Evaluator",
    Category.GENERATE: "Generator",
}

OPERATOR_BODY = {
    Category.FILTER: '''from __future__ import annotations

import polars as pl
from pydantic import Field

from operators.base import Filter, Read, Rule
from operators.registry import register


@register("{name}")
class {cls}(Filter):
    """Keep rows whose text has at least ``min_chars`` characters (inclusive).

    Rejection: ``{name}_too_short``; the score is the length in characters.
    """

    min_chars: int = Field(10, ge=0, description="Fewest characters a kept row may have (inclusive)")

    def rules(self, *, input_key: Read = "text") -> dict[str, Rule]:
        length = pl.col(input_key).str.len_chars().alias("{name}_chars")
        return {{"{name}_too_short": Rule(score=length, keep=length >= self.min_chars)}}
''',
    Category.REFINE: '''from __future__ import annotations

import polars as pl
from pydantic import Field

from operators.base import Read, Refiner, Write
from operators.registry import register


@register("{name}")
class {cls}(Refiner):
    """Collapse runs of whitespace into one space and strip the ends; optionally lower-case the text."""

    lowercase: bool = Field(False, description="Also lower-case the text")
    key_docs = {{"output_key": "the text with its whitespace collapsed"}}

    def expressions(self, *, input_key: Read = "text", output_key: Write = "text") -> dict[str, pl.Expr]:
        text = pl.col(input_key).str.replace_all(r"\\s+", " ").str.strip_chars()
        return {{output_key: text.str.to_lowercase() if self.lowercase else text}}
''',
    Category.EVALUATE: '''from __future__ import annotations

import polars as pl
from pydantic import Field

from operators.base import Evaluator, Read, Write
from operators.registry import register


@register("{name}")
class {cls}(Evaluator):
    """Score each row by the share of its characters that are letters (0 for an empty text)."""

    digits_count: bool = Field(False, description="Count digits as letters too")
    key_docs = {{"output_key": "share of letters among the characters, 0 to 1"}}

    def expressions(self, *, input_key: Read = "text", output_key: Write = "{name}") -> dict[str, pl.Expr]:
        pattern = r"[\\p{{L}}\\p{{N}}]" if self.digits_count else r"\\p{{L}}"
        letters = pl.col(input_key).str.count_matches(pattern)
        total = pl.col(input_key).str.len_chars()
        return {{output_key: pl.when(total > 0).then(letters / total).otherwise(0.0)}}
''',
    Category.GENERATE: '''from __future__ import annotations

import polars as pl
from pydantic import Field

from operators.base import Generator, Read, Write
from operators.columns import ROW_ID
from operators.registry import register


@register("{name}")
class {cls}(Generator):
    """One new row per non-blank line of the text; each names the row it came from in ``_parent_ids``."""

    min_chars: int = Field(1, ge=1, description="Shortest line kept")
    key_docs = {{"output_key": "one line of the input text"}}

    def generate(self, df: pl.DataFrame, *, input_key: Read = "text", output_key: Write = "line") -> pl.DataFrame:
        lines = df.select(ROW_ID, pl.col(input_key).str.split("\\n").alias(output_key)).explode(output_key)
        lines = lines.with_columns(pl.col(output_key).str.strip_chars())
        return lines.filter(pl.col(output_key).str.len_chars() >= self.min_chars)
''',
}

OPERATOR_TEST = {
    Category.FILTER: '''"""{cls}: rows below the threshold are rejected with the rule and their length."""

from operators.{domain}.{package}.{name} import {cls}
from tests.support import frame


def test_short_rows_are_rejected_with_their_length():
    result = {cls}(min_chars=5).run(frame(["long enough", "tiny", "12345"]))
    assert result.kept["_row_id"].to_list() == ["r0", "r2"]
    assert result.rejected.select("_row_id", "_reject_rule", "_reject_score").rows() == [
        ("r1", "{name}_too_short", 4.0)
    ]
''',
    Category.REFINE: '''"""{cls}: whitespace collapsed, rows and ids kept."""

from operators.{domain}.{package}.{name} import {cls}
from tests.support import frame


def test_whitespace_is_collapsed_and_ids_kept():
    out = {cls}().run(frame(["  a \\t b\\n\\nc ", "x"])).kept
    assert out["text"].to_list() == ["a b c", "x"]
    assert out["_row_id"].to_list() == ["r0", "r1"]
    assert {cls}(lowercase=True).run(frame(["A  B"])).kept["text"].to_list() == ["a b"]
''',
    Category.EVALUATE: '''"""{cls}: the share of letters, 0 for an empty text."""

import pytest

from operators.{domain}.{package}.{name} import {cls}
from tests.support import frame


def test_share_of_letters():
    out = {cls}().run(frame(["ab12", "", "abcd"])).kept
    assert out["{name}"].to_list() == pytest.approx([0.5, 0.0, 1.0])
    assert {cls}(digits_count=True).run(frame(["ab12"])).kept["{name}"].to_list() == [1.0]
''',
    Category.GENERATE: '''"""{cls}: one row per line, each naming its parent."""

from operators.{domain}.{package}.{name} import {cls}
from tests.support import frame


def test_one_row_per_non_blank_line_naming_its_parent():
    out = {cls}().run(frame(["first\\n\\nsecond", "third"])).kept
    assert out["line"].to_list() == ["first", "second", "third"]
    assert out["_parent_ids"].to_list() == [["r0"], ["r0"], ["r1"]]
    assert out["_row_id"].n_unique() == 3
''',
}

DOMAIN_INIT = '''"""The {domain} domain."""

from operators.domains import DomainSpec

DOMAIN = DomainSpec(name="{domain}", description="{description}")
'''

PIPELINE = '''"""``{name}``: {description}

raw (the bundled sample, or the folder in ``DATAFLOW_{upper}_INPUT``) -> cleaned (whitespace) -> long_enough
(at least 20 characters).
"""

from pathlib import Path

from operators import FileSource, Pipeline
from operators.general.filter.row_filter import RowFilter
from operators.general.refine.normalize_text import NormalizeTextRefiner

SAMPLE_DATA = Path(__file__).parent / "data" / "{name}"


class {cls}(Pipeline):
    group = "{name}"
    description = "{description}"
    text_columns = ("text",)

    def __init__(self, data_dir: Path | str = SAMPLE_DATA) -> None:
        super().__init__()
        self.raw = FileSource(path=str(data_dir), pattern="*.jsonl", columns={{"text": "string"}})
        self.cleaned = NormalizeTextRefiner()
        self.long_enough = RowFilter(condition="length(text) >= 20", reason="too_short")

    def forward(self):
        return self.long_enough(self.cleaned(self.raw()))
'''

PIPELINE_TEST = '''"""``{name}`` materializes on its bundled sample: each row kept, or rejected with its reason."""

{imports}


def test_{name}_materializes_its_sample(tmp_path, instance):
    summary = materialize_pipeline({cls}(), root=tmp_path / "delta", instance=instance, resources={{}})
    steps = {{step.asset: step for step in summary.steps}}
    assert steps["{name}/raw"].rows_out == 3
    assert steps["{name}/long_enough"].rows_out == 2
    assert steps["{name}/long_enough"].removed_by_reason == {{"too_short": 1}}
    assert all(summary.checks.values())
'''

SAMPLE = (
    '{"text": "A first sample row, written for this pipeline."}\n'
    '{"text": "Too short."}\n'
    '{"text": "   A third row,   with   extra   whitespace.  "}\n'
)


@dataclass(frozen=True)
class Written:
    files: list[Path]


def class_name(name: str, suffix: str = "") -> str:
    return "".join(part.capitalize() for part in name.split("_")) + suffix


def _check_name(kind: str, value: str) -> None:
    if not NAME.fullmatch(value):
        raise DataflowError(f"{kind} {value!r} is not a valid name", hint="use lower_case letters, digits and '_'")


def _write(path: Path, text: str, written: list[Path], *, overwrite: bool = False) -> None:
    if path.exists() and not overwrite:
        raise DataflowError(f"{path} exists already", hint="choose another name, or remove the file first")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    written.append(path)


def _ensure_package(folder: Path, docstring: str, written: list[Path]) -> None:
    init = folder / "__init__.py"
    if not init.exists():
        _write(init, f'"""{docstring}"""\n', written)


def _ensure_domain(root: Path, domain: str, written: list[Path]) -> None:
    init = root / "operators" / domain / "__init__.py"
    if not init.exists():
        description = f"Operators of the {domain} domain"
        _write(init, DOMAIN_INIT.format(domain=domain, description=description), written)


def new_operator(root: Path, name: str, *, category: Category, domain: str) -> Written:
    """Write ``operators/<domain>/<category>/<name>.py`` and its test under ``tests/operators/<domain>/``."""
    _check_name("operator", name)
    _check_name("domain", domain)
    written: list[Path] = []
    _ensure_domain(root, domain, written)
    package = str(category)
    folder = root / "operators" / domain / package
    _ensure_package(folder, f"{package.capitalize()} operators of the {domain} domain.", written)
    cls = class_name(name, SUFFIX[category])
    values = {"name": name, "cls": cls, "domain": domain, "package": package}
    _write(folder / f"{name}.py", OPERATOR_BODY[category].format(**values), written)
    _write(root / "tests" / "operators" / domain / f"test_{name}.py", OPERATOR_TEST[category].format(**values), written)
    return Written(written)


def new_pipeline(root: Path, name: str, *, domain: str, description: str = "") -> Written:
    """Write ``dataflow_assets/<domain>/<name>.py``, its sample data and a test that materializes it."""
    _check_name("pipeline", name)
    _check_name("domain", domain)
    written: list[Path] = []
    folder = root / "dataflow_assets" / domain
    _ensure_package(folder, f"Pipelines of the {domain} domain.", written)
    description = description or f"A pipeline of the {domain} domain."
    values = {"name": name, "cls": class_name(name, "Pipeline"), "domain": domain, "upper": name.upper()}
    _write(folder / f"{name}.py", PIPELINE.format(description=description, **values), written)
    _write(folder / "data" / name / "sample.jsonl", SAMPLE, written)
    imports = sorted(  # in the order ruff's isort wants them, whatever the domain's name
        [
            f"from dataflow_assets.{domain}.{name} import {values['cls']}",
            "from dataflow_assets.runner import materialize_pipeline",
        ]
    )
    test = PIPELINE_TEST.format(imports="\n".join(imports), **values)
    _write(root / "tests" / "dataflow_assets" / domain / f"test_{name}.py", test, written)
    return Written(written)
