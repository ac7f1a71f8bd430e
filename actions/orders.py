"""Order lookup: what the customer sees about one of their orders, in their language."""

from __future__ import annotations

from typing import Any

from rasa_sdk.events import EventType

from actions.logistics import problem_notice
from actions.phrases import Lang, say, word
from actions.text import bullet_list, day, moment, money, payment_name


def shipment_line(lang: Lang, s: dict[str, Any]) -> str:
    """One shipment in a sentence: carrier, tracking number, state, ETA, latest scan (a problem is told apart)."""
    status = word(lang, "shipment_status", s["status"])
    line = say(lang, "shipment.head", carrier=s["carrier"], tracking=s["tracking_number"], status=status)
    if s["status"] not in ("delivered",) and s.get("estimated_delivery") and not s.get("exception"):
        line += say(lang, "shipment.expected", date=day(lang, s["estimated_delivery"]))
    last = s.get("last_event")
    if last:
        at = moment(lang, last["at"])
        line += say(lang, "shipment.last_scan", description=last["description"], location=last["location"], at=at)
    return line + say(lang, "stop")


def _total(lang: Lang, order: dict[str, Any]) -> str:
    """Amount, payment and destination in one sentence."""
    total = say(lang, "order.total", total=money(lang, order["total"], order["currency"]))
    if order.get("paid_at"):
        method = payment_name(lang, order["payment_method"])
        total += say(lang, "order.paid", method=method, date=day(lang, order["paid_at"]))
    if order["status"] != "cancelled":
        total += say(lang, "order.ships_to", city=order["shipping_address"]["city"])
    return total + say(lang, "stop")


def describe_order(lang: Lang, order: dict[str, Any]) -> str:
    """Status, items, dates, amount and a shipment summary; the address is shown as a city only."""
    currency = order["currency"]
    status = word(lang, "order_status", order["status"])
    lines = [say(lang, "order.head", number=order["number"], placed=day(lang, order["placed_at"]), status=status)]
    items = [
        say(lang, "order.item", name=i["name"], quantity=i["quantity"], price=money(lang, i["unit_price"], currency))
        for i in order["items"]
    ]
    lines += [bullet_list(items), _total(lang, order)]
    if order["status"] == "cancelled":
        reason = order.get("cancel_reason") or say(lang, "order.no_reason")
        lines.append(say(lang, "order.cancelled", date=day(lang, order["cancelled_at"]), reason=reason))
    if order["status"] == "delivered" and order.get("delivered_at"):
        lines.append(say(lang, "order.delivered", date=day(lang, order["delivered_at"])))
    lines += [say(lang, "order.shipment", line=shipment_line(lang, s)) for s in order["shipments"]]
    for r in order["returns"]:
        lines.append(say(lang, "order.return", number=r["number"], status=word(lang, "return_status", r["status"])))
    for r in order["refunds"]:
        amount, stage = money(lang, r["amount"], currency), word(lang, "refund_step", r["stage"])
        lines.append(say(lang, "order.refund", number=r["number"], amount=amount, stage=stage))
    return "\n".join(lines)


def order_answer(lang: Lang, order: dict[str, Any]) -> tuple[str, list[dict[str, str]], list[EventType]]:
    """The lookup's answer; a shipment with a problem adds the same notice and remedies as tracking does."""
    text = describe_order(lang, order)
    problem = next((s["exception"] for s in order["shipments"] if s.get("exception")), None)
    if problem is None:
        return text, [], []
    lines, buttons, events = problem_notice(lang, problem)
    return "\n".join([text, *lines, say(lang, "tracking.remedies")]), buttons, events
