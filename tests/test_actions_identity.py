"""Starting a request and the order form's checks, against the real stub on loopback."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.base import human_button, retry_buttons
from actions.identity import ActionAskContact, ActionAskOrderNumber, ValidateOrderForm
from actions.requests import FLOW_SLOTS, ActionStartRequest
from tests.botkit import domain, make_tracker, run, said
from tests.conftest import Platform

pytestmark = pytest.mark.asyncio
LI = "1"  # Li Wei, owner of 80000001, 80000005 and 80000011
RETRY_BUTTONS = retry_buttons("en")
HUMAN_BUTTON = [human_button("en")]


@pytest.mark.parametrize(
    ("text", "intent", "wanted", "number"),
    [
        ("where is my order 80000005", "order_status", "order_status", "80000005"),
        ("80000001.", "inform", "order_status", "80000001"),
        ("#80000001", "inform", "order_status", "80000001"),
        ("order no. 80000001 please", "return_request", "return", "80000001"),
        ("refund for order 80000008?", "refund_status", "refund", "80000008"),
        ("my parcel is lost", "track_shipment", "track", None),
        ("someone hacked my account", "security_issue", "security", None),
        ("I want to complain", "complaint", "complaint", None),
    ],
)
async def test_start_request_reads_intent_and_number(text: str, intent: str, wanted: str, number: str | None) -> None:
    messages, events = await run(ActionStartRequest(), make_tracker(text=text, intent=intent))
    assert messages == []
    assert events == [
        {"event": "slot", "timestamp": None, "name": "request", "value": wanted},
        {"event": "slot", "timestamp": None, "name": "order_number", "value": number},
        *[{"event": "slot", "timestamp": None, "name": s, "value": None} for s in FLOW_SLOTS],
    ]


async def test_a_bare_number_keeps_the_current_request() -> None:
    _, events = await run(ActionStartRequest(), make_tracker({"request": "refund"}, "80000009", "inform"))
    assert events[0]["value"] == "refund" and events[1]["value"] == "80000009"


async def call(method: str, tracker: Any, *args: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    form = ValidateOrderForm()
    result = await getattr(form, method)(*args, dispatcher, tracker, domain())
    return result, said(dispatcher)


async def test_known_order_number_is_accepted_with_its_owner(bot_platform: Platform) -> None:
    result, messages = await call("validate_order_number", make_tracker(), "80000005")
    assert result == {"order_number": "80000005", "order_owner_id": LI, "contact": None, "pending_answer": None}
    assert messages == []


async def test_unknown_order_number_is_asked_again(bot_platform: Platform) -> None:
    result, messages = await call("validate_order_number", make_tracker(), "89999999")
    assert result == {"order_number": None, "order_owner_id": None, "pending_answer": None}
    assert messages == [{"response": "utter_order_not_found", "order_number": "89999999"}]


async def test_number_can_be_corrected_mid_form(bot_platform: Platform) -> None:
    tracker = make_tracker({"order_number": "80000005", "requested_slot": "contact"}, "sorry, it's 80000006")
    assert await call("extract_order_number", tracker) == ({"order_number": "80000006"}, [])


@pytest.mark.parametrize(
    ("text", "intent", "expected", "response"),
    [
        ("8000005", "inform", {"order_number": None}, "utter_order_number_malformed"),
        ("I don't know it", "deny", {"order_number": None}, "utter_order_number_help"),
        ("how long do refunds take?", "faq", {}, None),
        ("get me a person", "human_agent", {}, None),
    ],
)
async def test_order_number_question_handles_other_answers(
    text: str, intent: str, expected: dict[str, Any], response: str | None
) -> None:
    tracker = make_tracker({"requested_slot": "order_number"}, text, intent)
    result, messages = await call("extract_order_number", tracker)
    assert result == expected
    assert [m["response"] for m in messages] == ([response] if response else [])


def at_contact(slots: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    base = {"order_number": "80000001", "order_owner_id": LI, "requested_slot": "contact"}
    return make_tracker({**base, **(slots or {})}, **kwargs)


@pytest.mark.parametrize(
    ("contact", "masked"),
    [("li.wei@example.com", "l***@example.com"), ("+86 138 0000 1001", "the phone ending 1001")],
)
async def test_right_contact_verifies(bot_platform: Platform, contact: str, masked: str) -> None:
    result, messages = await call("validate_contact", at_contact(text=contact), contact)
    assert result == {
        "contact": masked,
        "order_owner_id": LI,
        "verified_customer_id": LI,
        "verify_attempts": 0.0,
        "pending_answer": None,
    }
    assert messages == [
        {"response": "utter_verified", "contact": masked},
        {"custom": {"verified": {"customer_id": LI}}},
    ]


async def test_three_wrong_contacts_end_verification(bot_platform: Platform) -> None:
    result, messages = await call("validate_contact", at_contact(), "zhang.min@example.com")
    assert result == {"contact": None, "verify_attempts": 1.0, "pending_answer": None}
    assert messages == [{"response": "utter_verification_failed", "contact": "z***@example.com", "tries_left": 2}]
    result, _ = await call("validate_contact", at_contact({"verify_attempts": 1.0}), "13900002002")
    assert result == {"contact": None, "verify_attempts": 2.0, "pending_answer": None}
    result, messages = await call("validate_contact", at_contact({"verify_attempts": 2.0}), "x@example.com")
    assert result == {
        "contact": "failed",
        "verify_attempts": 3.0,
        "verification_locked": True,
        "handoff_reason": "verification_failed",
        "pending_answer": None,
    }
    assert messages == [{"response": "utter_verification_locked"}]


async def test_text_that_is_no_contact_costs_no_try(bot_platform: Platform) -> None:
    result, messages = await call("validate_contact", at_contact(), "no idea")
    assert result == {"contact": None, "pending_answer": None}
    assert messages == [{"response": "utter_contact_malformed"}]


async def test_platform_down_during_verification_keeps_the_tries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLATFORM_URL", "http://127.0.0.1:9")
    result, messages = await call("validate_contact", at_contact({"verify_attempts": 1.0}), "li.wei@example.com")
    assert result == {"contact": None, "pending_answer": "li.wei@example.com"}
    assert messages == [{"response": "utter_platform_down", "buttons": RETRY_BUTTONS}]


async def run_form(tracker: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Runs the whole validation action as Rasa calls it; returns the slots it sets and what it said."""
    dispatcher = CollectingDispatcher()
    events = await ValidateOrderForm().run(dispatcher, tracker, domain())
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}, said(dispatcher)


async def test_a_corrected_number_binds_verification_to_the_new_order(bot_platform: Platform) -> None:
    """Zhang Min's 80000006 was asked about; Li Wei's email comes with Li Wei's 80000001 in one message."""
    text = "li.wei@example.com, sorry it's 80000001"
    slots = {"order_number": "80000006", "order_owner_id": "2", "requested_slot": "contact"}
    candidate = {"event": "slot", "name": "contact", "value": text}  # what Rasa's from_text mapping extracted
    tracker = make_tracker(slots, text, "inform", active_loop="order_form")
    tracker.events.append(candidate)
    set_slots, messages = await run_form(tracker)
    assert set_slots["order_number"] == "80000001"
    assert set_slots["verified_customer_id"] == LI and set_slots["order_owner_id"] == LI
    assert {"custom": {"verified": {"customer_id": LI}}} in messages


async def test_an_order_number_at_the_contact_question_costs_no_try(bot_platform: Platform) -> None:
    result, messages = await call("validate_contact", at_contact(text="sorry it's 80000006"), "sorry it's 80000006")
    assert result == {"contact": None, "pending_answer": None} and messages == []


async def test_platform_down_at_the_number_keeps_it_for_try_again(
    bot_platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLATFORM_URL", "http://127.0.0.1:9")
    result, messages = await call("validate_order_number", make_tracker(), "80000005")
    assert result == {"order_number": None, "pending_answer": "80000005", "order_owner_id": None}
    assert messages == [{"response": "utter_platform_down", "buttons": RETRY_BUTTONS}]
    waiting = {"requested_slot": "order_number", "pending_answer": "80000005", "request": "order_status"}
    asked, _ = await run(ActionAskOrderNumber(), make_tracker(waiting))
    assert asked == []  # "Try again" is the question now, not the number again
    monkeypatch.setenv("PLATFORM_URL", bot_platform.url)
    retry = make_tracker(waiting, "/retry", "retry", active_loop="order_form")
    assert await call("extract_order_number", retry) == ({"order_number": "80000005"}, [])
    result, _ = await call("validate_order_number", retry, "80000005")
    assert result == {"order_number": "80000005", "order_owner_id": LI, "contact": None, "pending_answer": None}
    asked, _ = await run(ActionAskOrderNumber(), make_tracker({"requested_slot": "order_number"}))
    assert asked == [{"response": "utter_ask_order_number"}]


async def test_an_answer_after_an_outage_ends_the_wait_for_try_again(bot_platform: Platform) -> None:
    """The platform is back and the customer types the order number: the contact is asked again, not skipped."""
    waiting = at_contact({"pending_answer": "zhang.min@example.com"}, text="80000001")
    result, _ = await call("validate_contact", waiting, "80000001")
    assert result == {"contact": None, "pending_answer": None}
    asked, _ = await run(ActionAskContact(), at_contact(text="80000001"))
    assert asked == [{"response": "utter_ask_contact"}]


async def test_try_again_at_the_contact_rechecks_the_kept_contact(bot_platform: Platform) -> None:
    retry = at_contact({"pending_answer": "li.wei@example.com"}, text="/retry", intent="retry")
    assert await call("extract_contact", retry) == ({"contact": "li.wei@example.com"}, [])
    assert await call("extract_contact", at_contact(text="/retry", intent="retry")) == ({}, [])


async def test_too_many_wrong_contacts_for_an_order_are_refused_honestly(bot_platform: Platform) -> None:
    """Five wrong answers over any number of conversations lock the order at the platform for a while."""
    for n in range(5):
        await call("validate_contact", at_contact(sender=f"conv-{n}"), f"guess{n}@example.com")
    result, messages = await call("validate_contact", at_contact(sender="conv-6"), "li.wei@example.com")
    assert messages == [{"response": "utter_verification_rate_limited", "buttons": HUMAN_BUTTON}]
    assert result["verification_locked"] is True and "verified_customer_id" not in result


@pytest.mark.parametrize(
    ("slots", "metadata", "required"),
    [
        ({}, None, ["order_number", "contact"]),
        ({"order_owner_id": LI}, None, ["order_number", "contact"]),
        ({"order_owner_id": LI, "verified_customer_id": LI}, None, ["order_number"]),  # another order, same customer
        ({"order_owner_id": "2", "verified_customer_id": LI}, None, ["order_number", "contact"]),
        ({"order_owner_id": LI}, {"customer_id": 1}, ["order_number"]),  # the channel knows the customer
        ({"order_owner_id": LI, "verification_locked": True}, None, ["order_number"]),
    ],
)
async def test_contact_is_asked_only_when_needed(
    slots: dict[str, Any], metadata: dict[str, Any] | None, required: list[str]
) -> None:
    tracker = make_tracker(slots, metadata=metadata)
    got = await ValidateOrderForm().required_slots(
        ["order_number", "contact"], CollectingDispatcher(), tracker, domain()
    )
    assert got == required
