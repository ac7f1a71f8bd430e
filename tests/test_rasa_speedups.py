"""The remedies applied to Rasa keep its behaviour: the action server's responses Rasa accepts and refuses
are the same with the validator built once as with Rasa's own `jsonschema.validate` per call; the
response selector still chooses the answer of a policy question."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from bot import rasa_speedups
from tests.stack import Stack

ORIGINAL = RemoteAction._validate_action_result
VALID: list[dict[str, Any]] = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "order_number", "value": "80000005"}], "responses": [{"text": "hi"}]},
    {"events": [{"event": "action_execution_rejected", "name": "x"}], "responses": [{"custom": {"a": 1}}]},
    {},
]
INVALID: list[dict[str, Any]] = [
    {"events": "not a list"},
    {"events": [{"name": "no event key"}]},
    {"events": [{"event": "slot"}], "responses": "nope"},
    {"responses": [1, 2]},
]


@pytest.fixture
def action() -> RemoteAction:
    return RemoteAction("action_test", None)


@pytest.mark.parametrize("result", VALID)
def test_what_rasa_accepts_is_accepted(action: RemoteAction, result: dict[str, Any]) -> None:
    assert ORIGINAL(action, result) is True
    assert rasa_speedups.validate_action_result(action, result) is True


@pytest.mark.parametrize("result", INVALID)
def test_what_rasa_refuses_is_refused_with_the_same_error(action: RemoteAction, result: dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError) as theirs:
        ORIGINAL(action, result)
    with pytest.raises(jsonschema.ValidationError) as ours:
        rasa_speedups.validate_action_result(action, result)
    assert ours.value.message == theirs.value.message and "Failed to validate Action server" in ours.value.message


def test_apply_installs_the_remedy_in_rasa(action: RemoteAction) -> None:
    try:
        rasa_speedups.apply()
        assert RemoteAction._validate_action_result is rasa_speedups.validate_action_result
        with pytest.raises(jsonschema.ValidationError):
            action._validate_action_result({"events": "not a list"})
    finally:
        RemoteAction._validate_action_result = ORIGINAL  # type: ignore[method-assign]


def test_the_response_selector_answers_retrieval_intents_only(stack: Stack) -> None:
    """The deployed model: a policy question still gets its answer chosen; an order lookup no longer pays for it."""
    faq = stack.parse("what's your return policy?")
    assert faq["intent"]["name"] == "faq"
    assert faq["response_selector"]["default"]["response"]["intent_response_key"] == "faq/return_policy"
    zh = stack.parse("退款一般多久能到账")
    assert zh["response_selector"]["default"]["response"]["intent_response_key"] == "faq/refund_time"
    lookup = stack.parse("where is my order 80000005")
    assert lookup["intent"]["name"] in ("order_status", "track_shipment")
    assert "default" not in lookup.get("response_selector", {})
