"""Operations of the platform: lookups and the writes, each inside the caller's transaction."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.errors import string_problem
from bot.platform import policy
from bot.platform.i18n import Lang, Text
from bot.platform.models import (
    MAX_ID,
    AccountStatus,
    ComplaintTicket,
    Customer,
    IdempotencyRecord,
    Order,
    Refund,
    RefundEvent,
    RefundStage,
    ReturnItem,
    ReturnRequest,
    ReturnStatus,
    Shipment,
    VerificationFailure,
)
from bot.platform.refusals import bad_request, conflict, not_found, too_many_attempts
from bot.platform.schemas import ComplaintIn, ReturnIn

Render = Callable[[Lang], dict[str, Any]]  # an answer's body in the language asked for

ORDER_NUMBER = re.compile(r"[0-9]{8}")  # ASCII only: \d would take any script's digits
ID = re.compile(r"[0-9]+")
# Seeded returns and refunds use 50/51 and 60/61 million; new ones start above them.
NUMBER_BASES = {"R": 52_000_000, "F": 62_000_000, "C": 70_000_000}
THINGS = {
    "order": Text("order", "订单"),
    "customer": Text("customer", "客户"),
    "return": Text("return", "退货申请"),
    "refund": Text("refund", "退款"),
    "complaint": Text("complaint", "投诉工单"),
}
UNDER_REVIEW_NOTE = Text("Waiting for the after-sales review.", "等待售后审核。")

_ORDER_LOAD = (
    selectinload(Order.customer),
    selectinload(Order.items),
    selectinload(Order.shipments).selectinload(Shipment.events),
    selectinload(Order.returns).selectinload(ReturnRequest.items),
    selectinload(Order.refunds).selectinload(Refund.events),
)


def check_order_number(raw: str) -> str:
    if not ORDER_NUMBER.fullmatch(raw):
        raise bad_request(
            "number", Text("An order number is 8 digits, e.g. 80000001.", "订单号为8位数字，例如 80000001。")
        )
    return raw


def get_order(session: Session, raw_number: str) -> Order:
    """One order; its customer, items, shipments, returns and refunds load when first read.

    For one row that costs half of what the loader options of `customer_orders` cost (their cache keys
    are rebuilt per query), and a call that reads only the customer (verify) loads nothing else.
    """
    number = check_order_number(raw_number)
    order = session.scalars(select(Order).where(Order.number == number)).first()
    if order is None:
        raise not_found(THINGS["order"], number)
    return cast(Order, order)


def row_id(raw: str | int, field: str) -> int | None:
    """The id in a path or body, or None past MAX_ID (no row has it, and SQL would overflow); 400 unless digits."""
    if isinstance(raw, str):
        if not ID.fullmatch(raw):
            raise bad_request(
                field, Text(f"{field} is a whole number of digits, e.g. 42.", f"{field} 须为整数，例如 42。")
            )
        digits = raw.lstrip("0") or "0"
        if len(digits) > len(str(MAX_ID)):  # before int(): a huge string is slow or refused
            return None
        raw = int(digits)
    return raw if 0 <= raw <= MAX_ID else None


def get_customer(session: Session, raw_id: str | int) -> Customer:
    customer_id = row_id(raw_id, "customer_id")
    customer = None if customer_id is None else session.get(Customer, customer_id)
    if customer is None:
        raise not_found(THINGS["customer"], str(raw_id)[:32])
    return cast(Customer, customer)


def customer_orders(session: Session, customer: Customer) -> list[Order]:
    stmt = select(Order).where(Order.customer_id == customer.id).options(*_ORDER_LOAD).order_by(Order.placed_at.desc())
    return list(session.scalars(stmt))


def _digits(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    return digits[2:] if digits.startswith("00") else digits


def owns(customer: Customer, email: str | None, phone: str | None) -> bool:
    """Whether the given email or phone is the customer's; '+86' or '0086' may be left out."""
    if email is not None:
        return bool(email.strip().lower() == customer.email.lower())
    if phone is None:
        return False
    given, stored = _digits(phone), _digits(customer.phone)
    return len(given) >= 7 and (given == stored or "86" + given == stored)


def check_verify_limit(session: Session, order: Order, now: datetime) -> None:
    """A 429 with Retry-After while the order has had too many failed ownership checks (policy.verify_retry_after)."""
    since = now - policy.VERIFY_WINDOW
    stmt = select(VerificationFailure.at).where(
        VerificationFailure.order_id == order.id, VerificationFailure.at > since
    )
    retry_after = policy.verify_retry_after(session.scalars(stmt), now)
    if retry_after is not None:
        text = Text(
            f"Too many failed ownership checks of order {order.number}; try again in {retry_after} seconds.",
            f"订单 {order.number} 的身份验证失败次数过多，请在 {retry_after} 秒后再试。",
        )
        raise too_many_attempts(text, retry_after)


def verify_owner(session: Session, order: Order, email: str | None, phone: str | None, now: datetime) -> bool:
    """Checks ownership unless the order is locked; a failure is recorded in the caller's transaction."""
    check_verify_limit(session, order, now)
    ok = owns(order.customer, email, phone)
    if not ok:
        session.add(VerificationFailure(order_id=order.id, at=now))
    return ok


def item_in_open_return(order: Order) -> set[int]:
    """Items already claimed by a return that was not rejected."""
    return {ri.order_item_id for r in order.returns if r.status != ReturnStatus.REJECTED for ri in r.items}


def eligibility(order: Order, now: datetime) -> list[policy.ItemEligibility]:
    taken = item_in_open_return(order)
    return [policy.item_eligibility(order, item, now, item.id in taken) for item in order.items]


def _next_number(session: Session, obj: Any, prefix: str) -> None:
    """Gives a freshly added row its public number, derived from its id once flushed."""
    obj.number = uuid.uuid4().hex[:10]
    session.add(obj)
    session.flush()
    obj.number = f"{prefix}{NUMBER_BASES[prefix] + obj.id}"


def create_return(session: Session, order: Order, req: ReturnIn, now: datetime) -> ReturnRequest:
    """Files a return and its refund, after checking every item against the policy."""
    if order.customer.account_status == AccountStatus.FROZEN:
        raise conflict(
            "account_frozen",
            Text("The account is frozen; a human agent must handle returns.", "账户已冻结，退货需由人工客服处理。"),
        )
    by_id = {item.id: item for item in order.items}
    wanted = req.item_ids if req.item_ids is not None else list(by_id)
    if len(set(wanted)) != len(wanted):
        raise bad_request("item_ids", Text("An item is listed twice.", "同一件商品重复列出。"))
    unknown = [i for i in wanted if i not in by_id]
    if unknown:
        raise bad_request(
            "item_ids",
            Text(f"Items {unknown} are not in order {order.number}.", f"商品 {unknown} 不在订单 {order.number} 中。"),
        )
    items = [by_id[i] for i in wanted]
    verdicts = {e.item_id: e for e in eligibility(order, now)}
    refused = {
        item.id: decision
        for item in items
        if not (decision := policy.return_decision(verdicts[item.id], req.reason, req.quality_issue, item)).allowed
    }
    if refused:
        code = "already_returned" if any(d.code == "already_returned" for d in refused.values()) else "not_eligible"
        raise conflict(code, refusal_text(refused))
    amount = sum(i.unit_price_cents * i.quantity for i in items)
    ret = ReturnRequest(
        order=order,
        reason=req.reason,
        quality_issue=req.quality_issue,
        description=req.description,
        status=ReturnStatus.REQUESTED,
        refund_cents=amount,
        ship_back_by=policy.ship_back_deadline(now, items),
        created_at=now,
        items=[ReturnItem(order_item_id=i.id) for i in items],
    )
    _next_number(session, ret, "R")
    refund = Refund(
        order=order, return_request=ret, amount_cents=amount, cause="return", stage=RefundStage.UNDER_REVIEW
    )
    requested = Text(f"Requested with return {ret.number}.", f"随退货申请 {ret.number} 提交。")
    refund.events = [
        RefundEvent(stage=RefundStage.REQUESTED, at=now, note=requested.en, note_zh=requested.zh),
        RefundEvent(stage=RefundStage.UNDER_REVIEW, at=now, note=UNDER_REVIEW_NOTE.en, note_zh=UNDER_REVIEW_NOTE.zh),
    ]
    _next_number(session, refund, "F")
    return ret


def refusal_text(refused: dict[int, policy.Decision]) -> Text:
    """Why a return cannot be filed, item by item, in both languages."""
    return Text(
        "Return not possible. " + "; ".join(f"item {i}: {d.why.en}" for i, d in refused.items()),
        "无法退货。" + "；".join(f"商品 {i}：{d.why.zh}" for i, d in refused.items()),
    )


def create_complaint(session: Session, req: ComplaintIn, now: datetime) -> ComplaintTicket:
    customer = get_customer(session, req.customer_id)
    order: Order | None = None
    if req.order_number is not None:
        order = get_order(session, req.order_number)
        if order.customer_id != customer.id:
            raise bad_request(
                "order_number", Text("The order does not belong to this customer.", "该订单不属于此客户。")
            )
    severity = policy.complaint_severity(req.category, req.severity)
    ticket = ComplaintTicket(
        customer=customer,
        order=order,
        category=req.category,
        severity=severity,
        description=req.description,
        created_at=now,
        due_at=policy.complaint_due(now, severity),
    )
    _next_number(session, ticket, "C")
    return ticket


def get_by_number(session: Session, model: Any, number: str, what: str) -> Any:
    found = session.scalars(select(model).where(model.number == number)).first()
    if found is None:
        raise not_found(THINGS[what], number)
    return found


def freeze(customer: Customer, reason: str, now: datetime) -> bool:
    """Freezes the account; freezing a frozen account changes nothing and says so."""
    if customer.account_status == AccountStatus.FROZEN:
        return False
    customer.account_status = AccountStatus.FROZEN
    customer.frozen_at = now
    customer.freeze_reason = reason
    return True


def idempotent(
    session: Session,
    scope: str,
    key: str | None,
    payload: dict[str, Any],
    produce: Callable[[], tuple[int, Render]],
    now: datetime,
    lang: Lang,
) -> tuple[int, dict[str, Any]]:
    """Runs `produce` once per (scope, key); a repeat replays the answer, a changed body is a 409.

    The answer is stored in both languages, so a repeat asked in the other language gets its own.
    """
    if key is None:
        status, render = produce()
        return status, render(lang)
    if not 1 <= len(key) <= 128:
        raise bad_request(
            "Idempotency-Key",
            Text(
                "The Idempotency-Key header must be 1 to 128 characters.",
                "Idempotency-Key 请求头须为 1 到 128 个字符。",
            ),
        )
    if (problem := string_problem(key)) is not None:
        text = Text(f"The Idempotency-Key header {problem}.", "Idempotency-Key 请求头含有无法存储的字符。")
        raise bad_request("Idempotency-Key", text)
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    stmt = select(IdempotencyRecord).where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
    record = session.scalars(stmt).first()
    if record is not None:
        if record.request_hash != digest:
            raise conflict(
                "idempotency_key_reused",
                Text("This Idempotency-Key was used for a different request.", "该 Idempotency-Key 已用于另一个请求。"),
            )
        return record.status_code, json.loads(record.response_json_zh if lang == "zh" else record.response_json)
    status, render = produce()
    session.add(
        IdempotencyRecord(
            scope=scope,
            key=key,
            request_hash=digest,
            status_code=status,
            response_json=json.dumps(render("en")),
            response_json_zh=json.dumps(render("zh")),
            created_at=now,
        )
    )
    return status, render(lang)


def require_key(key: str | None) -> str:
    if key is None or not key.strip():
        raise bad_request(
            "Idempotency-Key", Text("The Idempotency-Key header is required.", "缺少 Idempotency-Key 请求头。")
        )
    return key.strip()
