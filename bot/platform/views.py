"""JSON shapes of the platform API, built from the models and the policy's decisions.

Each takes the language to write texts in; the shape, codes, numbers and dates do not depend on it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from bot.platform import policy
from bot.platform.i18n import Lang, choose
from bot.platform.models import (
    ComplaintTicket,
    Customer,
    Order,
    OrderItem,
    Refund,
    RefundStage,
    ReturnRequest,
    Shipment,
    TrackingEvent,
)


def ts(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, or None."""
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def customer(c: Customer, lang: Lang) -> dict[str, Any]:
    """The account; the name is the customer's own, written one way."""
    return {
        "id": c.id,
        "name": c.name,
        "email": c.email,
        "phone": c.phone,
        "city": choose(lang, c.city, c.city_zh),
        "account_status": c.account_status.value,
        "frozen_at": ts(c.frozen_at),
    }


def item(i: OrderItem, lang: Lang) -> dict[str, Any]:
    return {
        "id": i.id,
        "sku": i.sku,
        "name": choose(lang, i.name, i.name_zh),
        "category": i.category,
        "unit_price": money(i.unit_price_cents),
        "quantity": i.quantity,
        "flags": {
            "virtual": i.is_virtual,
            "perishable": i.is_perishable,
            "custom_made": i.is_custom_made,
            "hygiene": i.is_hygiene,
        },
        "code_delivered_at": ts(i.code_delivered_at),
    }


def exception(s: Shipment, now: datetime, lang: Lang) -> dict[str, Any] | None:
    found = policy.detect_exception(s, now)
    if found is None:
        return None
    return {
        "kind": found.kind,
        "detail": found.detail.pick(lang),
        "remedies": found.remedies,
        "new_estimate": day(found.new_estimate),
    }


def event(e: TrackingEvent, lang: Lang) -> dict[str, Any]:
    return {
        "at": ts(e.at),
        "code": e.code,
        "location": choose(lang, e.location, e.location_zh),
        "description": choose(lang, e.description, e.description_zh),
    }


def shipment_summary(s: Shipment, now: datetime, lang: Lang) -> dict[str, Any]:
    last = s.events[-1] if s.events else None
    return {
        "carrier": choose(lang, s.carrier, s.carrier_zh),
        "tracking_number": s.tracking_number,
        "status": s.status.value,
        "estimated_delivery": day(s.estimated_delivery.date() if s.estimated_delivery else None),
        "last_event": event(last, lang) if last else None,
        "exception": exception(s, now, lang),
    }


def tracking(s: Shipment, now: datetime, lang: Lang) -> dict[str, Any]:
    return {
        **shipment_summary(s, now, lang),
        "events": [event(e, lang) for e in s.events],
        "delivery_change_allowed": policy.delivery_change_allowed(s),
    }


def _stage_at(r: Refund, stage: RefundStage) -> datetime | None:
    return next((e.at for e in r.events if e.stage == stage), None)


def refund(r: Refund, lang: Lang) -> dict[str, Any]:
    requested = _stage_at(r, RefundStage.REQUESTED) or r.events[0].at
    expected = policy.expected_refund_completion(
        r.stage, requested, _stage_at(r, RefundStage.APPROVED), _stage_at(r, RefundStage.COMPLETED)
    )
    return {
        "number": r.number,
        "order_number": r.order.number,
        "return_number": r.return_request.number if r.return_request else None,
        "amount": money(r.amount_cents),
        "currency": r.order.currency,
        "cause": r.cause,
        "stage": r.stage.value,
        "stages": [{"stage": e.stage.value, "at": ts(e.at), "note": choose(lang, e.note, e.note_zh)} for e in r.events],
        "review_due": ts(policy.review_due(requested)),
        "expected_completion": day(expected),
        "rejection_reason": r.rejection_reason and choose(lang, r.rejection_reason, r.rejection_reason_zh),
        "payment_method": r.order.payment_method,
    }


def return_request(r: ReturnRequest, lang: Lang) -> dict[str, Any]:
    """A return; its description is the customer's words, as written."""
    return {
        "number": r.number,
        "order_number": r.order.number,
        "status": r.status.value,
        "reason": r.reason.value,
        "quality_issue": r.quality_issue.value if r.quality_issue else None,
        "description": r.description,
        "item_ids": sorted(i.order_item_id for i in r.items),
        "refund_amount": money(r.refund_cents),
        "ship_back_by": ts(r.ship_back_by),
        "created_at": ts(r.created_at),
        "refund": refund(r.refund, lang) if r.refund else None,
    }


def return_preview(r: ReturnRequest, lang: Lang) -> dict[str, Any]:
    """A return not filed yet: what would go back, for how much, and the deadlines."""
    assert r.refund is not None
    planned = refund(r.refund, lang)
    returned = {ri.order_item_id for ri in r.items}
    return {
        "dry_run": True,
        "order_number": r.order.number,
        "reason": r.reason.value,
        "quality_issue": r.quality_issue.value if r.quality_issue else None,
        "items": [{"id": i.id, "name": choose(lang, i.name, i.name_zh)} for i in r.order.items if i.id in returned],
        "refund_amount": money(r.refund_cents),
        "currency": r.order.currency,
        "ship_back_by": ts(r.ship_back_by),
        "review_due": planned["review_due"],
        "expected_completion": planned["expected_completion"],
        "payment_method": planned["payment_method"],
    }


def order(o: Order, now: datetime, lang: Lang) -> dict[str, Any]:
    return {
        "number": o.number,
        "status": o.status.value,
        "placed_at": ts(o.placed_at),
        "paid_at": ts(o.paid_at),
        "shipped_at": ts(o.shipped_at),
        "delivered_at": ts(o.delivered_at),
        "cancelled_at": ts(o.cancelled_at),
        "cancel_reason": o.cancel_reason and choose(lang, o.cancel_reason, o.cancel_reason_zh),
        "payment_method": o.payment_method,
        "currency": o.currency,
        "shipping_fee": money(o.shipping_fee_cents),
        "total": money(o.total_cents),
        "customer": customer(o.customer, lang),
        "shipping_address": {
            "city": choose(lang, o.address_city, o.address_city_zh),
            "line": choose(lang, o.address_line, o.address_line_zh),
        },
        "items": [item(i, lang) for i in o.items],
        "shipments": [shipment_summary(s, now, lang) for s in o.shipments],
        "returns": [{"number": r.number, "status": r.status.value} for r in o.returns],
        "refunds": [{"number": r.number, "stage": r.stage.value, "amount": money(r.amount_cents)} for r in o.refunds],
    }


def decision(d: policy.Decision, lang: Lang) -> dict[str, Any]:
    return {
        "allowed": d.allowed,
        "code": d.code,
        "reason": d.why.pick(lang),
        "deadline": ts(d.deadline),
        "conditions": [t.pick(lang) for t in d.terms],
    }


def eligibility(o: Order, verdicts: list[policy.ItemEligibility], lang: Lang) -> dict[str, Any]:
    names = {i.id: i for i in o.items}
    return {
        "order_number": o.number,
        "items": [
            {
                "item_id": v.item_id,
                "name": choose(lang, names[v.item_id].name, names[v.item_id].name_zh),
                "category": names[v.item_id].category,
                "no_reason": decision(v.no_reason, lang),
                "quality": decision(v.quality, lang),
            }
            for v in verdicts
        ],
    }


def complaint(t: ComplaintTicket) -> dict[str, Any]:
    """A ticket: codes, dates and the customer's words, the same in both languages."""
    return {
        "number": t.number,
        "customer_id": t.customer_id,
        "order_number": t.order.number if t.order else None,
        "category": t.category.value,
        "severity": t.severity.value,
        "description": t.description,
        "status": t.status,
        "created_at": ts(t.created_at),
        "due_at": ts(t.due_at),
    }
