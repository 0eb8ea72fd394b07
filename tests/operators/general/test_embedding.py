"""The ``embedding`` operator with the real shipped model: a List(Float32) column of unit vectors, one per row,
null for a null text, the same vectors the embedder gives, and no model call when there is nothing to embed."""

import numpy as np
import polars as pl
import pytest

from operators import EmbeddingEvaluator, describe
from operators.errors import KeyValidationError
from resources.embedder.resource import EmbedderResource
from tests.support import frame

TEXTS = ["Tides follow the moon.", None, "Bread rises with yeast.", "", "Tides follow the moon."]


@pytest.fixture(scope="module")
def embedder():
    return EmbedderResource(cache_enabled=False).build_client()


def test_each_row_gets_its_texts_unit_vector_and_a_null_text_a_null_vector(embedder):
    df = frame(TEXTS, source=["a", "b", "c", "d", "e"])
    out = EmbeddingEvaluator()(df, embedder=embedder, input_key="text", output_key="vector")
    assert out.columns == ["_row_id", "text", "source", "vector"]
    assert out.schema["vector"] == pl.List(pl.Float32)
    assert out["_row_id"].to_list() == df["_row_id"].to_list() and out["source"].to_list() == df["source"].to_list()
    assert out["vector"].is_null().to_list() == [False, True, False, False, False]
    present = np.array(out["vector"].drop_nulls().to_list(), dtype=np.float32)
    assert present.shape == (4, 384)
    assert np.allclose(np.linalg.norm(present, axis=1), 1.0, atol=1e-5)
    assert np.allclose(present, embedder.embed([t for t in TEXTS if t is not None]), atol=1e-6)
    assert np.array_equal(present[0], present[3])  # the repeated text


def test_a_frame_with_no_text_makes_no_call(embedder):
    before = embedder.usage()
    out = EmbeddingEvaluator()(frame([None, None]), embedder=embedder)
    assert out.schema["embedding"] == pl.List(pl.Float32) and out["embedding"].null_count() == 2
    assert EmbeddingEvaluator()(frame([]), embedder=embedder).height == 0
    assert embedder.usage().since(before).metadata()["calls"] == 0


def test_it_declares_the_embedder_engine_and_its_columns():
    info = describe(EmbeddingEvaluator)
    assert info.engines == ["embedder"] and info.category == "evaluate"
    assert [(k.name, k.default) for k in info.inputs] == [("input_key", "text")]
    assert [(k.name, k.default) for k in info.outputs] == [("output_key", "embedding")]
    with pytest.raises(KeyValidationError, match="no key parameter 'text_key'"):
        EmbeddingEvaluator().bind({"text_key": "text"})
