"""The policy module at its boundaries: return windows, exclusions, refund dates, exceptions."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from bot.platform import policy
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
    TrackingEvent,
)

DELIVERED = datetime(2026, 11, 2, 15, 30, tzinfo=timezone.utc)
ORDERED = DELIVERED - timedelta(days=5)


def delivered_order(**flags: bool) -> tuple[Order, OrderItem]:
    item = OrderItem(id=1, name="Thing", category="apparel", unit_price_cents=1000, quantity=1, **flags)
    order = Order(status=OrderStatus.DELIVERED, placed_at=ORDERED, delivered_at=DELIVERED, items=[item])
    if flags.get("is_virtual"):
        item.code_delivered_at = DELIVERED
    return order, item


def verdict(at: datetime, already_returned: bool = False, **flags: bool) -> policy.ItemEligibility:
    order, item = delivered_order(**flags)
    return policy.item_eligibility(order, item, at, already_returned)


@pytest.mark.parametrize(
    ("elapsed", "allowed"),
    [
        (timedelta(days=6, hours=12), True),  # day 7
        (timedelta(days=7), True),  # the last instant of day 7
        (timedelta(days=7, seconds=1), False),  # day 8 has begun
        (timedelta(days=7, hours=12), False),  # day 8
    ],
)
def test_no_reason_window_is_seven_days_from_delivery(elapsed: timedelta, allowed: bool) -> None:
    result = verdict(DELIVERED + elapsed).no_reason
    assert result.allowed is allowed
    assert result.code == ("within_window" if allowed else "window_passed")
    assert result.deadline == DELIVERED + timedelta(days=7)


def test_window_counts_from_delivery_not_from_the_order() -> None:
    # Twelve days after ordering is still day 7 after delivery.
    assert verdict(ORDERED + timedelta(days=11, hours=12)).no_reason.allowed


def test_no_reason_return_lists_its_conditions() -> None:
    result = verdict(DELIVERED + timedelta(days=1)).no_reason
    assert result.conditions == ["unused", "in its original packaging", "resellable"]


@pytest.mark.parametrize(
    ("flag", "code"),
    [
        ("is_perishable", "excluded_perishable"),
        ("is_custom_made", "excluded_custom_made"),
        ("is_virtual", "excluded_virtual_delivered"),
    ],
)
def test_excluded_categories_are_refused_even_on_day_one(flag: str, code: str) -> None:
    result = verdict(DELIVERED + timedelta(hours=2), **{flag: True}).no_reason
    assert not result.allowed
    assert result.code == code
    assert result.reason


def test_hygiene_goods_return_only_sealed() -> None:
    result = verdict(DELIVERED + timedelta(days=1), is_hygiene=True).no_reason
    assert result.allowed
    assert any("sealed" in c for c in result.conditions)


@pytest.mark.parametrize(
    ("elapsed", "allowed"),
    [
        (timedelta(days=14, hours=12), True),  # day 15
        (timedelta(days=15), True),
        (timedelta(days=15, hours=12), False),  # day 16
    ],
)
def test_quality_window_is_fifteen_days(elapsed: timedelta, allowed: bool) -> None:
    result = verdict(DELIVERED + elapsed).quality
    assert result.allowed is allowed
    assert result.code == ("within_quality_window" if allowed else "quality_window_passed")
    if not allowed:
        assert "warranty" in result.reason


def test_quality_path_stays_open_for_excluded_categories() -> None:
    assert verdict(DELIVERED + timedelta(days=2), is_perishable=True).quality.allowed


def test_virtual_goods_go_back_only_with_an_invalid_code() -> None:
    order, item = delivered_order(is_virtual=True)
    v = policy.item_eligibility(order, item, DELIVERED + timedelta(days=1), False)
    assert v.quality.code == "invalid_code_only"
    invalid = policy.return_decision(v, ReturnReason.QUALITY, QualityIssue.INVALID_CODE, item)
    defective = policy.return_decision(v, ReturnReason.QUALITY, QualityIssue.DEFECTIVE, item)
    assert invalid.allowed and not defective.allowed


def test_virtual_window_counts_from_code_delivery() -> None:
    order, item = delivered_order(is_virtual=True)
    item.code_delivered_at = DELIVERED + timedelta(days=10)
    v = policy.item_eligibility(order, item, DELIVERED + timedelta(days=20), False)
    assert v.quality.allowed


def test_undelivered_cancelled_and_already_returned_items_are_blocked() -> None:
    order, item = delivered_order()
    order.status, order.delivered_at = OrderStatus.SHIPPED, None
    shipped = policy.item_eligibility(order, item, DELIVERED, False)
    assert shipped.no_reason.code == shipped.quality.code == "not_delivered"
    assert "refused or intercepted" in shipped.no_reason.reason
    order.status = OrderStatus.CANCELLED
    assert policy.item_eligibility(order, item, DELIVERED, False).no_reason.code == "order_cancelled"
    assert verdict(DELIVERED + timedelta(days=1), already_returned=True).quality.code == "already_returned"


def test_ship_back_deadline_only_for_physical_items() -> None:
    now = DELIVERED + timedelta(days=1)
    _, physical = delivered_order()
    _, code = delivered_order(is_virtual=True)
    assert policy.ship_back_deadline(now, [physical, code]) == now + timedelta(days=7)
    assert policy.ship_back_deadline(now, [code]) is None


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (date(2026, 11, 16), 1, date(2026, 11, 17)),  # Monday -> Tuesday
        (date(2026, 11, 20), 1, date(2026, 11, 23)),  # Friday -> Monday
        (date(2026, 11, 21), 1, date(2026, 11, 23)),  # Saturday -> Monday
        (date(2026, 11, 22), 5, date(2026, 11, 27)),  # Sunday -> Friday
        (date(2026, 11, 18), 7, date(2026, 11, 27)),  # Wednesday -> next Friday
        (date(2026, 11, 20), 7, date(2026, 12, 1)),  # Friday -> Tuesday after next
    ],
)
def test_working_days_skip_weekends(start: date, days: int, expected: date) -> None:
    assert policy.add_working_days(start, days) == expected


def test_refund_completion_dates_by_stage() -> None:
    friday = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
    thursday = friday - timedelta(days=1)
    expected = policy.expected_refund_completion
    assert expected(RefundStage.PROCESSING, thursday, friday, None) == date(2026, 12, 1)
    assert expected(RefundStage.APPROVED, thursday, friday, None) == date(2026, 12, 1)
    # Under review: the worst case is review on its 48-hour deadline (Saturday), then 7 working days.
    assert policy.review_due(thursday) == thursday + timedelta(hours=48)
    assert expected(RefundStage.UNDER_REVIEW, thursday, None, None) == date(2026, 12, 1)
    assert expected(RefundStage.COMPLETED, thursday, friday, friday + timedelta(days=3)) == date(2026, 11, 23)
    assert expected(RefundStage.REJECTED, thursday, None, None) is None


NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


def shipment(status: ShipmentStatus, last_scan_ago: timedelta, eta_in: timedelta) -> Shipment:
    return Shipment(
        status=status,
        estimated_delivery=NOW + eta_in,
        handed_to_last_mile=False,
        events=[TrackingEvent(at=NOW - last_scan_ago, code="in_transit", location="Hub", description="")],
    )


@pytest.mark.parametrize(
    ("last_scan_ago", "eta_in", "kind"),
    [
        (timedelta(days=2, hours=23), timedelta(days=1), None),
        (timedelta(days=3), timedelta(days=1), "delayed"),  # no scan for 3 days
        (timedelta(hours=5), -timedelta(hours=1), "delayed"),  # past the estimate
    ],
)
def test_delay_detection(last_scan_ago: timedelta, eta_in: timedelta, kind: str | None) -> None:
    found = policy.detect_exception(shipment(ShipmentStatus.IN_TRANSIT, last_scan_ago, eta_in), NOW)
    assert (found.kind if found else None) == kind
    if found:
        assert found.remedies == ["wait", "human"]
        assert found.new_estimate == date(2026, 11, 23)


@pytest.mark.parametrize("status", ["lost", "damaged", "returned_to_sender"])
def test_carrier_exceptions_offer_reship_or_refund(status: str) -> None:
    found = policy.detect_exception(shipment(ShipmentStatus(status), timedelta(hours=1), timedelta(days=1)), NOW)
    assert found is not None and found.kind == status
    assert found.remedies == ["reship", "refund", "human"]


def test_delivered_parcel_has_no_exception_and_no_delivery_change() -> None:
    s = shipment(ShipmentStatus.DELIVERED, timedelta(days=9), -timedelta(days=9))
    assert policy.detect_exception(s, NOW) is None
    assert not policy.delivery_change_allowed(s)
    moving = shipment(ShipmentStatus.IN_TRANSIT, timedelta(hours=1), timedelta(days=1))
    assert policy.delivery_change_allowed(moving)
    moving.handed_to_last_mile = True
    assert not policy.delivery_change_allowed(moving)


def test_complaints_security_is_urgent_and_due_times_keep_the_48_hour_promise() -> None:
    assert policy.complaint_severity(ComplaintCategory.FRAUD_SECURITY, Severity.LOW) == Severity.URGENT
    assert policy.complaint_severity(ComplaintCategory.DELIVERY, None) == Severity.NORMAL
    assert policy.complaint_severity(ComplaintCategory.DELIVERY, Severity.HIGH) == Severity.HIGH
    assert policy.complaint_due(NOW, Severity.NORMAL) == NOW + timedelta(hours=48)
    assert policy.complaint_due(NOW, Severity.URGENT) == NOW + timedelta(hours=4)
    assert all(h <= 48 for h in policy.COMPLAINT_RESPONSE_HOURS.values())
