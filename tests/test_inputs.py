"""Reading customers' messages: typed intent syntax, offered buttons, labels."""

from __future__ import annotations

import pytest

from bot.errors import ApiError
from bot.gateway.inputs import CustomerInput, read_input

HUMAN = {"title": "Talk to a person", "payload": "/human_agent"}
RETRY = {"title": "Try again", "payload": "/retry"}


@pytest.mark.parametrize(
    ("typed", "for_bot"),
    [
        ("/restart", "restart"),
        ("/ /restart", "restart"),
        (" /\t/\u3000/restart", "restart"),
        ('/inform{"order_number": "80000006"}', 'inform{"order_number": "80000006"}'),
        ("//", "?"),
        ("where is 80000005 / 80000006", "where is 80000005 / 80000006"),
        ("／restart", "／restart"),  # a full-width slash is no intent syntax to Rasa
    ],
)
def test_typed_text_never_reaches_rasa_as_intent_syntax(typed: str, for_bot: str) -> None:
    assert read_input(typed, None, lambda: [HUMAN], lambda: [HUMAN]) == CustomerInput(for_bot, typed)


def test_a_button_offered_in_the_conversation_goes_to_rasa_as_its_payload() -> None:
    assert read_input("/human_agent", None, lambda: [RETRY, HUMAN], lambda: [RETRY]) == CustomerInput(
        "/human_agent", "/human_agent"
    )


def test_a_label_is_taken_only_with_a_button_of_the_latest_turn() -> None:
    assert read_input("/retry", "Try again", lambda: [RETRY, HUMAN], lambda: [RETRY]) == CustomerInput(
        "/retry", "Try again"
    )
    for text, label in (("/human_agent", "Talk to a person"), ("/retry", "Talk to a person"), ("li@x.com", "no")):
        with pytest.raises(ApiError) as refused:
            read_input(text, label, lambda: [RETRY, HUMAN], lambda: [RETRY])
        assert refused.value.status == 400 and refused.value.field == "label"
