"""NER masking with a real token-classification model built in a temporary folder (its classifier biased so that
the tagging is known), and the refusal without a model."""

import pytest

from operators.errors import MissingDependencyError
from operators.text.refine.ner_mask import NerMaskRefiner
from tests.support import frame

WORDS = ["ada", "met", "bob", "in", "paris", "today"]
LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


def tagging_model(folder, tags: dict[str, str]):
    """A 1-layer BERT whose output is decided by the word alone: the classifier reads the word embedding, which
    is set to a one-hot of the word's wanted label (position and type embeddings zeroed, no attention effect)."""
    import torch
    from transformers import BertConfig, BertForTokenClassification, BertTokenizerFast

    folder.mkdir(parents=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]
    BertTokenizerFast(vocab={word: i for i, word in enumerate(vocab)}).save_pretrained(folder)
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=8, num_hidden_layers=0, num_attention_heads=1, intermediate_size=8,
        num_labels=len(LABELS), id2label=dict(enumerate(LABELS)), label2id={n: i for i, n in enumerate(LABELS)},
        hidden_dropout_prob=0.0,
    )  # fmt: skip
    model = BertForTokenClassification(config)
    with torch.no_grad():
        embeddings = model.bert.embeddings
        embeddings.word_embeddings.weight.zero_()
        embeddings.position_embeddings.weight.zero_()
        embeddings.token_type_embeddings.weight.zero_()
        embeddings.LayerNorm.weight.fill_(1.0)
        embeddings.LayerNorm.bias.zero_()
        for index, word in enumerate(vocab):
            label = LABELS.index(tags.get(word, "O"))
            embeddings.word_embeddings.weight[index, label] = 10.0
        model.classifier.weight.zero_()
        model.classifier.bias.zero_()
        for label in range(len(LABELS)):
            model.classifier.weight[label, label] = 1.0
    model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return tagging_model(tmp_path_factory.mktemp("ner") / "model", {"ada": "B-PER", "bob": "B-PER", "paris": "B-LOC"})


def test_masks_the_entities_the_model_tags(model):
    df = frame(["ada met bob in paris today", "met today", None, ""])
    result = NerMaskRefiner(model_path=str(model)).run(df).kept
    assert result["text"].to_list() == ["<PER> met <PER> in <LOC> today", "met today", None, ""]
    assert result["ner_masks"].to_list() == [3, 0, None, 0]
    only_places = NerMaskRefiner(model_path=str(model), entities=["LOC"]).run(df).kept
    assert only_places["text"][0] == "ada met bob in <LOC> today"


def test_refuses_without_a_model_folder(tmp_path):
    with pytest.raises(MissingDependencyError, match=r"has no config\.json") as refused:
        NerMaskRefiner(model_path=str(tmp_path))
    assert "redact_pii" in refused.value.hint
