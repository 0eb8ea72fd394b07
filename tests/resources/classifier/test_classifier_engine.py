"""The classifier engine for real: tiny BERT classification and regression models built with transformers in a
temporary folder, loaded offline, scored in batches, cached; and classifier_score on top of it."""

import json

import numpy as np
import polars as pl
import pytest

from operators.errors import DataflowError
from operators.text.evaluate.classifier_score import ClassifierScoreEvaluator
from resources.classifier.client import LocalClassifier
from resources.classifier.resource import ClassifierResource
from tests.support import frame

WORDS = ["the", "a", "good", "bad", "great", "terrible", "lesson", "page", "spam", "buy", "now", "learn", "physics"]


def tiny_model(folder, *, labels: list[str] | None, seed: int = 0):
    """A 1-layer BERT with a 20-word vocabulary, random weights (seeded), saved like a downloaded model."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    folder.mkdir(parents=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]
    BertTokenizerFast(vocab={word: i for i, word in enumerate(vocab)}).save_pretrained(folder)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        initializer_range=1.0,  # large random weights: texts get clearly different scores
        num_labels=len(labels) if labels else 1,
        problem_type=None if labels else "regression",
        id2label=dict(enumerate(labels)) if labels else {0: "score"},
        label2id={name: i for i, name in enumerate(labels)} if labels else {"score": 0},
    )
    torch.manual_seed(seed)
    BertForSequenceClassification(config).save_pretrained(folder)
    return folder


TEXTS = ["learn physics lesson", "buy now cheap spam", "a good page", "terrible", "great great lesson now"]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return {
        "quality": tiny_model(root / "quality", labels=["Low", "Medium", "High"]),
        "edu": tiny_model(root / "edu", labels=None),
        "other_weights": tiny_model(root / "other_weights", labels=["Low", "Medium", "High"], seed=1),
    }


def test_loads_offline_and_scores_probabilities_in_batches(models, tmp_path):
    one_by_one = LocalClassifier(models["quality"], batch_size=1)
    batched = LocalClassifier(models["quality"], batch_size=4)
    assert batched.labels == ("Low", "Medium", "High") and not batched.regression
    singles, together = one_by_one.classify(TEXTS), batched.classify(TEXTS)
    assert together.shape == (5, 3) and np.allclose(together.sum(axis=1), 1, atol=1e-5)
    assert np.allclose(singles, together, atol=1e-5)  # padding in a batch does not change a text's score
    assert batched.usage().counts["model_calls"] == 2 and one_by_one.usage().counts["model_calls"] == 5
    assert batched.identity.startswith("transformers:quality@")


def test_regression_heads_give_raw_values(models):
    edu = LocalClassifier(models["edu"])
    assert edu.regression and edu.labels == ("score",)
    values = edu.classify(TEXTS)
    assert values.shape == (5, 1) and np.isfinite(values).all() and len(set(values[:, 0].round(3))) > 1


def test_scores_are_cached_by_model_identity_and_text(models, tmp_path):
    cache = tmp_path / "scores.sqlite"
    first = LocalClassifier(models["quality"], cache_path=cache)
    scores = first.classify(TEXTS)
    again = LocalClassifier(models["quality"], cache_path=cache)
    assert np.array_equal(again.classify(TEXTS[::-1]), scores[::-1])
    assert again.usage().counts == pytest.approx(
        {"texts": 5, "model_calls": 0, "cache_hits": 5, "seconds": again.usage().counts["seconds"]}
    )
    other = LocalClassifier(models["other_weights"], cache_path=cache)
    assert other.identity != first.identity
    assert not np.allclose(other.classify(TEXTS), scores) and other.usage().counts["cache_hits"] == 0


def test_pairs_are_two_segments(models):
    model = LocalClassifier(models["quality"])
    paired = model.classify(["learn physics", "learn physics"], ["a good lesson", "buy now"])
    assert not np.allclose(paired[0], paired[1], atol=1e-3)


def test_a_missing_model_is_refused_with_a_hint(tmp_path):
    with pytest.raises(DataflowError, match=r"has no config\.json") as missing:
        LocalClassifier(tmp_path / "nowhere")
    assert "save_pretrained" in missing.value.hint
    with pytest.raises(DataflowError, match="no model") as unset:
        ClassifierResource(model_path="").build_client()
    assert "DATAFLOW_CLASSIFIER_MODEL" in unset.value.hint


def test_classifier_score_operator_on_the_resource(models, tmp_path):
    resource = ClassifierResource(model_path=str(models["quality"]), cache_path=str(tmp_path / "c.sqlite"))
    df = frame([*TEXTS, None])
    expected = ClassifierScoreEvaluator(label_values={"Low": 0, "Medium": 1, "High": 2}).run(df, classifier=resource)
    probabilities = LocalClassifier(models["quality"]).classify(TEXTS)
    assert expected.kept["classifier_score"].to_list()[:5] == pytest.approx(
        (probabilities @ [0, 1, 2]).tolist(), abs=1e-5
    )
    assert expected.kept["classifier_score"][5] is None and expected.kept["classifier_label"][5] is None
    top = [("Low", "Medium", "High")[i] for i in probabilities.argmax(axis=1)]
    assert expected.kept["classifier_label"].to_list()[:5] == top
    high = ClassifierScoreEvaluator(label="High").run(df, classifier=resource).kept["classifier_score"]
    assert high.to_list()[:5] == pytest.approx(probabilities[:, 2].tolist(), abs=1e-5)
    with pytest.raises(DataflowError, match="'Top' is not a label"):
        ClassifierScoreEvaluator(label="Top").run(df, classifier=resource)
    rewarded = ClassifierScoreEvaluator(pair=True).run(
        frame(["learn physics", None], response=["a good lesson", "x"]), classifier=resource
    )
    assert rewarded.kept["classifier_score"][0] is not None and rewarded.kept["classifier_score"][1] is None
    assert ClassifierScoreEvaluator(pair=True).reads(ClassifierScoreEvaluator().bind_keys({})) == ["text", "response"]
    assert json.loads(json.dumps(resource.usage().metadata()))["texts"] >= 5


def test_regression_scores_through_the_operator(models, tmp_path):
    resource = ClassifierResource(model_path=str(models["edu"]), cache_enabled=False)
    kept = ClassifierScoreEvaluator().run(frame(TEXTS), classifier=resource).kept
    values = LocalClassifier(models["edu"]).classify(TEXTS)[:, 0]
    assert kept["classifier_score"].to_list() == pytest.approx(values.tolist(), abs=1e-5)
    assert kept["classifier_label"].null_count() == 5 and kept.schema["classifier_score"] == pl.Float64
