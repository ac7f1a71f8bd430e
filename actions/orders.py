"""Order lookup: what the customer sees about one of their orders."""

from __future__ import annotations

from typing import Any

from actions.text import bullet_list, day, moment, money, payment_name

STATUS_WORDS = {
    "pending_payment": "waiting for payment",
    "paid": "paid and being prepared; it has not shipped yet",
    "shipped": "on its way",
    "delivered": "delivered",
    "cancelled": "cancelled",
}


def shipment_line(s: dict[str, Any]) -> str:
    """One shipment in a sentence: carrier, tracking number, state, ETA, latest scan."""
    line = f"{s['carrier']}, tracking number {s['tracking_number']}: {s['status'].replace('_', ' ')}"
    if s["status"] not in ("delivered",) and s.get("estimated_delivery"):
        line += f", expected {day(s['estimated_delivery'])}"
    last = s.get("last_event")
    if last:
        line += f". Latest scan: {last['description']}, {last['location']}, {moment(last['at'])}"
    if s.get("exception"):
        line += f". Problem: {s['exception']['detail'].rstrip('.')}"
    return line + "."


def describe_order(order: dict[str, Any]) -> str:
    """Status, items, dates, amount and a shipment summary; the address is shown as a city only."""
    currency = order["currency"]
    lines = [f"Order {order['number']}, placed {day(order['placed_at'])}, is {STATUS_WORDS[order['status']]}."]
    lines.append(
        bullet_list([f"{i['name']} × {i['quantity']}: {money(i['unit_price'], currency)}" for i in order["items"]])
    )
    total = f"Total {money(order['total'], currency)}"
    if order.get("paid_at"):
        total += f", paid by {payment_name(order['payment_method'])} on {day(order['paid_at'])}"
    if order["status"] != "cancelled":
        total += f". Ships to {order['shipping_address']['city']}"
    lines.append(total + ".")
    if order["status"] == "cancelled":
        lines.append(f"Cancelled on {day(order['cancelled_at'])}: {order.get('cancel_reason') or 'no reason given'}")
    if order["status"] == "delivered" and order.get("delivered_at"):
        lines.append(f"Delivered on {day(order['delivered_at'])}.")
    lines += [f"Shipment: {shipment_line(s)}" for s in order["shipments"]]
    for r in order["returns"]:
        lines.append(f"Return {r['number']}: {r['status'].replace('_', ' ')}.")
    for r in order["refunds"]:
        lines.append(f"Refund {r['number']} of {money(r['amount'], currency)}: {r['stage'].replace('_', ' ')}.")
    return "\n".join(lines)
