import pytest

from operators.errors import DataflowError
from operators.math.filter.math_answer_length import MathAnswerLengthFilter
from tests.support import frame


def test_counts_words_and_punctuation_without_a_tokenizer():
    df = frame(["x = 3.", "We have $2 + 2 = 4$, so the answer is \\boxed{4}.", None], column="solution")
    result = MathAnswerLengthFilter(min_tokens=5, max_tokens=20).run(df)
    assert result.scores["answer_tokens"].to_list() == [4, 20, 0]
    assert result.kept["_row_id"].to_list() == ["r1"]
    assert result.rejected["_reject_rule"].to_list() == ["math_answer_too_short", "math_answer_too_short"]


def test_counts_with_a_local_tokenizer_file(tmp_path):
    tokenizers = pytest.importorskip("tokenizers", reason="tokenizers (installed with transformers) reads the file")
    Tokenizer, models, pre_tokenizers = tokenizers.Tokenizer, tokenizers.models, tokenizers.pre_tokenizers
    tokenizer = Tokenizer(models.WordLevel({"[UNK]": 0, "x": 1, "=": 2, "3": 3}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    path = tmp_path / "tokenizer.json"
    tokenizer.save(str(path))
    result = MathAnswerLengthFilter(max_tokens=3, tokenizer=str(path)).run(
        frame(["x = 3", "x = 3 = x"], column="solution")
    )
    assert result.scores["answer_tokens"].to_list() == [3, 5]
    assert result.rejected["_reject_rule"].to_list() == ["math_answer_too_long"]


def test_a_missing_tokenizer_file_is_named():
    with pytest.raises(DataflowError, match=r"nowhere\.json"):
        MathAnswerLengthFilter(tokenizer="/nowhere.json").run(frame(["x"], column="solution"))


def test_bounds_must_be_ordered():
    with pytest.raises(ValueError, match="min_tokens"):
        MathAnswerLengthFilter(min_tokens=10, max_tokens=5)
