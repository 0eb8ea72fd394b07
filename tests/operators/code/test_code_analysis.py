"""Syntax (ast, tree-sitter's bundled grammars), ruff lint findings, and radon/lizard complexity on real code."""

import polars as pl

from operators.code.evaluate.code_complexity import CodeComplexityEvaluator
from operators.code.evaluate.code_lint import CodeLintEvaluator
from operators.code.filter.code_syntax import CodeSyntaxFilter
from tests.support import frame


def test_syntax_per_language():
    codes = {
        "py_ok": ("def f(x):\n    return x\n", "python"),
        "py_bad": ("def f(x:\n    return x\n", "python"),
        "py2": ("print 'hello'\n", "python"),
        "js_bad": ("function f( { return 1 }", "javascript"),
        "rust_ok": ('fn main() { println!("hi"); }', "rust"),
        "c_bad": ("int main() { return 0 }", "c"),
        "go_ok": ("package main\nfunc main() {}\n", "go"),
        "klingon": ("Qapla'", "klingon"),
        "null": (None, "python"),
    }
    df = frame({k: v[0] for k, v in codes.items()}, column="code", language=[v[1] for v in codes.values()])
    result = CodeSyntaxFilter().run(df)
    details = dict(result.rejected.select("_row_id", "_reject_detail").iter_rows())
    reasons = dict(result.rejected.select("_row_id", "_reject_rule").iter_rows())
    assert sorted(result.kept["_row_id"]) == ["go_ok", "py_ok", "rust_ok"]
    assert reasons == {
        "py_bad": "code_syntax_error",
        "py2": "code_syntax_error",
        "js_bad": "code_syntax_error",
        "c_bad": "code_syntax_error",
        "klingon": "code_syntax_unknown_language",
        "null": "code_syntax_error",
    }
    assert details["py_bad"].startswith("line 1:")
    assert details["c_bad"] == "line 1: missing ;"


def test_language_from_the_path_and_the_default():
    df = pl.DataFrame({"_row_id": ["a", "b"], "code": ["let x = 1;", "x = 1"], "path": ["src/a.js", "b.unknown"]})
    assert CodeSyntaxFilter().run(df).kept["_row_id"].to_list() == ["a", "b"]  # b: the default, Python
    no_default = CodeSyntaxFilter(default_language=None).run(df)
    assert no_default.rejected.select("_row_id", "_reject_rule").rows() == [("b", "code_syntax_unknown_language")]


def test_too_long_code_is_rejected_unparsed():
    result = CodeSyntaxFilter(max_chars=10).run(frame(["x = 1", "y = 12345678"], column="code"))
    assert result.rejected["_reject_rule"].to_list() == ["code_syntax_too_long"]


def test_lint_findings_from_ruff():
    df = frame(
        [
            "import os\ndef f(x):\n    return y\n",  # unused import, undefined name
            "def f(x):\n    return x\n",
            "def f(:\n",
            "int main() { return 0; }",
            None,
        ],
        column="code",
        language=["python", "python", "python", "c", "python"],
    )
    kept = CodeLintEvaluator().run(df).kept
    assert kept.select("lint_findings", "lint_codes").rows() == [
        (2, ["F401", "F821"]),
        (0, []),
        (2, ["invalid-syntax"]),
        (None, None),
        (None, None),
    ]


def test_complexity_with_radon_and_lizard():
    branchy = "def f(x):\n    if x > 0:\n        return 1\n    elif x < 0:\n        return -1\n    return 0\n"
    df = frame(
        [branchy, "x = 1\n", "int f(int a) { if (a) return 1; for (;;) {} return 0; }", "def f(:", None],
        column="code",
        language=["python", "python", "c", "python", "python"],
    )
    kept = CodeComplexityEvaluator().run(df).kept
    rows = kept.select("complexity_max", "complexity_mean", "maintainability_index").rows()
    assert rows[0][:2] == (3, 3.0) and 0 < rows[0][2] <= 100
    assert rows[1][:2] == (0, 0.0)  # no function: one path
    assert rows[2] == (3, 3.0, None)  # lizard: if and for
    assert rows[3] == rows[4] == (None, None, None)
