"""The fallback classifier reads interchangeable intents as one need, and otherwise behaves as Rasa's."""

from __future__ import annotations

import pytest
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.fallback import GroupedFallbackClassifier
from tests.stack import Stack

CONFIG = {"threshold": 0.5, "ambiguity_threshold": 0.1}
GROUPED = GroupedFallbackClassifier({**CONFIG, "interchangeable": [["order_status", "track_shipment"]]})
RASA = FallbackClassifier(CONFIG)


def message(*ranking: tuple[str, float]) -> Message:
    intents = [{"name": name, "confidence": c} for name, c in ranking]
    return Message(data={"text": "x", "intent": intents[0], "intent_ranking": intents})


def intent(classifier: FallbackClassifier, msg: Message) -> str:
    return str(classifier.process([msg])[0].data["intent"]["name"])


def test_two_interchangeable_intents_are_one_need() -> None:
    """ "where's 80000005": too low and too close for Rasa, but both intents answer it."""
    ranking = (("track_shipment", 0.42), ("order_status", 0.36), ("inform", 0.1))
    assert intent(RASA, message(*ranking)) == "nlu_fallback"
    assert intent(GROUPED, message(*ranking)) == "track_shipment"


def test_the_group_must_still_stand_out_from_the_rest() -> None:
    assert intent(GROUPED, message(("track_shipment", 0.2), ("order_status", 0.2), ("other", 0.15))) == "nlu_fallback"
    assert intent(GROUPED, message(("track_shipment", 0.3), ("order_status", 0.25), ("other", 0.5))) == "nlu_fallback"


@pytest.mark.parametrize(
    "ranking",
    [
        (("track_shipment", 0.42), ("return_request", 0.36)),  # close, different needs
        (("track_shipment", 0.45), ("inform", 0.1)),  # one intent, below the threshold
        (("refund_status", 0.9), ("order_status", 0.05)),  # confident
        (("order_status", 0.55), ("complaint", 0.5)),  # ambiguous
    ],
)
def test_anything_else_is_decided_as_rasa_decides(ranking: tuple[tuple[str, float], ...]) -> None:
    assert intent(GROUPED, message(*ranking)) == intent(RASA, message(*ranking))


def test_text_without_words_is_never_read_as_a_request() -> None:
    """A keyboard mash the model reads as `nonsense` is not understood, however sure the model is."""
    unreadable = GroupedFallbackClassifier({**CONFIG, "unreadable": ["nonsense"]})
    assert intent(unreadable, message(("nonsense", 0.97), ("angry", 0.02))) == "nlu_fallback"
    assert intent(unreadable, message(("angry", 0.9), ("nonsense", 0.05))) == "angry"


def test_the_deployed_model_does_not_understand_keyboard_mashes(stack: Stack) -> None:
    for mash in ("asdf qwer", "jjjj kkkk", "zxcv uiop hjkl", "啊啊啊啊", "sdfg hjkl"):
        assert stack.parse(mash)["intent"]["name"] == "nlu_fallback", mash
