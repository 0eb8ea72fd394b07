"""math_contamination against benchmark tables in every format it reads."""

import json

import polars as pl
import pytest

from operators.errors import DataflowError
from operators.math.filter.math_contamination import MathContaminationFilter
from tests.support import frame

BENCHMARK = pl.DataFrame(
    {
        "id": ["aime-1", "amc-7", "tiny"],
        "problem": [
            r"Let $f(x) = 3x^2 - 5$. What is the value of $f(f(1))$? Give your answer as an integer.",
            r"How many vertical asymptotes does the graph of $y=\frac{2}{x^2+x-6}$ have?",
            "Compute 2+2.",
        ],
    }
)
QUESTIONS = [
    r"Problem: let f(x)=3x^2-5. What is the value of f(f(1))? Give your answer as an integer, please.",  # reworded
    r"How many vertical asymptotes does the graph of $y = \frac{2}{x^2+x-6}$ have?",  # spacing only
    "A bag holds 3 red and 5 blue marbles. What is the probability of drawing a red one?",
    "Compute 2+2.",  # the benchmark item is too short to count (min_tokens)
]


def write(tmp_path, kind: str) -> str:
    if kind == "delta":
        BENCHMARK.write_delta(tmp_path / "bench")
        return str(tmp_path / "bench")
    path = tmp_path / f"bench.{kind}"
    {"parquet": BENCHMARK.write_parquet, "csv": BENCHMARK.write_csv, "jsonl": BENCHMARK.write_ndjson}[kind](path)
    return str(path)


@pytest.mark.parametrize("kind", ["parquet", "csv", "jsonl", "delta"])
def test_rejects_questions_sharing_ngrams_with_the_benchmark_and_names_the_item(tmp_path, kind):
    op = MathContaminationFilter(
        benchmark_path=write(tmp_path, kind), benchmark_column="problem", benchmark_id_column="id", n=8
    )
    result = op.run(frame(QUESTIONS, column="question"))
    assert result.kept["_row_id"].to_list() == ["r2", "r3"]
    details = [json.loads(d) for d in result.rejected["_reject_detail"]]
    assert [d["benchmark_item"] for d in details] == ["aime-1", "amc-7"]
    assert details[1]["overlap"] == 1.0 and details[0]["shared_ngrams"] >= 1
    assert set(result.rejected["_reject_rule"]) == {"math_contaminated"}


def test_the_default_13_grams_catch_a_copied_problem(tmp_path):
    op = MathContaminationFilter(benchmark_path=write(tmp_path, "parquet"), benchmark_column="problem")
    result = op.run(frame(QUESTIONS[1:], column="question"))
    assert result.rejected["_row_id"].to_list() == ["r0"]  # only the copy (17 tokens) shares 13-grams


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"benchmark_path": "/nowhere/bench.jsonl"}, "does not exist"),
        ({"benchmark_column": "text"}, "no column 'text'"),
    ],
)
def test_a_wrong_benchmark_is_an_error_naming_it(tmp_path, params, message):
    op = MathContaminationFilter(**{"benchmark_path": write(tmp_path, "parquet"), **params})
    with pytest.raises(DataflowError, match=message):
        op.run(frame(QUESTIONS, column="question"))
