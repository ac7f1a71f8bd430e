"""The after-sales rules (README "The after-sales rules"), and the only place they live.

Every function is pure: it takes the facts and the current time and returns a
decision with a machine-readable code and a plain-words reason, in English and in
Chinese (the terms of Chinese e-commerce: 七天无理由退货, 质量问题, 签收), so the API
and the bot can both say *why*.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import cast

from bot.platform.i18n import Text, chinese_number, shown
from bot.platform.models import (
    ComplaintCategory,
    Order,
    OrderItem,
    OrderStatus,
    QualityIssue,
    RefundStage,
    ReturnReason,
    Severity,
    Shipment,
    ShipmentStatus,
)

NO_REASON_DAYS = 7
QUALITY_DAYS = 15
REVIEW_HOURS = 48
REFUND_WORKING_DAYS = 7
DELAY_NO_SCAN_DAYS = 3
DELAY_NEW_ESTIMATE_DAYS = 3
SHIP_BACK_DAYS = 7
COMPLAINT_RESPONSE_HOURS = {
    Severity.URGENT: 4,
    Severity.HIGH: 24,
    Severity.NORMAL: 48,
    Severity.LOW: 48,
}
NO_REASON_CONDITIONS = [
    Text("unused", "商品未使用"),
    Text("in its original packaging", "包装完好"),
    Text("resellable", "不影响二次销售"),
]
HYGIENE_CONDITION = Text(
    "still sealed (intimate and hygiene goods cannot go back once unsealed)",
    "未拆封（贴身衣物、个人护理用品拆封后不支持退货）",
)
INVALID_CODE_CONDITION = Text("the code is invalid or was already used when delivered", "卡密发放时已失效或已被使用")
NO_REASON_ZH = f"{chinese_number(NO_REASON_DAYS)}天无理由退货"  # 七天无理由退货
MAX_FAILED_VERIFICATIONS = 5
VERIFY_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class Decision:
    """One yes/no answer with its reason (`why`, in both languages) and, where there is one, its deadline."""

    allowed: bool
    code: str
    why: Text
    deadline: datetime | None = None
    terms: list[Text] = field(default_factory=list)

    @property
    def reason(self) -> str:
        """The reason in English."""
        return self.why.en

    @property
    def conditions(self) -> list[str]:
        """The conditions in English."""
        return [t.en for t in self.terms]


@dataclass(frozen=True)
class ItemEligibility:
    item_id: int
    no_reason: Decision
    quality: Decision


def received_at(order: Order, item: OrderItem) -> datetime | None:
    """When the customer got the item: the code's delivery for virtual goods, else the carrier's."""
    if item.is_virtual:
        return cast("datetime | None", item.code_delivered_at)
    return order.delivered_at if order.status == OrderStatus.DELIVERED else None


def within_days(start: datetime, days: int, now: datetime) -> bool:
    """Day `days` after `start` still counts, the next one does not (start + days, inclusive)."""
    return now <= start + timedelta(days=days)


def item_eligibility(order: Order, item: OrderItem, now: datetime, already_returned: bool) -> ItemEligibility:
    """Whether one item can go back without reason and for a quality problem, and until when."""
    blocked = _blocked(order, item, already_returned)
    if blocked is not None:
        return ItemEligibility(item.id, blocked, blocked)
    got = received_at(order, item)
    assert got is not None  # _blocked rules out undelivered items
    return ItemEligibility(item.id, _no_reason(item, got, now), _quality(item, got, now))


def _blocked(order: Order, item: OrderItem, already_returned: bool) -> Decision | None:
    """Reasons that rule out any return of the item, whatever the reason given."""
    if order.status == OrderStatus.CANCELLED:
        why = Text("The order was cancelled; there is nothing to return.", "订单已取消，无需退货。")
        return Decision(False, "order_cancelled", why)
    if already_returned:
        why = Text("This item is already part of a return request.", "该商品已在售后申请中，无需重复提交。")
        return Decision(False, "already_returned", why)
    if received_at(order, item) is None:
        why = Text(
            "The item has not been delivered yet, so no return is needed: the order can be "
            "cancelled before shipment, or the parcel refused or intercepted.",
            "商品尚未签收，无需退货：发货前可以取消订单，已发货的可以拒收或拦截包裹。",
        )
        return Decision(False, "not_delivered", why)
    return None


def _no_reason(item: OrderItem, got: datetime, now: datetime) -> Decision:
    deadline = got + timedelta(days=NO_REASON_DAYS)
    end = shown(deadline)
    if item.is_perishable:
        why = Text("Perishable food cannot be returned without a reason.", f"生鲜食品不支持{NO_REASON_ZH}。")
        return Decision(False, "excluded_perishable", why)
    if item.is_custom_made:
        why = Text(
            "Custom-made or personalised goods cannot be returned without a reason.",
            f"定制或个性化商品不支持{NO_REASON_ZH}。",
        )
        return Decision(False, "excluded_custom_made", why)
    if item.is_virtual:
        why = Text(
            "Virtual goods (game cards, top-up codes, memberships, licence keys) cannot be "
            "returned once the code has been delivered.",
            f"虚拟商品（游戏点卡、充值码、会员、软件激活码）卡密一经发放，不支持{NO_REASON_ZH}。",
        )
        return Decision(False, "excluded_virtual_delivered", why)
    if not within_days(got, NO_REASON_DAYS, now):
        why = Text(
            f"The {NO_REASON_DAYS}-day no-reason return window ended on {end.en}.",
            f"{NO_REASON_ZH}期限（签收后{chinese_number(NO_REASON_DAYS)}天）已于{end.zh}结束。",
        )
        return Decision(False, "window_passed", why, deadline)
    terms = list(NO_REASON_CONDITIONS)
    if item.is_hygiene:
        terms.append(HYGIENE_CONDITION)
    why = Text(
        f"Within the {NO_REASON_DAYS}-day no-reason return window, which ends on {end.en}.",
        f"在{NO_REASON_ZH}期限内，截止日期为{end.zh}。",
    )
    return Decision(True, "within_window", why, deadline, terms)


def _quality(item: OrderItem, got: datetime, now: datetime) -> Decision:
    deadline = got + timedelta(days=QUALITY_DAYS)
    end = shown(deadline)
    days_zh = chinese_number(QUALITY_DAYS)
    if not within_days(got, QUALITY_DAYS, now):
        why = Text(
            f"The {QUALITY_DAYS}-day window for quality returns ended on {end.en}; "
            "repair under warranty or a human agent can still help.",
            f"质量问题退换货期限（签收后{days_zh}天）已于{end.zh}结束；仍可在保修期内维修，或由人工客服协助处理。",
        )
        return Decision(False, "quality_window_passed", why, deadline)
    if item.is_virtual:
        why = Text(
            f"A virtual item can be returned only if its code is invalid, until {end.en}.",
            f"虚拟商品仅在卡密无效时可以退货，截止日期为{end.zh}。",
        )
        return Decision(True, "invalid_code_only", why, deadline, [INVALID_CODE_CONDITION])
    why = Text(
        f"A defective, damaged or not-as-described item can be returned or exchanged until {end.en}.",
        f"商品有质量问题（存在缺陷、运输途中损坏或与描述不符）时，可在{end.zh}前申请退换货。",
    )
    return Decision(True, "within_quality_window", why, deadline)


def return_decision(
    eligibility: ItemEligibility, reason: ReturnReason, issue: QualityIssue | None, item: OrderItem
) -> Decision:
    """The decision that applies to a return filed for `reason` (and quality `issue`)."""
    if reason == ReturnReason.NO_REASON:
        return eligibility.no_reason
    if item.is_virtual and eligibility.quality.allowed and issue != QualityIssue.INVALID_CODE:
        why = Text("Virtual goods go back only when the code is invalid.", "虚拟商品仅在卡密无效时才能退货。")
        return Decision(False, "invalid_code_only", why)
    return eligibility.quality


def ship_back_deadline(created_at: datetime, items: list[OrderItem]) -> datetime | None:
    """Physical items must be sent back within SHIP_BACK_DAYS; codes need no parcel."""
    if all(i.is_virtual for i in items):
        return None
    return created_at + timedelta(days=SHIP_BACK_DAYS)


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start`; Saturdays and Sundays do not count."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def review_due(requested_at: datetime) -> datetime:
    """The first response to an after-sales request is due within REVIEW_HOURS."""
    return requested_at + timedelta(hours=REVIEW_HOURS)


def expected_refund_completion(
    stage: RefundStage, requested_at: datetime, approved_at: datetime | None, completed_at: datetime | None
) -> date | None:
    """When the money should be back: 7 working days after approval (or after the review deadline)."""
    if stage == RefundStage.REJECTED:
        return None
    if stage == RefundStage.COMPLETED:
        return completed_at.date() if completed_at else None
    if approved_at is not None:
        return add_working_days(approved_at.date(), REFUND_WORKING_DAYS)
    return add_working_days(review_due(requested_at).date(), REFUND_WORKING_DAYS)


@dataclass(frozen=True)
class ShipmentException:
    kind: str
    detail: Text
    remedies: list[str]
    new_estimate: date | None = None


REMEDIES = {
    "delayed": ["wait", "human"],
    "lost": ["reship", "refund", "human"],
    "damaged": ["reship", "refund", "human"],
    "returned_to_sender": ["reship", "refund", "human"],
}


def detect_exception(shipment: Shipment, now: datetime) -> ShipmentException | None:
    """Delayed (past the estimate, or no scan for 3+ days), lost, damaged or returned to sender."""
    status = shipment.status
    if status == ShipmentStatus.LOST:
        detail = Text("The carrier has declared the parcel lost.", "快递公司已确认包裹丢失。")
        return ShipmentException("lost", detail, REMEDIES["lost"])
    if status == ShipmentStatus.DAMAGED:
        detail = Text("The carrier reported the parcel damaged.", "快递公司报告包裹破损。")
        return ShipmentException("damaged", detail, REMEDIES["damaged"])
    if status == ShipmentStatus.RETURNED_TO_SENDER:
        detail = Text("The parcel is on its way back to the sender.", "包裹正在退回寄件方。")
        return ShipmentException("returned_to_sender", detail, REMEDIES["returned_to_sender"])
    if status not in (ShipmentStatus.IN_TRANSIT, ShipmentStatus.OUT_FOR_DELIVERY):
        return None
    new_estimate = (now + timedelta(days=DELAY_NEW_ESTIMATE_DAYS)).date()
    last_scan = max((e.at for e in shipment.events), default=None)
    if last_scan is not None and now - last_scan >= timedelta(days=DELAY_NO_SCAN_DAYS):
        days, since = (now - last_scan).days, shown(last_scan)
        detail = Text(f"No scan for {days} days since {since.en}.", f"自{since.zh}起已{days}天没有物流更新。")
        return ShipmentException("delayed", detail, REMEDIES["delayed"], new_estimate)
    if shipment.estimated_delivery is not None and now > shipment.estimated_delivery:
        eta = shown(shipment.estimated_delivery)
        detail = Text(f"Past the estimated delivery of {eta.en}.", f"已超过预计送达日期{eta.zh}。")
        return ShipmentException("delayed", detail, REMEDIES["delayed"], new_estimate)
    return None


def delivery_change_allowed(shipment: Shipment) -> bool:
    """Time or address may change only while the parcel is not with the last-mile courier."""
    return shipment.status in (ShipmentStatus.LABEL_CREATED, ShipmentStatus.IN_TRANSIT) and not (
        shipment.handed_to_last_mile
    )


def complaint_severity(category: ComplaintCategory, requested: Severity | None) -> Severity:
    """Security complaints are always urgent; otherwise the asked severity, normal by default."""
    if category == ComplaintCategory.FRAUD_SECURITY:
        return Severity.URGENT
    return requested or Severity.NORMAL


def complaint_due(created_at: datetime, severity: Severity) -> datetime:
    """First response due time: never later than the 48-hour promise, sooner when more severe."""
    return created_at + timedelta(hours=COMPLAINT_RESPONSE_HOURS[severity])


def verify_retry_after(failures: Iterable[datetime], now: datetime) -> int | None:
    """Whole seconds until an order's ownership may be checked again, or None when it may be now.

    MAX_FAILED_VERIFICATIONS failures within VERIFY_WINDOW stop the checks, whoever asks, so
    guessing the contact over many conversations stays slow; they resume once enough of those
    failures have left the window. A failure counts from its time until VERIFY_WINDOW later.
    """
    recent = sorted(at for at in failures if at > now - VERIFY_WINDOW)
    if len(recent) < MAX_FAILED_VERIFICATIONS:
        return None
    frees_at = recent[len(recent) - MAX_FAILED_VERIFICATIONS] + VERIFY_WINDOW
    return max(1, math.ceil((frees_at - now).total_seconds()))
