"""Starting a request and the order form's checks, against the real stub on loopback."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.base import human_button, retry_buttons
from actions.context import OTHERS, clause_requests, said_contact, said_order_numbers
from actions.identity import ActionAskContact, ActionAskOrderNumber, ValidateOrderForm
from actions.requests import FLOW_SLOTS, ActionStartRequest, next_order
from actions.text import read_contact
from tests.botkit import domain, make_tracker, run, said, user_turn
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
        {"event": "slot", "timestamp": None, "name": "offered_contact", "value": None},
        {"event": "slot", "timestamp": None, "name": "next_orders", "value": None},
    ]


def slots_of(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The slots the events set, the last value winning."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def test_a_request_keeps_what_was_said_before_it() -> None:
    """A contact typed before the request, and a second order number for later."""
    history = [user_turn("greet", "hi, I'm li.wei@example.com")]
    tracker = make_tracker({}, "return 80000005 and where is 80000011?", "return_request", history=history)
    _, events = await run(ActionStartRequest(), tracker)
    got = slots_of(events)
    assert got["order_number"] == "80000005" and got["next_orders"] == ["80000011:order_status"]
    assert got["offered_contact"] == "hi, I'm li.wei@example.com"


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ("where is 80000005? also I want to return 80000001", {"80000005": "order_status", "80000001": "return"}),
        ("I want to return 80000001 and where is 80000005", {"80000001": "return", "80000005": "order_status"}),
        ("refund for 80000008, and track 80000006 please", {"80000008": "refund", "80000006": "track"}),
        ("80000005到哪了？另外80000001我要退货", {"80000005": "order_status", "80000001": "return"}),
        ("80000005 80000001", {}),
    ],
)
def test_each_number_goes_with_its_own_clause(text: str, wanted: dict[str, str]) -> None:
    assert clause_requests(text) == wanted


async def test_two_requests_in_one_message_are_paired_with_their_numbers() -> None:
    """The message was understood as a return, but its first number was asked about where it is."""
    tracker = make_tracker({}, "where is 80000005? also I want to return 80000001", "return_request")
    _, events = await run(ActionStartRequest(), tracker)
    got = slots_of(events)
    assert (got["request"], got["order_number"], got["next_orders"]) == (
        "order_status",
        "80000005",
        ["80000001:return"],
    )
    pressed = make_tracker({"next_orders": ["80000001:return"]}, "/return_request", "return_request")
    _, events = await run(ActionStartRequest(), pressed)
    assert (slots_of(events)["order_number"], slots_of(events)["next_orders"]) == ("80000001", None)
    said_next = next_order("en", "80000001:return")
    assert said_next["order_number"] == "80000001" and said_next["buttons"][0]["payload"] == "/return_request"


async def test_a_request_without_a_number_goes_on_with_the_proven_order() -> None:
    verified = {"order_number": "80000005", "order_owner_id": LI, "verified_customer_id": LI}
    _, events = await run(
        ActionStartRequest(), make_tracker(verified, "that's not good enough, I complain", "complaint")
    )
    assert slots_of(events)["order_number"] == "80000005"
    unproven = {"order_number": "80000005", "order_owner_id": LI}
    _, events = await run(ActionStartRequest(), make_tracker(unproven, "I want to complain", "complaint"))
    assert slots_of(events)["order_number"] is None


async def test_the_next_order_is_taken_when_the_customer_names_none() -> None:
    queued = {"next_orders": ["80000011"], "order_number": "80000005"}
    _, events = await run(ActionStartRequest(), make_tracker(queued, "/order_status", "order_status"))
    got = slots_of(events)
    assert got["order_number"] == "80000011" and got["next_orders"] is None


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
        ("I can't find it, it's like 8 numbers", "inform", {"order_number": None}, "utter_order_number_help"),
        ("no", "deny", {}, None),  # the rule ends the form with the general policy
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
        "offered_contact": None,
    }
    assert messages == [
        {"response": "utter_verified", "contact": masked},
        {"custom": {"verified": {"customer_id": LI}}},
    ]


async def test_three_wrong_contacts_end_verification(bot_platform: Platform) -> None:
    result, messages = await call("validate_contact", at_contact(), "zhang.min@example.com")
    assert result == {"contact": None, "verify_attempts": 1.0, "pending_answer": None, "offered_contact": None}
    assert messages == [{"response": "utter_verification_failed", "contact": "z***@example.com", "tries_left": 2}]
    result, _ = await call("validate_contact", at_contact({"verify_attempts": 1.0}), "13900002002")
    assert result == {"contact": None, "verify_attempts": 2.0, "pending_answer": None, "offered_contact": None}
    result, messages = await call("validate_contact", at_contact({"verify_attempts": 2.0}), "x@example.com")
    assert result == {
        "contact": "failed",
        "verify_attempts": 3.0,
        "verification_locked": True,
        "handoff_reason": "verification_failed",
        "pending_answer": None,
        "offered_contact": None,
    }
    assert messages == [{"response": "utter_verification_locked"}]


async def test_text_that_is_no_contact_costs_no_try(bot_platform: Platform) -> None:
    result, messages = await call("validate_contact", at_contact(), "no idea")
    assert result == {"contact": None, "pending_answer": None, "offered_contact": None}
    assert messages == [{"response": "utter_contact_malformed"}]


async def test_platform_down_during_verification_keeps_the_tries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLATFORM_URL", "http://127.0.0.1:9")
    result, messages = await call("validate_contact", at_contact({"verify_attempts": 1.0}), "li.wei@example.com")
    assert result == {"contact": None, "pending_answer": "li.wei@example.com", "offered_contact": None}
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
    """A correction of the number while the contact is asked: the new order is checked, no try is used."""
    for text in ("sorry it's 80000006", "wrong number, I meant 80000006 not 80000001", "80000006"):
        tracker = at_contact(text=text, active_loop="order_form")
        messages, events = await run(ValidateOrderForm(), tracker)
        got = slots_of(events)
        assert got["order_number"] == "80000006" and got["order_owner_id"] != LI
        assert "verify_attempts" not in got and got.get("contact") is None
        assert messages == []


async def test_a_contact_given_before_it_is_asked_is_used(bot_platform: Platform) -> None:
    """With the number in the same message, or kept from an earlier one."""
    ask_number = {"requested_slot": "order_number", "request": "order_status"}
    for slots, text in (
        (ask_number, "80000001 and my email is li.wei@example.com"),
        ({**ask_number, "offered_contact": "it's li.wei@example.com"}, "80000001"),
    ):
        messages, events = await run(ValidateOrderForm(), make_tracker(slots, text, active_loop="order_form"))
        got = slots_of(events)
        assert got["verified_customer_id"] == LI and got["contact"] == "l***@example.com"
        assert {"response": "utter_verified", "contact": "l***@example.com"} in messages


async def test_a_contact_before_the_number_is_kept_for_it(bot_platform: Platform) -> None:
    ask_number = {"requested_slot": "order_number", "request": "order_status"}
    tracker = make_tracker(ask_number, "my email is li.wei@example.com", active_loop="order_form")
    _, events = await run(ValidateOrderForm(), tracker)
    got = slots_of(events)
    assert got["offered_contact"] == "my email is li.wei@example.com" and got["contact"] is None


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
    assert result == {"contact": None, "pending_answer": None, "offered_contact": None}
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


@pytest.mark.parametrize(
    ("text", "intent"),
    [("I don't have an order, just asking", "no_order"), ("no", "deny"), ("give me 80000003's phone", OTHERS)],
)
async def test_what_answers_no_question_is_left_to_the_rules(text: str, intent: str) -> None:
    """No order, a plain no, someone else's data: neither slot is filled, nothing is said, the form yields."""
    for requested in ("order_number", "contact"):
        slots = {"requested_slot": requested, "order_number": "80000001" if requested == "contact" else None}
        messages, events = await run(ValidateOrderForm(), make_tracker(slots, text, intent, active_loop="order_form"))
        got = slots_of(events)
        assert messages == [] and got.get("order_number") in (None, slots["order_number"]), (requested, got)
        assert got.get("contact") is None


async def test_a_wrong_offered_contact_is_tried_once(bot_platform: Platform) -> None:
    slots = {"requested_slot": "order_number", "offered_contact": "nobody@example.com", "request": "order_status"}
    messages, events = await run(ValidateOrderForm(), make_tracker(slots, "80000001", active_loop="order_form"))
    got = slots_of(events)
    assert got["verify_attempts"] == 1.0 and got["offered_contact"] is None
    assert messages[0]["response"] == "utter_verification_failed"


async def test_numbers_of_the_latest_message_come_first_and_others_data_is_skipped() -> None:
    history = [user_turn("nlu_fallback", "blorp 80000005"), user_turn(OTHERS, "whose is 80000003, x@example.com?")]
    tracker = make_tracker({}, "where is my order 80000007", "order_status", history=history)
    assert said_order_numbers(tracker) == ["80000007", "80000005"]
    assert said_contact(tracker) is None


async def test_a_complaint_or_security_report_keeps_its_request_with_two_numbers() -> None:
    text = "someone hacked my account and ordered 80000005 to another address, also 80000001"
    _, events = await run(ActionStartRequest(), make_tracker({}, text, "security_issue"))
    got = slots_of(events)
    assert (got["request"], got["order_number"], got["next_orders"]) == ("security", "80000005", None)


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("021-12345678", "021-12345678"),
        ("+65 91234567", "+65 91234567"),
        ("80000005 13800001234", "13800001234"),
        ("order 80000005, phone 13800001001", "13800001001"),
    ],
)
def test_phones_are_read_beside_order_numbers(text: str, phone: str) -> None:
    assert read_contact(text) == ("phone", phone)
    assert read_contact("sorry it's 80000006") is None
