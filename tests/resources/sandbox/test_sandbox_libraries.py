"""A sandbox with ``libraries``: the programs import the project and its environment's packages from read-only
mounts, library code may use frames and patch the standard library as it does outside, and the program itself is
held to the same rules as without libraries."""

import sys
import sysconfig
import uuid
from pathlib import Path

import pytest

from operators.errors import DataflowError
from operators.sandbox.protocol import SandboxLimits, Verdict
from resources.sandbox.client import POLARS_WITHOUT_CPU_CHECK, SandboxClient

ROOT = Path(__file__).resolve().parents[3]
SITE = str(Path(sysconfig.get_paths()["purelib"]).resolve())
LIMITS = SandboxLimits(cpu_s=10, wall_s=30, memory_mb=2048, max_open_files=256, max_output_bytes=64 * 1024)


@pytest.fixture(scope="module")
def with_libraries() -> SandboxClient:
    try:
        return SandboxClient(LIMITS, workers=1, libraries=[str(ROOT), SITE])
    except DataflowError as error:
        pytest.skip(f"no bubblewrap sandbox here: {error}")


def test_the_project_and_its_packages_import_and_run(with_libraries):
    tests = (
        "import polars as pl\n"
        "from operators.general.filter.word_count import WordCountFilter\n"  # a pydantic model: frames used inside
        "rows = pl.DataFrame({'_row_id': ['a', 'b'], 'text': ['one two three', 'one']})\n"
        "assert WordCountFilter(min_words=2).run(rows).kept['_row_id'].to_list() == ['a']\n"
    )
    result = with_libraries.run(POLARS_WITHOUT_CPU_CHECK, tests=tests)
    assert result.verdict is Verdict.PASSED, result
    assert f"libraries={ROOT},{SITE}" in with_libraries.identity


def test_without_libraries_the_program_sees_the_standard_library_only(with_libraries):
    plain = SandboxClient(LIMITS, workers=1)
    result = plain.run("import polars")
    assert result.verdict is Verdict.FAILED and "No module named 'polars'" in result.detail


def test_the_libraries_are_read_only(with_libraries):
    marker = f"planted-{uuid.uuid4().hex}.py"
    program = f"open({str(ROOT / marker)!r}, 'w').write('x')"
    result = with_libraries.run(program)
    assert result.verdict is Verdict.FAILED and "OSError" in result.detail
    assert not (ROOT / marker).exists()


def test_the_program_still_may_not_take_frames(with_libraries):
    result = with_libraries.run("import sys\nsys._getframe(1)")
    assert result.verdict is Verdict.BLOCKED


def test_code_compiled_under_a_librarys_name_is_not_trusted(with_libraries):
    library_file = str(ROOT / "operators" / "base.py")
    program = f"exec(compile('import sys; sys._getframe(1)', {library_file!r}, 'exec'))"
    result = with_libraries.run(program)
    assert result.verdict is Verdict.BLOCKED and "compile" in result.detail


def test_the_program_may_not_patch_the_standard_library(with_libraries):
    program = "import typing\ntyping._collect_parameters = lambda args: ()\n"
    result = with_libraries.run(program, tests="assert True")
    assert result.verdict is Verdict.BLOCKED and "typing._collect_parameters" in result.detail


def test_libraries_need_the_hosts_minor_version_of_python():
    other = "/usr/bin/python3"
    version = sys.version_info[:2]
    try:
        client = SandboxClient(LIMITS, workers=1, python=other)
    except DataflowError as error:
        pytest.skip(f"no bubblewrap sandbox here: {error}")
    if client.interpreter.version.startswith(f"{version[0]}.{version[1]}."):
        pytest.skip(f"{other} has this Python's minor version: nothing to refuse")
    with pytest.raises(DataflowError, match="cannot import libraries installed for this python"):
        SandboxClient(LIMITS, workers=1, python=other, libraries=[SITE])
