from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, ClassVar

import polars as pl
from pydantic import Field

from operators.base import Read, Refiner, Write
from operators.errors import MissingDependencyError
from operators.registry import register


@register("ner_mask")
class NerMaskRefiner(Refiner):
    """Mask named entities (people, places, organisations...) in text with a token-classification model from a
    local folder: "Ada met Bob in Paris" -> "<PER> met <PER> in <LOC>".

    Covers DataFlow's ``NERRefiner``, which loads spaCy's ``en_core_web_sm`` (a separate download). No NER model
    ships in an installed package, so the model is yours: ``model_path`` names a Hugging Face token-classification
    folder (e.g. a saved ``dslim/bert-base-NER``), loaded with ``local_files_only``; without it the operator refuses
    to start with a hint, and nothing is downloaded. Entities are found with transformers' token-classification
    pipeline (sub-words merged into words, ``aggregation_strategy="simple"``), and each entity whose group is in
    ``entities`` (all by default) and whose score is at least ``min_score`` is replaced by ``<GROUP>``.
    ``mask_count_key`` receives the number of masks per row. Runs row by row on the CPU: for large corpora prefer
    ``redact_pii`` (patterns and checksums, vectorized) and mask names only where needed.
    """

    requires: ClassVar[tuple[str, ...]] = ("transformers", "torch")
    extra: ClassVar[str | None] = "text"
    key_docs: ClassVar[dict[str, str]] = {"mask_count_key": "number of entities masked in the row"}

    model_path: str = Field(description="Folder of a Hugging Face token-classification (NER) model")
    entities: list[str] | None = Field(None, description="Entity groups to mask, e.g. ['PER', 'LOC']; None: all")
    min_score: float = Field(0.5, ge=0, le=1, description="Least model score of a masked entity")

    def __init__(self, **parameters: Any) -> None:
        super().__init__(**parameters)
        if not (Path(self.model_path).expanduser() / "config.json").is_file():
            raise MissingDependencyError(
                f"ner_mask needs a token-classification model folder; {self.model_path!r} has no config.json",
                hint="save an NER model with save_pretrained (on a machine with network) and give its folder as "
                "model_path; or use redact_pii, which needs no model",
            )

    def expressions(
        self, *, input_key: Read = "text", output_key: Write = "text", mask_count_key: Write = "ner_masks"
    ) -> dict[str, pl.Expr]:
        masked = pl.col(input_key).map_batches(self._mask, return_dtype=pl.Struct({"t": pl.String, "n": pl.Int64}))
        return {output_key: masked.struct.field("t"), mask_count_key: masked.struct.field("n")}

    def _mask(self, texts: pl.Series) -> pl.Series:
        tagger = _tagger(str(Path(self.model_path).expanduser()))
        values = texts.to_list()
        present = [i for i, text in enumerate(values) if text]
        found = tagger([values[i] for i in present]) if present else []
        results: list[dict[str, Any] | None] = [None if v is None else {"t": v, "n": 0} for v in values]
        for i, entities in zip(present, found, strict=True):
            text, count = values[i], 0
            for entity in sorted(entities, key=lambda e: e["start"], reverse=True):
                group = entity["entity_group"]
                if entity["score"] < self.min_score or (self.entities is not None and group not in self.entities):
                    continue
                text, count = f"{text[: entity['start']]}<{group}>{text[entity['end'] :]}", count + 1
            results[i] = {"t": text, "n": count}
        return pl.Series(results, dtype=pl.Struct({"t": pl.String, "n": pl.Int64}))


@cache
def _tagger(folder: str) -> Any:
    """One loaded pipeline per model folder in the process."""
    from transformers import AutoModelForTokenClassification, AutoTokenizer, pipeline

    model = AutoModelForTokenClassification.from_pretrained(folder, local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    return pipeline("token-classification", model=model, tokenizer=tokenizer, aggregation_strategy="simple", device=-1)
