"""code_execution and code_execution_verdict on the real sandbox: verdicts as rejection reasons, optional test and
entry-point columns, captured output, and a small held-out-style set run exactly as a user would run it."""

import polars as pl
import pytest

from operators.base import BoundOperator
from operators.code.evaluate.code_execution_verdict import CodeExecutionVerdictEvaluator
from operators.code.filter.code_execution import CodeExecutionFilter
from operators.errors import KeyValidationError
from tests.support import frame

CHECK = "def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0\n"


def rows(**columns):
    codes = columns.pop("code")
    return frame(codes, column="code", **columns)


def outcome(result):
    """Row id -> reject reason, or "kept"."""
    reasons = dict(result.rejected.select("_row_id", "_reject_rule").iter_rows())
    return {row: reasons.get(row, "kept") for row in result.scores["_row_id"]}


def test_verdicts_become_reasons(sandbox):
    df = rows(
        code=[
            "def add(a, b):\n    return a + b\n",
            "def add(a, b):\n    return a - b\n",
            "def add(a, b):\n    while True:\n        pass\n",
            "import os\nos.fork()\n",
            "print('passed')\nimport sys\nsys.exit(0)\n",
            None,
        ],
        tests=[CHECK] * 6,
        entry_point=["add"] * 6,
    )
    result = CodeExecutionFilter(cpu_s=1, wall_s=4).run(df, sandbox=sandbox)
    assert outcome(result) == {
        "r0": "kept",
        "r1": "sandbox_failed",
        "r2": "sandbox_timeout",
        "r3": "sandbox_blocked",
        "r4": "sandbox_failed",
        "r5": "sandbox_no_code",
    }
    assert result.kept.columns == df.columns  # no helper column leaks
    details = dict(result.rejected.select("_row_id", "_reject_detail").iter_rows())
    assert "AssertionError at the tests line 2: assert candidate(2, 3) == 5" in details["r1"]
    assert "stdout: passed" in details["r4"]  # the captured output travels with the rejection
    cpu = dict(result.scores.select("_row_id", "sandbox_cpu_s").iter_rows())
    assert cpu["r2"] >= 0.5 and cpu["r5"] is None


def test_tests_and_entry_point_columns_are_optional(sandbox):
    mbpp = rows(code=["def add(a, b):\n    return a + b\n"], tests=["assert add(1, 1) == 2\nassert add(0, 0) == 0"])
    assert outcome(CodeExecutionFilter().run(mbpp, sandbox=sandbox)) == {"r0": "kept"}
    scripts = rows(code=["x = sum(range(5))\nassert x == 10\n", "raise ValueError('bad input')\n"])
    assert outcome(CodeExecutionFilter().run(scripts, sandbox=sandbox)) == {"r0": "kept", "r1": "sandbox_failed"}
    mixed = rows(
        code=["assert True\n", "def add(a, b):\n    return 0\n"], tests=[None, CHECK], entry_point=[None, "add"]
    )
    assert outcome(CodeExecutionFilter().run(mixed, sandbox=sandbox)) == {"r0": "kept", "r1": "sandbox_failed"}


def test_require_tests_refuses_rows_without_them(sandbox):
    df = rows(code=["x = 1\n", "def add(a, b):\n    return a + b\n"], tests=[None, CHECK], entry_point=[None, "add"])
    assert outcome(CodeExecutionFilter(require_tests=True).run(df, sandbox=sandbox)) == {
        "r0": "sandbox_no_tests",
        "r1": "kept",
    }
    assert outcome(CodeExecutionFilter(require_tests=True).run(df.drop("tests"), sandbox=sandbox)) == {
        "r0": "sandbox_no_tests",
        "r1": "sandbox_no_tests",
    }


def test_only_the_code_column_is_required_at_compile_time():
    bound = BoundOperator(CodeExecutionFilter(), CodeExecutionFilter().bind_keys({"input_code_key": "solution"}))
    assert bound.columns_after([["_row_id", "solution"]], where="step") == ["_row_id", "solution"]
    with pytest.raises(KeyValidationError, match="solution"):
        bound.columns_after([["_row_id", "code"]], where="step")


def test_renamed_keys(sandbox):
    df = pl.DataFrame(
        {"_row_id": ["a"], "solution": ["def inc(x):\n    return x + 1\n"], "test": ["assert inc(1) == 2"]}
    )
    result = CodeExecutionFilter().run(df, sandbox=sandbox, input_code_key="solution", input_test_key="test")
    assert result.kept["_row_id"].to_list() == ["a"]


def test_the_verdict_evaluator_keeps_every_row(sandbox):
    df = rows(code=["def add(a, b):\n    return a + b\n", "def add(a, b):\n    return 1\n", None],
              tests=[CHECK] * 3, entry_point=["add"] * 3)  # fmt: skip
    kept = CodeExecutionVerdictEvaluator().run(df, sandbox=sandbox).kept
    assert kept.select("execution_verdict", "execution_passed").rows() == [
        ("passed", True),
        ("failed", False),
        (None, None),
    ]
    assert kept["execution_detail"][0] == "" and "AssertionError" in kept["execution_detail"][1]


HELD_OUT_STYLE = {
    # correct solutions: must pass
    "fizzbuzz": ("def fizz(n):\n    return 'Fizz' * (n % 3 == 0) + 'Buzz' * (n % 5 == 0) or str(n)\n",
                 "def check(f):\n    assert f(15) == 'FizzBuzz'\n    assert f(9) == 'Fizz'\n    assert f(7) == '7'\n",
                 "fizz", "kept"),
    "palindrome": ("def is_pal(s):\n    t = [c.lower() for c in s if c.isalnum()]\n    return t == t[::-1]\n",
                   "assert is_pal('A man, a plan, a canal: Panama')\nassert not is_pal('abc')\n", None, "kept"),
    # subtly wrong: must fail
    "off by one in range": ("def total(n):\n    return sum(range(n))\n",
                            "def check(f):\n    assert f(3) == 6\n", "total", "sandbox_failed"),
    "wrong on empty input": ("def first(xs):\n    return xs[0]\n",
                             "def check(f):\n    assert f([4]) == 4\n    assert f([]) is None\n", "first",
                             "sandbox_failed"),
    # adversarial: must fail or be blocked
    "exits before the tests": ("def total(n):\n    return 0\nraise SystemExit(0)\n",
                               "def check(f):\n    assert f(3) == 6\n", "total", "sandbox_failed"),
    "always-equal result": ("class E:\n    def __eq__(self, o):\n        return True\ndef total(n):\n    return E()\n",
                            "def check(f):\n    assert f(3) == 6\n", "total", "sandbox_failed"),
    "rewrites the test": ("import sys\ndef total(n):\n    sys._getframe(1).f_globals['check'] = None\n    return 6\n",
                          "def check(f):\n    assert f(3) == 6\n    assert f(4) == 10\n", "total", "sandbox_blocked"),
}  # fmt: skip


@pytest.mark.parametrize("name", list(HELD_OUT_STYLE))
def test_held_out_style_programs(sandbox, name):
    code, tests, entry_point, expected = HELD_OUT_STYLE[name]
    df = rows(code=[code], tests=[tests], entry_point=[entry_point])
    assert outcome(CodeExecutionFilter().run(df, sandbox=sandbox)) == {"r0": expected}
