"""The platform API over HTTP on loopback: every endpoint, every error class, idempotency."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.db import make_engine, make_sessionmaker
from bot.platform.models import IdempotencyRecord, ReturnRequest
from tests.conftest import API_KEY, Platform

pytestmark = pytest.mark.asyncio


async def call(
    p: Platform, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    async with p.http.request(method, path, json=body, headers=headers) as resp:
        return resp.status, await resp.json()


async def get(p: Platform, path: str) -> Any:
    status, body = await call(p, "GET", path)
    assert status == 200, body
    return body


def count_rows(p: Platform, model: Any) -> int:
    engine = make_engine(p.db_url)
    try:
        with make_sessionmaker(engine)() as session:
            return int(session.scalar(select(func.count()).select_from(model)))
    finally:
        engine.dispose()


# --- access and errors -------------------------------------------------------------------------


async def test_health_needs_no_key(platform: Platform) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{platform.url}/health") as resp:
        assert resp.status == 200
        assert (await resp.json())["status"] == "ok"


@pytest.mark.parametrize("headers", [{}, {"X-Api-Key": "wrong"}, {"X-Api-Key": ""}])
async def test_every_api_call_needs_the_key(platform: Platform, headers: dict[str, str]) -> None:
    async with aiohttp.ClientSession() as http:
        for path in ("/api/v1/orders/80000001", "/api/v1/orders/00000000", "/api/v1/nothing"):
            async with http.get(f"{platform.url}{path}", headers=headers) as resp:
                assert resp.status == 401
                assert (await resp.json())["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("number", ["8000001", "800000011", "8000000a", "80000001.", "%2380000001"])
async def test_malformed_order_numbers_are_400_naming_the_field(platform: Platform, number: str) -> None:
    status, body = await call(platform, "GET", f"/api/v1/orders/{number}")
    assert status == 400
    assert body["error"]["field"] == "number"


async def test_unknown_order_is_404(platform: Platform) -> None:
    for path in ("/orders/89999999", "/orders/89999999/tracking", "/orders/89999999/refunds"):
        status, body = await call(platform, "GET", f"/api/v1{path}")
        assert status == 404
        assert body["error"]["code"] == "not_found"


async def test_unknown_route_and_method_are_json(platform: Platform) -> None:
    status, body = await call(platform, "GET", "/api/v1/unknown")
    assert status == 404 and body["error"]["code"] == "not_found"
    status, body = await call(platform, "DELETE", "/api/v1/orders/80000001")
    assert status == 405 and body["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("raw", "code"),
    [(b"{not json", "invalid_json"), (b"[1, 2]", "invalid_json"), (b'"text"', "invalid_json")],
)
async def test_bodies_that_are_not_json_objects_are_400(platform: Platform, raw: bytes, code: str) -> None:
    headers = {"Content-Type": "application/json", "Idempotency-Key": "k1"}
    for path in ("/api/v1/orders/80000001/verify", "/api/v1/orders/80000001/returns", "/api/v1/complaints"):
        async with platform.http.post(path, data=raw, headers=headers) as resp:
            assert resp.status == 400
            assert (await resp.json())["error"]["code"] == code


# --- orders and customers ----------------------------------------------------------------------

SCENARIOS = {
    "80000001": ("delivered", "li.wei@example.com"),
    "80000002": ("delivered", "zhang.min@example.com"),
    "80000003": ("delivered", "wang.fang@example.com"),
    "80000004": ("delivered", "wang.fang@example.com"),
    "80000005": ("shipped", "li.wei@example.com"),
    "80000006": ("shipped", "zhang.min@example.com"),
    "80000007": ("shipped", "chen.jie@example.com"),
    "80000008": ("delivered", "chen.jie@example.com"),
    "80000009": ("delivered", "liu.yang@example.com"),
    "80000010": ("delivered", "liu.yang@example.com"),
    "80000011": ("paid", "li.wei@example.com"),
    "80000012": ("cancelled", "zhang.min@example.com"),
    "80000013": ("delivered", "chen.jie@example.com"),
}


@pytest.mark.parametrize(("number", "expected"), SCENARIOS.items())
async def test_scenario_orders(platform: Platform, number: str, expected: tuple[str, str]) -> None:
    order = await get(platform, f"/api/v1/orders/{number}")
    assert (order["status"], order["customer"]["email"]) == expected
    assert order["items"] and order["total"]
    assert order["customer"]["phone"].startswith("+86")


async def test_order_details(platform: Platform) -> None:
    order = await get(platform, "/api/v1/orders/80000001")
    assert [i["name"] for i in order["items"]] == ["Cotton T-shirt", "Slim denim jeans"]
    assert order["total"] == "338.00"
    assert order["delivered_at"] == "2026-11-15T10:00:00Z"
    assert order["shipments"][0]["status"] == "delivered"
    assert order["shipments"][0]["last_event"]["code"] == "delivered"


async def test_customer_and_their_orders(platform: Platform) -> None:
    order = await get(platform, "/api/v1/orders/80000001")
    cid = order["customer"]["id"]
    customer = await get(platform, f"/api/v1/customers/{cid}")
    assert customer["email"] == "li.wei@example.com" and customer["account_status"] == "active"
    orders = (await get(platform, f"/api/v1/customers/{cid}/orders"))["orders"]
    assert {"80000001", "80000005", "80000011"} <= {o["number"] for o in orders}
    assert all(o["customer"]["id"] == cid for o in orders)
    assert [o["placed_at"] for o in orders] == sorted((o["placed_at"] for o in orders), reverse=True)
    assert (await call(platform, "GET", "/api/v1/customers/99999"))[0] == 404
    status, body = await call(platform, "GET", "/api/v1/customers/abc/orders")
    assert status == 400 and body["error"]["field"] == "customer_id"


# --- ownership -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "verified"),
    [
        ({"email": "li.wei@example.com"}, True),
        ({"email": "  LI.Wei@Example.com "}, True),
        ({"email": "zhang.min@example.com"}, False),
        ({"phone": "+86 138 0000 1001"}, True),
        ({"phone": "13800001001"}, True),
        ({"phone": "0086-138-0000-1001"}, True),
        ({"phone": "1001"}, False),
        ({"phone": "13900002002"}, False),
    ],
)
async def test_verify_ownership(platform: Platform, body: dict[str, str], verified: bool) -> None:
    status, result = await call(platform, "POST", "/api/v1/orders/80000001/verify", body)
    assert status == 200
    assert result["verified"] is verified
    assert (result["customer_id"] is not None) is verified
    text = str(result)
    assert "li.wei@example.com" not in text and "13800001001" not in text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "email"),
        ({"email": "a@b.c", "phone": "13800001001"}, "email"),
        ({"email": 12345}, "email"),
        ({"phone": "1"}, "phone"),
        ({"email": "li.wei@example.com", "extra": 1}, "extra"),
    ],
)
async def test_verify_rejects_bad_bodies(platform: Platform, body: dict[str, Any], field: str) -> None:
    status, result = await call(platform, "POST", "/api/v1/orders/80000001/verify", body)
    assert status == 400
    assert result["error"]["field"] == field


# --- returns -----------------------------------------------------------------------------------


async def test_return_eligibility_per_item(platform: Platform) -> None:
    def by_item(body: dict[str, Any]) -> dict[str, Any]:
        return body["items"][0]

    apparel = by_item(await get(platform, "/api/v1/orders/80000001/return-eligibility"))
    assert apparel["no_reason"]["allowed"] and apparel["no_reason"]["deadline"] == "2026-11-22T10:00:00Z"
    earbuds = by_item(await get(platform, "/api/v1/orders/80000002/return-eligibility"))
    assert earbuds["no_reason"]["code"] == "window_passed"
    assert earbuds["quality"]["allowed"] and earbuds["quality"]["deadline"] == "2026-11-21T10:00:00Z"
    food = by_item(await get(platform, "/api/v1/orders/80000003/return-eligibility"))
    assert food["no_reason"]["code"] == "excluded_perishable" and food["quality"]["allowed"]
    code = by_item(await get(platform, "/api/v1/orders/80000004/return-eligibility"))
    assert code["no_reason"]["code"] == "excluded_virtual_delivered"
    assert code["quality"]["code"] == "invalid_code_only"
    parcel = by_item(await get(platform, "/api/v1/orders/80000005/return-eligibility"))
    assert parcel["no_reason"]["code"] == "not_delivered"


async def test_eligibility_follows_the_clock(platform: Platform) -> None:
    platform.clock.now += timedelta(days=4, seconds=1)  # day 8 after delivery of 80000001
    item = (await get(platform, "/api/v1/orders/80000001/return-eligibility"))["items"][0]
    assert item["no_reason"]["code"] == "window_passed" and item["quality"]["allowed"]


async def file_return(p: Platform, number: str, body: dict[str, Any], key: str) -> tuple[int, Any]:
    return await call(p, "POST", f"/api/v1/orders/{number}/returns", body, {"Idempotency-Key": key})


async def test_create_return_is_idempotent(platform: Platform) -> None:
    body = {"reason": "no_reason"}
    status, first = await file_return(platform, "80000001", body, "conv-1:80000001")
    assert status == 201
    assert first["number"].startswith("R") and first["status"] == "requested"
    assert first["refund_amount"] == "338.00" and len(first["item_ids"]) == 2
    assert first["ship_back_by"] == "2026-11-25T10:00:00Z"
    assert first["refund"]["stage"] == "under_review"
    assert [s["stage"] for s in first["refund"]["stages"]] == ["requested", "under_review"]
    status, again = await file_return(platform, "80000001", body, "conv-1:80000001")
    assert status == 201 and again == first
    listed = (await get(platform, "/api/v1/orders/80000001/returns"))["returns"]
    assert [r["number"] for r in listed] == [first["number"]]
    assert (await get(platform, f"/api/v1/returns/{first['number']}"))["number"] == first["number"]
    refund_number = first["refund"]["number"]
    assert (await get(platform, f"/api/v1/refunds/{refund_number}"))["return_number"] == first["number"]


async def test_same_key_with_another_body_is_409_and_writes_nothing(platform: Platform) -> None:
    items = (await get(platform, "/api/v1/orders/80000001"))["items"]
    status, _ = await file_return(platform, "80000001", {"reason": "no_reason", "item_ids": [items[0]["id"]]}, "k")
    assert status == 201
    before = count_rows(platform, ReturnRequest)
    status, body = await file_return(platform, "80000001", {"reason": "no_reason"}, "k")
    assert status == 409 and body["error"]["code"] == "idempotency_key_reused"
    assert count_rows(platform, ReturnRequest) == before


async def test_filing_the_same_items_twice_is_409(platform: Platform) -> None:
    assert (await file_return(platform, "80000001", {"reason": "no_reason"}, "a"))[0] == 201
    status, body = await file_return(platform, "80000001", {"reason": "no_reason"}, "b")
    assert status == 409 and body["error"]["code"] == "already_returned"


@pytest.mark.parametrize(
    ("number", "body", "code"),
    [
        ("80000003", {"reason": "no_reason"}, "not_eligible"),
        ("80000002", {"reason": "no_reason"}, "not_eligible"),
        ("80000004", {"reason": "quality", "quality_issue": "defective"}, "not_eligible"),
        ("80000005", {"reason": "no_reason"}, "not_eligible"),
        ("80000012", {"reason": "quality", "quality_issue": "defective"}, "not_eligible"),
        ("80000008", {"reason": "no_reason"}, "already_returned"),
    ],
)
async def test_ineligible_returns_are_refused_without_a_trace(
    platform: Platform, number: str, body: dict[str, Any], code: str
) -> None:
    before = (count_rows(platform, ReturnRequest), count_rows(platform, IdempotencyRecord))
    status, result = await file_return(platform, number, body, "key-x")
    assert status == 409, result
    assert result["error"]["code"] == code
    assert (count_rows(platform, ReturnRequest), count_rows(platform, IdempotencyRecord)) == before


async def test_quality_returns_where_the_policy_allows_them(platform: Platform) -> None:
    status, earbuds = await file_return(
        platform,
        "80000002",
        {"reason": "quality", "quality_issue": "defective", "description": "No sound"},
        "q1",
    )
    assert status == 201 and earbuds["quality_issue"] == "defective" and earbuds["description"] == "No sound"
    status, code = await file_return(platform, "80000004", {"reason": "quality", "quality_issue": "invalid_code"}, "q2")
    assert status == 201
    assert code["ship_back_by"] is None and code["refund_amount"] == "68.00"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "reason"),
        ({"reason": "changed_mind"}, "reason"),
        ({"reason": "quality"}, "quality_issue"),
        ({"reason": "no_reason", "quality_issue": "defective"}, "quality_issue"),
        ({"reason": "no_reason", "item_ids": []}, "item_ids"),
        ({"reason": "no_reason", "item_ids": ["1"]}, "item_ids.0"),
        ({"reason": "no_reason", "item_ids": [999999]}, "item_ids"),
        ({"reason": "no_reason", "description": "x" * 2001}, "description"),
    ],
)
async def test_return_bodies_are_validated(platform: Platform, body: dict[str, Any], field: str) -> None:
    status, result = await file_return(platform, "80000001", body, "v")
    assert status == 400, result
    assert result["error"]["field"] == field
    assert count_rows(platform, IdempotencyRecord) == 0


async def test_a_return_needs_an_idempotency_key(platform: Platform) -> None:
    status, result = await call(platform, "POST", "/api/v1/orders/80000001/returns", {"reason": "no_reason"})
    assert status == 400 and result["error"]["field"] == "Idempotency-Key"


# --- refunds -----------------------------------------------------------------------------------


async def refund_of(p: Platform, number: str) -> dict[str, Any]:
    refunds = (await get(p, f"/api/v1/orders/{number}/refunds"))["refunds"]
    assert len(refunds) == 1
    return dict(refunds[0])


async def test_refund_under_review(platform: Platform) -> None:
    r = await refund_of(platform, "80000008")
    assert r["stage"] == "under_review"
    assert r["stages"][0] == {"stage": "requested", "at": "2026-11-17T10:00:00Z", "note": "Refund requested."}
    assert r["review_due"] == "2026-11-19T10:00:00Z"
    assert r["expected_completion"] == "2026-11-30"


async def test_refund_processing_has_its_expected_date(platform: Platform) -> None:
    r = await refund_of(platform, "80000009")
    assert r["stage"] == "processing"
    approved = next(s for s in r["stages"] if s["stage"] == "approved")
    assert approved["at"] == "2026-11-16T10:00:00Z"  # two working days before Wednesday the 18th
    assert r["expected_completion"] == "2026-11-25"


async def test_refund_completed_and_rejected(platform: Platform) -> None:
    done = await refund_of(platform, "80000010")
    assert done["stage"] == "completed" and done["expected_completion"] == "2026-11-07"
    rejected = await refund_of(platform, "80000013")
    assert rejected["stage"] == "rejected" and rejected["expected_completion"] is None
    assert "unused" in rejected["rejection_reason"]
    assert (await call(platform, "GET", "/api/v1/refunds/F00000000"))[0] == 404


# --- tracking ----------------------------------------------------------------------------------


async def tracking_of(p: Platform, number: str) -> dict[str, Any]:
    return dict((await get(p, f"/api/v1/orders/{number}/tracking"))["shipments"][0])


async def test_tracking_on_time(platform: Platform) -> None:
    t = await tracking_of(platform, "80000005")
    assert t["status"] == "in_transit" and t["exception"] is None
    assert t["estimated_delivery"] == "2026-11-20"
    assert t["events"][0]["code"] == "picked_up" and len(t["events"]) >= 2
    assert t["delivery_change_allowed"] is True


async def test_tracking_exceptions(platform: Platform) -> None:
    delayed = (await tracking_of(platform, "80000006"))["exception"]
    assert delayed["kind"] == "delayed" and "No scan for 4 days" in delayed["detail"]
    assert delayed["new_estimate"] == "2026-11-21"
    lost = (await tracking_of(platform, "80000007"))["exception"]
    assert lost["kind"] == "lost" and lost["remedies"] == ["reship", "refund", "human"]
    unshipped = await get(platform, "/api/v1/orders/80000011/tracking")
    assert unshipped["order_status"] == "paid" and unshipped["shipments"] == []


# --- complaints and account --------------------------------------------------------------------


async def customer_id(p: Platform, number: str) -> int:
    return int((await get(p, f"/api/v1/orders/{number}"))["customer"]["id"])


async def test_complaint_ticket(platform: Platform) -> None:
    cid = await customer_id(platform, "80000006")
    body = {"customer_id": cid, "order_number": "80000006", "category": "delivery", "description": "Late."}
    status, ticket = await call(platform, "POST", "/api/v1/complaints", body)
    assert status == 201
    assert ticket["number"].startswith("C") and ticket["severity"] == "normal"
    assert ticket["due_at"] == "2026-11-20T10:00:00Z"
    assert (await get(platform, f"/api/v1/complaints/{ticket['number']}")) == ticket


async def test_security_complaint_is_urgent_and_idempotent(platform: Platform) -> None:
    cid = await customer_id(platform, "80000001")
    body = {"customer_id": cid, "category": "fraud_security", "description": "Orders I never made."}
    headers = {"Idempotency-Key": "sec-1"}
    status, ticket = await call(platform, "POST", "/api/v1/complaints", body, headers)
    assert status == 201 and ticket["severity"] == "urgent" and ticket["due_at"] == "2026-11-18T14:00:00Z"
    assert await call(platform, "POST", "/api/v1/complaints", body, headers) == (201, ticket)


@pytest.mark.parametrize(
    ("patch", "status", "field"),
    [
        ({"category": "weather"}, 400, "category"),
        ({"description": ""}, 400, "description"),
        ({"customer_id": "1"}, 400, "customer_id"),
        ({"order_number": "123"}, 400, "order_number"),
        ({"order_number": "80000006"}, 400, "order_number"),  # someone else's order
        ({"customer_id": 999999}, 404, None),
    ],
)
async def test_complaint_errors(platform: Platform, patch: dict[str, Any], status: int, field: str | None) -> None:
    cid = await customer_id(platform, "80000001")
    body = {"customer_id": cid, "category": "other", "description": "Something.", **patch}
    got, result = await call(platform, "POST", "/api/v1/complaints", body)
    assert got == status
    assert result["error"].get("field") == field


async def test_freeze_account_blocks_returns(platform: Platform) -> None:
    cid = await customer_id(platform, "80000001")
    status, frozen = await call(platform, "POST", f"/api/v1/customers/{cid}/freeze", {"reason": "stolen account"})
    assert status == 200 and frozen["account_status"] == "frozen" and frozen["changed"] is True
    status, again = await call(platform, "POST", f"/api/v1/customers/{cid}/freeze", {"reason": "again"})
    assert status == 200 and again["changed"] is False
    status, body = await file_return(platform, "80000001", {"reason": "no_reason"}, "f1")
    assert status == 409 and body["error"]["code"] == "account_frozen"
    status, body = await call(platform, "POST", f"/api/v1/customers/{cid}/freeze", {})
    assert status == 400 and body["error"]["field"] == "reason"


async def test_api_key_value_never_leaks_in_errors(platform: Platform) -> None:
    status, body = await call(platform, "GET", "/api/v1/orders/nope")
    assert status == 400 and API_KEY not in str(body)


async def test_dry_run_previews_a_return_and_writes_nothing(platform: Platform) -> None:
    before = count_rows(platform, ReturnRequest)
    status, preview = await call(platform, "POST", "/api/v1/orders/80000001/returns?dry_run=1", {"reason": "no_reason"})
    assert status == 200
    assert preview["dry_run"] is True and preview["refund_amount"] == "338.00"
    assert [i["name"] for i in preview["items"]] == ["Cotton T-shirt", "Slim denim jeans"]
    assert preview["ship_back_by"] == "2026-11-25T10:00:00Z"
    assert preview["review_due"] == "2026-11-20T10:00:00Z" and preview["expected_completion"] == "2026-12-01"
    assert count_rows(platform, ReturnRequest) == before
    assert (await get(platform, "/api/v1/orders/80000001/returns"))["returns"] == []
    status, body = await call(platform, "POST", "/api/v1/orders/80000003/returns?dry_run=1", {"reason": "no_reason"})
    assert status == 409 and body["error"]["code"] == "not_eligible"
