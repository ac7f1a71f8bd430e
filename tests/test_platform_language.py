"""The platform in English and in Chinese: the same answers, with texts in the language asked for."""

from __future__ import annotations

import logging
import re
import shutil
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from bot.db import make_engine, make_sessionmaker
from bot.platform import policy, schema
from bot.platform.app import create_app
from bot.platform.config import PlatformConfig
from bot.platform.db import Base
from bot.platform.i18n import chinese_number, preferred
from bot.platform.models import IdempotencyRecord, OrderItem, ReturnRequest
from bot.platform.seed import CARRIER_ZH, CATALOG
from tests.conftest import API_KEY, SEEDED_AT, Platform
from tests.servers import Clock, serve
from tests.test_platform_api import count_rows
from tests.test_platform_config import run_cli
from tests.test_platform_security import KEY_LINE, raw_request

EN = {"Accept-Language": "en-GB,en;q=0.9"}
ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
HAN = re.compile(r"[\u4e00-\u9fff]")
# Keys whose values are texts for people; everything else must be equal in both languages.
TEXT_KEYS = {
    "name",
    "city",
    "line",
    "carrier",
    "location",
    "description",
    "detail",
    "reason",
    "conditions",
    "note",
    "cancel_reason",
    "rejection_reason",
    "message",
}


async def ask(
    p: Platform, method: str, path: str, headers: dict[str, str], body: Any = None
) -> tuple[int, Any, str | None]:
    """Status, JSON body and Content-Language of one call."""
    async with p.http.request(method, f"/api/v1{path}", json=body, headers=headers) as resp:
        return resp.status, await resp.json(), resp.headers.get("Content-Language")


async def both(p: Platform, method: str, path: str, body: Any = None, **headers: str) -> tuple[int, Any, Any]:
    """The same call in English and in Chinese: the same status, each labelled with its language."""
    status_en, en, lang_en = await ask(p, method, path, {**EN, **headers}, body)
    status_zh, zh, lang_zh = await ask(p, method, path, {**ZH, **headers}, body)
    assert status_en == status_zh, (en, zh)
    assert (lang_en, lang_zh) == ("en", "zh-CN")
    return status_en, en, zh


def texts(en: Any, zh: Any, key: str = "") -> list[tuple[str, str]]:
    """Asserts the answers are equal but for texts, and gives the (English, Chinese) pairs that differ."""
    if isinstance(en, dict):
        assert isinstance(zh, dict) and en.keys() == zh.keys()
        return [pair for k in en for pair in texts(en[k], zh[k], k)]
    if isinstance(en, list):
        assert isinstance(zh, list) and len(en) == len(zh), key
        return [pair for a, b in zip(en, zh, strict=True) for pair in texts(a, b, key)]
    if key in TEXT_KEYS and isinstance(en, str) and en != zh:
        return [(en, zh)]
    assert en == zh, (key, en, zh)
    return []


def translated(en: Any, zh: Any) -> list[str]:
    """The Chinese texts of two equal answers, each checked to be Chinese where the English is English."""
    pairs = texts(en, zh)
    assert pairs
    for english, chinese in pairs:
        assert not HAN.search(english) and HAN.search(chinese), (english, chinese)
    return [chinese for _, chinese in pairs]


# --- Accept-Language -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        (None, "en"),
        ("", "en"),
        ("zh", "zh"),
        ("zh-CN", "zh"),
        ("ZH-cn", "zh"),
        ("zh_CN", "zh"),
        ("zh-TW", "zh"),  # only simplified is stored; the channels convert for traditional readers
        ("zh-Hant-HK", "zh"),
        ("en-US,en;q=0.9", "en"),
        ("en;q=0.5, zh", "zh"),
        ("zh;q=0.8, en;q=0.9", "en"),
        ("zh;q=0.9, en;q=0.9", "zh"),  # a tie: the first listed
        ("fr-FR, de;q=0.9, zh;q=0.5", "zh"),  # we speak neither French nor German
        ("fr, de", "en"),
        ("*", "en"),
        ("zh;q=0.5, *;q=0.8", "en"),
        ("zh;q=0", "en"),
        ("en;q=0, zh;q=0.001", "zh"),
        ("zh;q=abc", "en"),
        ("zh;q=1.5", "en"),
        ("zh;q=", "en"),
        ("zh ; Q=0.7 , en;q=0.6", "zh"),
        (";;;,,,=", "en"),
        ("中文", "en"),
        ("zh\ud800", "en"),  # what Sanic makes of undecodable bytes
        ("chinese, english", "en"),
        ("zhx-CN", "en"),
        ("en," * 5000 + "zh", "en"),
        ("x," * 40 + "zh", "en"),  # past the 32 ranges read
    ],
)
def test_preferred_language(header: str | None, lang: str) -> None:
    assert preferred(header) == lang


@pytest.mark.parametrize(
    ("n", "written"), [(0, "零"), (7, "七"), (10, "十"), (15, "十五"), (20, "二十"), (48, "四十八")]
)
def test_chinese_numbers(n: int, written: str) -> None:
    assert chinese_number(n) == written
    assert chinese_number(100) == "100"


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("zh-TW", "zh-CN"),
        ("en;q=0.1, zh;q=0.2", "zh-CN"),
        ("zh;q=nonsense", "en"),
        ("\t, ;q=1;q=0, zh-" + "a" * 300, "en"),
        ("fr", "en"),
        ("x" * 4000, "en"),
    ],
)
async def test_any_header_gets_an_answer(platform: Platform, header: str, language: str) -> None:
    status, body, content_language = await ask(platform, "GET", "/orders/80000001", {"Accept-Language": header})
    assert status == 200 and body["number"] == "80000001"
    assert content_language == language


@pytest.mark.parametrize("raw", [b"zh-CN\xff\xfe", b"\xe4\xb8\xad\xe6\x96\x87", b"\x80;q=\x81", b""])
async def test_undecodable_headers_are_english_not_errors(platform: Platform, raw: bytes) -> None:
    head = b"GET /api/v1/orders/80000001 HTTP/1.1\r\n" + KEY_LINE + b"\r\nAccept-Language: " + raw
    status, body = await raw_request(platform, head)
    assert status == 200 and body["items"][0]["name"] == "Cotton T-shirt"


async def test_without_the_header_the_platform_speaks_english(platform: Platform) -> None:
    status, body, content_language = await ask(platform, "GET", "/orders/80000001", {})
    assert status == 200 and content_language == "en"
    assert [i["name"] for i in body["items"]] == ["Cotton T-shirt", "Slim denim jeans"]


# --- the same answers in both languages ----------------------------------------------------------


async def test_order_in_both_languages(platform: Platform) -> None:
    _, en, zh = await both(platform, "GET", "/orders/80000001")
    translated(en, zh)
    assert [i["name"] for i in zh["items"]] == ["纯棉圆领T恤", "修身牛仔裤"]
    assert zh["total"] == en["total"] == "338.00"
    assert zh["shipping_address"]["city"] == zh["customer"]["city"] == "上海"
    assert zh["shipping_address"]["line"].endswith("号")
    assert zh["customer"]["name"] == "Li Wei"  # a person's name is theirs, not translated
    shipment = zh["shipments"][0]
    assert shipment["carrier"] in CARRIER_ZH.values()
    assert shipment["last_event"]["description"] == "已签收，签收人：本人"
    _, en, zh = await both(platform, "GET", "/orders/80000012")
    translated(en, zh)
    assert zh["cancel_reason"] == "买家在付款前取消了订单，未产生扣款。"


async def test_customer_orders_in_both_languages(platform: Platform) -> None:
    cid = (await ask(platform, "GET", "/orders/80000001", {}))[1]["customer"]["id"]
    _, en, zh = await both(platform, "GET", f"/customers/{cid}/orders")
    translated(en, zh)
    _, en, zh = await both(platform, "GET", f"/customers/{cid}")
    assert texts(en, zh) == [("Shanghai", "上海")]


@pytest.mark.parametrize(
    ("number", "part", "chinese"),
    [
        ("80000001", "no_reason", ["七天无理由退货", "2026年11月22日"]),
        ("80000002", "no_reason", ["七天无理由退货期限（签收后七天）已于2026年11月13日结束"]),
        ("80000002", "quality", ["质量问题", "2026年11月21日"]),
        ("80000003", "no_reason", ["生鲜食品不支持七天无理由退货"]),
        ("80000004", "no_reason", ["虚拟商品", "卡密"]),
        ("80000004", "quality", ["卡密无效"]),
        ("80000005", "no_reason", ["尚未签收", "拒收或拦截"]),
        ("80000012", "quality", ["订单已取消"]),
    ],
)
async def test_eligibility_in_both_languages(platform: Platform, number: str, part: str, chinese: list[str]) -> None:
    _, en, zh = await both(platform, "GET", f"/orders/{number}/return-eligibility")
    translated(en, zh)
    reason = zh["items"][0][part]["reason"]
    assert all(words in reason for words in chinese), reason


async def test_no_reason_conditions_in_chinese(platform: Platform) -> None:
    _, en, zh = await both(platform, "GET", "/orders/80000001/return-eligibility")
    assert en["items"][0]["no_reason"]["conditions"] == ["unused", "in its original packaging", "resellable"]
    assert zh["items"][0]["no_reason"]["conditions"] == ["商品未使用", "包装完好", "不影响二次销售"]


async def test_quality_window_passed_in_chinese(platform: Platform) -> None:
    platform.clock.now += timedelta(days=4)
    _, en, zh = await both(platform, "GET", "/orders/80000002/return-eligibility")
    quality = zh["items"][0]["quality"]
    assert quality["code"] == "quality_window_passed"
    assert "签收后十五天" in quality["reason"] and "2026年11月21日" in quality["reason"]
    translated(en, zh)


@pytest.mark.parametrize(
    ("number", "chinese"),
    [
        ("80000005", None),
        ("80000006", "自2026年11月14日起已4天没有物流更新。"),
        ("80000007", "快递公司已确认包裹丢失。"),
    ],
)
async def test_tracking_in_both_languages(platform: Platform, number: str, chinese: str | None) -> None:
    _, en, zh = await both(platform, "GET", f"/orders/{number}/tracking")
    translated(en, zh)
    shipment = zh["shipments"][0]
    assert all(HAN.search(e["description"]) and HAN.search(e["location"]) for e in shipment["events"])
    assert shipment["events"][0]["description"] == "快递员已揽收"
    assert (shipment["exception"] or {}).get("detail") == chinese


@pytest.mark.parametrize("number", ["80000008", "80000009", "80000010", "80000013"])
async def test_refunds_in_both_languages(platform: Platform, number: str) -> None:
    _, en, zh = await both(platform, "GET", f"/orders/{number}/refunds")
    translated(en, zh)
    refund = zh["refunds"][0]
    assert refund["stages"][0]["note"] == "已提交退款申请。"
    _, en_one, zh_one = await both(platform, "GET", f"/refunds/{refund['number']}")
    assert zh_one == refund and en_one == en["refunds"][0]


async def test_a_rejected_refund_says_why_in_chinese(platform: Platform) -> None:
    _, en, zh = await both(platform, "GET", "/orders/80000013/refunds")
    assert "unused" in en["refunds"][0]["rejection_reason"]
    assert "吊牌" in zh["refunds"][0]["rejection_reason"] and "不影响二次销售" in zh["refunds"][0]["rejection_reason"]


# --- returns and refusals ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "body", "code", "english", "chinese"),
    [
        ("80000003", {"reason": "no_reason"}, "not_eligible", "Perishable food", "生鲜食品不支持七天无理由退货"),
        ("80000002", {"reason": "no_reason"}, "not_eligible", "ended on 13 Nov 2026", "已于2026年11月13日结束"),
        ("80000005", {"reason": "no_reason"}, "not_eligible", "not been delivered", "尚未签收"),
        ("80000004", {"reason": "quality", "quality_issue": "defective"}, "not_eligible", "code is invalid", "卡密"),
        ("80000008", {"reason": "no_reason"}, "already_returned", "already part of", "已在售后申请中"),
    ],
)
async def test_a_refused_return_says_why_in_the_customers_language(
    platform: Platform, number: str, body: dict[str, Any], code: str, english: str, chinese: str
) -> None:
    before = (count_rows(platform, ReturnRequest), count_rows(platform, IdempotencyRecord))
    status, en, zh = await both(platform, "POST", f"/orders/{number}/returns", body, **{"Idempotency-Key": "r1"})
    assert status == 409
    assert en["error"]["code"] == zh["error"]["code"] == code
    assert english in en["error"]["message"] and en["error"]["message"].startswith("Return not possible.")
    assert chinese in zh["error"]["message"] and zh["error"]["message"].startswith("无法退货。")
    assert (count_rows(platform, ReturnRequest), count_rows(platform, IdempotencyRecord)) == before


async def test_a_filed_return_replays_in_the_language_asked(platform: Platform) -> None:
    key = {"Idempotency-Key": "conv-zh:80000001"}
    before = count_rows(platform, ReturnRequest)
    status, first, _ = await ask(platform, "POST", "/orders/80000001/returns", {**ZH, **key}, {"reason": "no_reason"})
    assert status == 201
    assert [s["note"] for s in first["refund"]["stages"]] == [f"随退货申请 {first['number']} 提交。", "等待售后审核。"]
    status, replay_en, _ = await ask(
        platform, "POST", "/orders/80000001/returns", {**EN, **key}, {"reason": "no_reason"}
    )
    assert status == 201
    assert texts(replay_en, first) == [
        (f"Requested with return {first['number']}.", f"随退货申请 {first['number']} 提交。"),
        ("Waiting for the after-sales review.", "等待售后审核。"),
    ]
    status, replay_zh, _ = await ask(
        platform, "POST", "/orders/80000001/returns", {**ZH, **key}, {"reason": "no_reason"}
    )
    assert (status, replay_zh) == (201, first)
    assert count_rows(platform, ReturnRequest) == before + 1
    _, en, zh = await both(platform, "GET", "/orders/80000001/returns")
    assert zh["returns"] == [first] and en["returns"] == [replay_en]


async def test_a_preview_in_both_languages(platform: Platform) -> None:
    status, en, zh = await both(platform, "POST", "/orders/80000001/returns?dry_run=1", {"reason": "no_reason"})
    assert status == 200
    assert texts(en, zh) == [("Cotton T-shirt", "纯棉圆领T恤"), ("Slim denim jeans", "修身牛仔裤")]


async def test_errors_the_bot_may_show_are_in_chinese(platform: Platform) -> None:
    status, en, zh = await both(platform, "GET", "/orders/89999999")
    assert status == 404 and (en["error"]["message"], zh["error"]["message"]) == (
        "No order '89999999'.",
        "未找到订单“89999999”。",
    )
    status, en, zh = await both(platform, "GET", "/orders/8000000a")
    assert status == 400 and en["error"]["field"] == zh["error"]["field"] == "number"
    assert zh["error"]["message"] == "订单号为8位数字，例如 80000001。"
    for _ in range(policy.MAX_FAILED_VERIFICATIONS):
        await ask(platform, "POST", "/orders/80000001/verify", {}, {"email": "zhang.min@example.com"})
    status, en, zh = await both(platform, "POST", "/orders/80000001/verify", {"email": "li.wei@example.com"})
    assert status == 429 and en["error"]["code"] == zh["error"]["code"] == "too_many_attempts"
    assert zh["error"]["message"] == "订单 80000001 的身份验证失败次数过多，请在 3600 秒后再试。"


async def test_a_frozen_account_is_refused_in_chinese(platform: Platform) -> None:
    cid = (await ask(platform, "GET", "/orders/80000001", {}))[1]["customer"]["id"]
    status, frozen, _ = await ask(platform, "POST", f"/customers/{cid}/freeze", ZH, {"reason": "被盗号"})
    assert status == 200 and frozen["city"] == "上海"
    status, en, zh = await both(
        platform, "POST", "/orders/80000001/returns", {"reason": "no_reason"}, **{"Idempotency-Key": "f"}
    )
    assert status == 409 and en["error"]["code"] == zh["error"]["code"] == "account_frozen"
    assert zh["error"]["message"] == "账户已冻结，退货需由人工客服处理。"


async def test_a_wrong_key_is_refused_in_chinese(platform: Platform) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{platform.url}/api/v1/orders/80000001", headers={"X-Api-Key": "wrong", **ZH}) as resp,
    ):
        assert resp.status == 401 and resp.headers["Content-Language"] == "zh-CN"
        assert (await resp.json())["error"] == {"code": "unauthorized", "message": "需要有效的 X-Api-Key 请求头。"}


# --- seed data and the database -------------------------------------------------------------------


def test_every_product_has_a_chinese_name() -> None:
    assert all(HAN.search(p.name_zh) and not HAN.search(p.name) for p in CATALOG.values())
    assert len({p.name_zh for p in CATALOG.values()}) == len(CATALOG)


def zh_columns() -> list[tuple[str, str]]:
    return [(t.name, c.name) for t in Base.metadata.sorted_tables for c in t.columns if c.name.endswith("_zh")]


def test_every_seeded_text_is_in_chinese_too(seeded_db: Path) -> None:
    with sqlite3.connect(seeded_db) as db:
        for table, column in zh_columns():
            if table == "idempotency_records":
                continue
            english = column.removesuffix("_zh")
            rows = db.execute(f"SELECT {english}, {column} FROM {table} WHERE {english} IS NOT NULL").fetchall()
            assert rows, (table, column)
            missing = [(en, zh) for en, zh in rows if not zh or (HAN.search(en) is None and HAN.search(zh) is None)]
            assert missing == [], (table, column, missing[:3])


def make_old(path: Path) -> None:
    """Makes a seeded database look like one from before the Chinese columns."""
    with sqlite3.connect(path) as db:
        for table, column in zh_columns():
            db.execute(f"ALTER TABLE {table} DROP COLUMN {column}")


async def test_an_old_database_is_rebuilt_with_chinese_on_start(
    seeded_db: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "old.db"
    shutil.copy(seeded_db, db)
    make_old(db)
    engine = make_engine(f"sqlite:///{db}")
    assert "order_items" in schema.outdated_tables(engine)
    engine.dispose()
    app = create_app(PlatformConfig(database_url=f"sqlite:///{db}", api_key=API_KEY), Clock(SEEDED_AT), "platform_old")
    with caplog.at_level(logging.WARNING, logger="bot.platform.schema"):
        async with (
            serve(app) as url,
            aiohttp.ClientSession(url, headers={"X-Api-Key": API_KEY, **ZH}) as http,
            http.get("/api/v1/orders/80000001") as resp,
        ):
            assert resp.status == 200
            assert [i["name"] for i in (await resp.json())["items"]] == ["纯棉圆领T恤", "修身牛仔裤"]
    assert any("rebuilding" in r.getMessage() for r in caplog.records)
    engine = make_engine(f"sqlite:///{db}")
    try:
        assert schema.outdated_tables(engine) == []
        assert schema.prepare(engine) is False  # up to date: nothing dropped
        with make_sessionmaker(engine)() as session:
            assert session.scalars(select(OrderItem.name_zh)).first()
    finally:
        engine.dispose()


async def test_a_fresh_database_is_created_and_seeded_in_both_languages(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/var/platform.db"
    app = create_app(PlatformConfig(database_url=url, api_key=API_KEY), Clock(SEEDED_AT), "platform_fresh")
    async with (
        serve(app) as base,
        aiohttp.ClientSession(base, headers={"X-Api-Key": API_KEY, **ZH}) as http,
        http.get("/api/v1/orders/80000007/tracking") as resp,
    ):
        assert resp.status == 200
        assert (await resp.json())["shipments"][0]["exception"]["detail"] == "快递公司已确认包裹丢失。"


def test_cli_reseeds_an_old_database(seeded_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    shutil.copy(seeded_db, db)
    make_old(db)
    result = run_cli({"PLATFORM_API_KEY": "k", "PLATFORM_DATABASE_URL": f"sqlite:///{db}"}, "--reseed")
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(db) as conn:
        names = {row[0] for row in conn.execute("SELECT name_zh FROM order_items")}
    assert "纯棉圆领T恤" in names
