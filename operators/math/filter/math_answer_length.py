from __future__ import annotations

from functools import lru_cache
from typing import Any

import polars as pl
from pydantic import Field, model_validator

from operators.base import Filter, Read, Rule
from operators.errors import DataflowError
from operators.registry import register

TOKEN_PATTERN = r"\w+|[^\w\s]"
"""Without a tokenizer: a word or one punctuation mark (LaTeX commands split as ``\\`` + word)."""


@lru_cache(maxsize=4)
def _tokenizer(path: str) -> Any:
    try:
        from tokenizers import Tokenizer
    except ImportError as error:
        raise DataflowError("math_answer_length: tokenizer= needs the 'tokenizers' package") from error
    try:
        return Tokenizer.from_file(path)
    except Exception as error:
        raise DataflowError(
            f"math_answer_length: cannot load the tokenizer file {path!r}: {error}",
            hint="give the path of a Hugging Face tokenizer.json (nothing is downloaded)",
        ) from error


@register("math_answer_length")
class MathAnswerLengthFilter(Filter):
    """Keep solutions whose length in tokens is between min_tokens and max_tokens (inclusive); the count is the score.

    Tokens are counted by a Hugging Face tokenizer when ``tokenizer`` names a local ``tokenizer.json`` (the
    tokenizer of the model to be trained, as DataFlow's ``ReasoningAnswerTokenLengthFilter`` does), else
    approximated offline by words and punctuation marks (``\\w+|[^\\w\\s]``, vectorized in polars), which counts
    within some 20% of BPE tokens on English math text. Rejections: ``math_answer_too_short``,
    ``math_answer_too_long``; a null solution counts as 0 tokens.
    """

    key_docs = {"input_key": "the solution whose tokens are counted"}
    references = ("Liang et al. 2025, DataFlow, arXiv:2512.16676 (reasoning pipeline: answer token length filter)",)

    min_tokens: int = Field(1, ge=0, description="Fewest tokens kept (inclusive)")
    max_tokens: int = Field(8192, ge=1, description="Most tokens kept (inclusive)")
    tokenizer: str | None = Field(None, description="Path of a local tokenizer.json; word/punctuation count if unset")

    @model_validator(mode="after")
    def _ordered(self) -> MathAnswerLengthFilter:
        if self.min_tokens > self.max_tokens:
            raise ValueError(f"min_tokens ({self.min_tokens}) is greater than max_tokens ({self.max_tokens})")
        return self

    def rules(self, *, input_key: Read = "solution") -> dict[str, Rule]:
        text = pl.col(input_key).fill_null("")
        if self.tokenizer is None:
            tokens = text.str.count_matches(TOKEN_PATTERN)
        else:
            tokenizer = _tokenizer(self.tokenizer)
            tokens = text.map_batches(
                lambda batch: pl.Series([len(e.ids) for e in tokenizer.encode_batch(batch.to_list())]),
                return_dtype=pl.Int64,
            )
        tokens = tokens.cast(pl.Int64).alias("answer_tokens")
        return {
            "math_answer_too_short": Rule(score=tokens, keep=tokens >= self.min_tokens),
            "math_answer_too_long": Rule(score=tokens, keep=tokens <= self.max_tokens),
        }
