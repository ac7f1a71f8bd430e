"""The bot↔gateway contract: what the actions write is what the gateway reads, and junk reads as defaults."""

from __future__ import annotations

from bot.contract import Fallback, Handoff, Priority, Signals, Skill, Understood, Verified


def test_a_handoff_reads_back_as_written() -> None:
    sent = Handoff.for_reason("parcel_lost", "track", "Intents: track_shipment.", "80000007")
    assert (sent.priority, sent.skill) == (Priority.HIGH, Skill.LOGISTICS)
    got = Signals()
    got.read(sent.message())
    assert got.handoff == sent


def test_escalation_rules_fix_priority_and_skill_where_the_reason_says() -> None:
    assert Handoff.for_reason("security", "order_status").skill is Skill.SECURITY
    assert Handoff.for_reason("security").priority is Priority.URGENT
    assert Handoff.for_reason("angry_customer", "track").skill is Skill.COMPLAINTS
    assert Handoff.for_reason("customer_request", "refund").skill is Skill.REFUNDS
    assert Handoff.for_reason("customer_request", "order_status").skill is Skill.GENERAL  # an agent has it
    assert Handoff.for_reason("something new").priority is Priority.NORMAL


def test_the_queue_orders_urgent_first() -> None:
    assert sorted(Priority, key=lambda p: p.rank) == [Priority.URGENT, Priority.HIGH, Priority.NORMAL, Priority.LOW]


def test_unknown_or_malformed_signals_fall_back_to_defaults() -> None:
    got = Signals()
    got.read({"handoff": {"priority": "asap", "skill": "orders", "order_number": 5}, "fallback": {"misses": "2"}})
    assert got.handoff == Handoff("customer_request", Priority.NORMAL, Skill.GENERAL, "", "5")
    assert got.misses == 0  # not a number: no fallback signal
    got.read(Fallback(2).message())
    got.read(Verified("1").message())
    assert (got.misses, got.verified_customer_id) == (2, "1")


def test_what_the_bot_understood_reads_back_and_junk_is_ignored() -> None:
    signals = Signals()
    signals.read(Understood("order_status", 0.97).message())
    assert signals.understood == Understood("order_status", 0.97)
    for junk in (
        {"intent": "", "confidence": 1},
        {"intent": "x" * 65, "confidence": 1},
        {"intent": "a"},
        "greet",
        None,
    ):
        assert Understood.read(junk) is None
    assert Understood.read({"intent": "greet", "confidence": 7}) == Understood("greet", 1.0)
