"""Language names and code extraction from LLM answers."""

import polars as pl

from operators.code.languages import extract_code, language_expr, normalize


def test_normalize_aliases():
    assert [normalize(n) for n in ("Python", "py", "C++", "C#", "JS", None)] == [
        "python",
        "python",
        "cpp",
        "csharp",
        "javascript",
        None,
    ]


def test_language_from_column_then_path_then_default():
    df = pl.DataFrame({"language": ["Py", None, None], "path": ["x.js", "lib/x.RS", "README"]})
    languages = df.select(language_expr(pl.col("language"), pl.col("path"), "python")).to_series().to_list()
    assert languages == ["python", "rust", "python"]


def test_extract_code_from_markdown():
    answer = "Here you go:\n```python\ndef f():\n    return 1\n```\nHope it helps.\n```bash\nls\n```"
    assert extract_code(answer, "python") == "def f():\n    return 1"
    assert extract_code("```bash\nls\n```\n```py\nx = 1\n```", "python") == "x = 1"
    assert extract_code("```\nx = 2\n```", "python") == "x = 2"  # an untagged block
    assert extract_code("x = 3\n", "python") == "x = 3"  # no block: the whole answer
    assert extract_code("```python\nx = 4\n", "python") == "x = 4"  # an unclosed block (max_tokens reached)
