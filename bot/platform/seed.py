"""Deterministic demo data: 13 scenario orders with fixed numbers, plus a seeded crowd.

All dates are relative to the seeding time, so the scenarios hold on any day. Every text a
customer reads is written in English and in Chinese (product names, cities, carriers, scans).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.platform import policy
from bot.platform.db import Base
from bot.platform.i18n import Text
from bot.platform.models import (
    Customer,
    Order,
    OrderItem,
    OrderStatus,
    QualityIssue,
    Refund,
    RefundEvent,
    RefundStage,
    ReturnItem,
    ReturnReason,
    ReturnRequest,
    ReturnStatus,
    SeedInfo,
    Shipment,
    ShipmentStatus,
    TrackingEvent,
)

SEED_VERSION = 2  # 2: texts in Chinese too
RANDOM_SEED = 20260101
CROWD_CUSTOMERS = 50
CROWD_ORDERS = 300
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    name_zh: str
    category: str
    price_cents: int
    virtual: bool = False
    perishable: bool = False
    custom_made: bool = False
    hygiene: bool = False


CATALOG = {
    p.sku: p
    for p in [
        Product("AP-TSHIRT", "Cotton T-shirt", "纯棉圆领T恤", "apparel", 7900),
        Product("AP-JEANS", "Slim denim jeans", "修身牛仔裤", "apparel", 25900),
        Product("AP-JACKET", "Down jacket", "白鸭绒羽绒服", "apparel", 89900),
        Product("AP-UNDIES", "Cotton underwear set", "纯棉内衣套装", "apparel", 12900, hygiene=True),
        Product("EL-EARBUDS", "Wireless earbuds", "真无线蓝牙耳机", "electronics", 49900),
        Product("EL-CHARGER", "65W phone charger", "65W手机快充充电器", "electronics", 14900),
        Product("EL-SPEAKER", "Bluetooth speaker", "便携蓝牙音箱", "electronics", 32900),
        Product("EL-KEYBOARD", "Mechanical keyboard", "机械键盘", "electronics", 45900),
        Product("FD-MANGO", "Fresh mangoes 5 kg", "新鲜芒果 5kg装", "food", 12800, perishable=True),
        Product("FD-DUMPLING", "Frozen dumplings 2 kg", "速冻水饺 2kg", "food", 6900, perishable=True),
        Product("FD-TEA", "Longjing green tea 250 g", "西湖龙井绿茶 250g", "food", 8800, perishable=True),
        Product("VG-TOPUP", "Game top-up code (680 diamonds)", "游戏充值卡（680钻石）", "virtual", 6800, virtual=True),
        Product("VG-VIDEO", "Video membership, 12 months", "视频会员年卡（12个月）", "virtual", 19800, virtual=True),
        Product("VG-LICENCE", "Antivirus licence key", "杀毒软件激活码", "virtual", 12900, virtual=True),
        Product("CU-PLATE", "Engraved wooden name plate", "定制刻字实木门牌", "home", 15900, custom_made=True),
        Product("CU-MUG", "Custom photo mug", "定制照片马克杯", "home", 5900, custom_made=True),
        Product("HM-VASE", "Ceramic vase", "陶瓷花瓶", "home", 21900),
        Product("HM-TOWEL", "Bath towel set", "纯棉浴巾套装", "home", 15900),
        Product("BT-CREAM", "Face cream 50 ml", "保湿面霜 50ml", "beauty", 29900, hygiene=True),
        Product("BT-BRUSH", "Toothbrush heads (4)", "电动牙刷替换刷头（4支装）", "beauty", 9900, hygiene=True),
        Product("BK-NOTES", "Notebook set", "笔记本套装", "books", 4500),
    ]
}
CITY_ZH = {
    "Shanghai": "上海",
    "Beijing": "北京",
    "Guangzhou": "广州",
    "Shenzhen": "深圳",
    "Hangzhou": "杭州",
    "Chengdu": "成都",
    "Wuhan": "武汉",
    "Nanjing": "南京",
    "Xi'an": "西安",
}
CITIES = list(CITY_ZH)
CARRIER_ZH = {
    "SF Express": "顺丰速运",
    "ZTO Express": "中通快递",
    "YTO Express": "圆通速递",
    "JD Logistics": "京东物流",
    "China Post EMS": "中国邮政EMS",
}
CARRIERS = list(CARRIER_ZH)
PAYMENTS = ["alipay", "wechat_pay", "card"]
STREET_ZH = {"Nanjing": "南京路", "Renmin": "人民路", "Jiefang": "解放路", "Zhongshan": "中山路", "Huaihai": "淮海路"}
STREETS = list(STREET_ZH)
SURNAMES = [
    "Zhao",
    "Qian",
    "Sun",
    "Zhou",
    "Wu",
    "Zheng",
    "Feng",
    "Huang",
    "Xu",
    "He",
    "Lin",
    "Gao",
    "Ma",
    "Luo",
]
GIVEN = ["Hao", "Jing", "Lei", "Na", "Qiang", "Xia", "Yan", "Yu", "Tao", "Ping", "Rui", "Ting", "Bo", "Mei"]

# Scenario customers: (name, email, phone, city).
SCENARIO_CUSTOMERS = {
    "li": ("Li Wei", "li.wei@example.com", "+8613800001001", "Shanghai"),
    "zhang": ("Zhang Min", "zhang.min@example.com", "+8613900002002", "Beijing"),
    "wang": ("Wang Fang", "wang.fang@example.com", "+8613700003003", "Hangzhou"),
    "chen": ("Chen Jie", "chen.jie@example.com", "+8613600004004", "Shenzhen"),
    "liu": ("Liu Yang", "liu.yang@example.com", "+8613500005005", "Chengdu"),
}


def working_days_before(moment: datetime, days: int) -> datetime:
    """The same time of day `days` working days earlier (weekends skipped)."""
    current = moment
    while days > 0:
        current -= DAY
        if current.weekday() < 5:
            days -= 1
    return current


class Builder:
    """Writes orders through their life: placed, paid, shipped, scanned, delivered, returned."""

    def __init__(self, session: Session, now: datetime, rng: random.Random) -> None:
        self.session = session
        self.now = now
        self.rng = rng
        self._tracking = 0

    def customer(self, name: str, email: str, phone: str, city: str) -> Customer:
        c = Customer(
            name=name, email=email, phone=phone, city=city, city_zh=CITY_ZH[city], created_at=self.now - 400 * DAY
        )
        self.session.add(c)
        return c

    def order(self, number: str, customer: Customer, skus: list[str], placed_at: datetime) -> Order:
        payment_method = self.rng.choice(PAYMENTS)
        house, street = self.rng.randint(1, 999), self.rng.choice(STREETS)
        o = Order(
            number=number,
            customer=customer,
            status=OrderStatus.PENDING_PAYMENT,
            payment_method=payment_method,
            shipping_fee_cents=0 if len(skus) > 1 else 800,
            address_city=customer.city,
            address_city_zh=customer.city_zh,
            address_line=f"{house} {street} Road",
            address_line_zh=f"{STREET_ZH[street]}{house}号",
            placed_at=placed_at,
        )
        for sku in skus:
            p = CATALOG[sku]
            o.items.append(
                OrderItem(
                    sku=p.sku,
                    name=p.name,
                    name_zh=p.name_zh,
                    category=p.category,
                    unit_price_cents=p.price_cents,
                    quantity=1,
                    is_virtual=p.virtual,
                    is_perishable=p.perishable,
                    is_custom_made=p.custom_made,
                    is_hygiene=p.hygiene,
                )
            )
        self.session.add(o)
        return o

    def pay(self, o: Order) -> Order:
        o.status = OrderStatus.PAID
        o.paid_at = o.placed_at + 10 * timedelta(minutes=1)
        return o

    def cancel(self, o: Order, at: datetime, reason: Text) -> Order:
        o.status = OrderStatus.CANCELLED
        o.cancelled_at = at
        o.cancel_reason, o.cancel_reason_zh = reason.en, reason.zh
        return o

    def deliver_codes(self, o: Order) -> Order:
        """Virtual goods: the code arrives by message a minute after payment."""
        assert o.paid_at is not None
        o.status = OrderStatus.DELIVERED
        o.delivered_at = o.paid_at + timedelta(minutes=1)
        for i in o.items:
            i.code_delivered_at = o.delivered_at
        return o

    def ship(self, o: Order, shipped_at: datetime, eta: datetime, scans_until: datetime) -> Shipment:
        """Ships the order with scans every ~20 hours from pick-up until `scans_until`."""
        self._tracking += 1
        carrier = self.rng.choice(CARRIERS)
        s = Shipment(
            carrier=carrier,
            carrier_zh=CARRIER_ZH[carrier],
            tracking_number=f"{carrier[:2].upper()}{7_100_000_000 + self._tracking}",
            status=ShipmentStatus.IN_TRANSIT,
            estimated_delivery=eta,
        )
        o.shipments.append(s)
        o.status = OrderStatus.SHIPPED
        o.shipped_at = shipped_at
        origin = self.rng.choice(CITIES)
        warehouse = Text(f"{origin} warehouse", f"{CITY_ZH[origin]}仓")
        s.events.append(event(shipped_at, "picked_up", warehouse, PICKED_UP))
        at, hop = shipped_at + 6 * HOUR, 0
        hubs = [
            Text(f"{origin} sorting centre", f"{CITY_ZH[origin]}分拨中心"),
            Text("Regional hub", "区域转运中心"),
            Text(f"{o.address_city} sorting centre", f"{o.address_city_zh}分拨中心"),
        ]
        while at <= scans_until:
            s.events.append(event(at, "in_transit", hubs[min(hop, len(hubs) - 1)], DEPARTED))
            at, hop = at + 20 * HOUR, hop + 1
        return s

    def scan(self, s: Shipment, at: datetime, code: str, description: Text, status: ShipmentStatus) -> None:
        station = Text(f"{s.order.address_city} delivery station", f"{s.order.address_city_zh}营业部")
        s.events.append(event(at, code, station, description))
        s.status = status

    def deliver(self, o: Order, delivered_at: datetime) -> Order:
        """Ships the order two days before `delivered_at` and delivers it then."""
        s = self.ship(o, delivered_at - 2 * DAY, delivered_at, delivered_at - 8 * HOUR)
        self.scan(s, delivered_at - 3 * HOUR, "out_for_delivery", OUT_FOR_DELIVERY, ShipmentStatus.OUT_FOR_DELIVERY)
        self.scan(s, delivered_at, "delivered", DELIVERED, ShipmentStatus.DELIVERED)
        s.handed_to_last_mile = True
        o.status = OrderStatus.DELIVERED
        o.delivered_at = delivered_at
        return o

    def return_with_refund(
        self,
        o: Order,
        created_at: datetime,
        stages: list[tuple[RefundStage, datetime]],
        reason: ReturnReason = ReturnReason.NO_REASON,
        issue: QualityIssue | None = None,
        rejection: Text | None = None,
    ) -> Refund:
        """A return of every item with its refund, having gone through `stages`."""
        final = stages[-1][0]
        status = {
            RefundStage.COMPLETED: ReturnStatus.COMPLETED,
            RefundStage.REJECTED: ReturnStatus.REJECTED,
            RefundStage.PROCESSING: ReturnStatus.RECEIVED,
            RefundStage.APPROVED: ReturnStatus.APPROVED,
        }.get(final, ReturnStatus.REQUESTED)
        amount = sum(i.unit_price_cents for i in o.items)
        ret = ReturnRequest(
            number=f"R{50_000_000 + int(o.number) % 10_000_000}",
            reason=reason,
            quality_issue=issue,
            description=""
            if reason == ReturnReason.NO_REASON
            else f"The item is {issue.value.replace('_', ' ') if issue else 'faulty'}.",
            status=status,
            refund_cents=amount,
            ship_back_by=policy.ship_back_deadline(created_at, list(o.items)),
            created_at=created_at,
            items=[ReturnItem(order_item=i) for i in o.items],
        )
        o.returns.append(ret)
        refund = Refund(
            number=f"F{60_000_000 + int(o.number) % 10_000_000}",
            return_request=ret,
            amount_cents=amount,
            cause="return",
            stage=final,
            rejection_reason=rejection.en if rejection else None,
            rejection_reason_zh=rejection.zh if rejection else None,
        )
        refund.events = [note(stage, at) for stage, at in stages]
        o.refunds.append(refund)
        return refund

    def refund_cancellation(self, o: Order, at: datetime) -> Refund:
        """A paid order cancelled before shipment is refunded in full."""
        stages = [
            (RefundStage.REQUESTED, at),
            (RefundStage.APPROVED, at + HOUR),
            (RefundStage.PROCESSING, at + 2 * HOUR),
        ]
        done = at + 2 * DAY
        if done < self.now:
            stages.append((RefundStage.COMPLETED, done))
        refund = Refund(
            number=f"F{60_000_000 + int(o.number) % 10_000_000}",
            amount_cents=o.total_cents,
            cause="cancellation",
            stage=stages[-1][0],
        )
        refund.events = [note(stage, t) for stage, t in stages]
        o.refunds.append(refund)
        return refund


PICKED_UP = Text("Picked up by the carrier", "快递员已揽收")
DEPARTED = Text("Departed the facility", "快件已发出")
OUT_FOR_DELIVERY = Text("Out for delivery", "快件正在派送中")
DELIVERED = Text("Delivered, signed by the recipient", "已签收，签收人：本人")
LOST = Text("Declared lost by the carrier", "快递公司已确认快件丢失")
CARRIER_REPORTS = {
    "lost": Text("Carrier reported: lost", "快递公司反馈：快件丢失"),
    "damaged": Text("Carrier reported: damaged", "快递公司反馈：快件破损"),
    "returned_to_sender": Text("Carrier reported: returned to sender", "快递公司反馈：快件退回寄件人"),
}
NOTES = {
    RefundStage.REQUESTED: Text("Refund requested.", "已提交退款申请。"),
    RefundStage.UNDER_REVIEW: Text("Waiting for the after-sales review.", "等待售后审核。"),
    RefundStage.APPROVED: Text("Approved by the after-sales team.", "售后审核已通过。"),
    RefundStage.PROCESSING: Text("Sent to the payment provider.", "已提交支付机构处理。"),
    RefundStage.COMPLETED: Text("Refunded to the original payment method.", "已原路退回至付款账户。"),
    RefundStage.REJECTED: Text("Rejected after review.", "审核未通过。"),
}
REJECTION = Text(
    "The photos show the item was worn and the tags removed; a return needs the item unused, "
    "with tags, in its original packaging.",
    "照片显示商品已穿着且吊牌已拆除；退货需商品未使用、吊牌完好并保持原包装，不影响二次销售。",
)
CANCELLED_UNPAID = Text(
    "Cancelled by the customer before payment; nothing was charged.", "买家在付款前取消了订单，未产生扣款。"
)
NOT_PAID_IN_TIME = Text("Not paid in time.", "超时未付款，订单已自动取消。")
CANCELLED_BEFORE_SHIPMENT = Text("Cancelled by the customer before shipment.", "买家在发货前取消了订单。")


def event(at: datetime, code: str, location: Text, description: Text) -> TrackingEvent:
    """One carrier scan, with its place and words in both languages."""
    return TrackingEvent(
        at=at,
        code=code,
        location=location.en,
        location_zh=location.zh,
        description=description.en,
        description_zh=description.zh,
    )


def note(stage: RefundStage, at: datetime) -> RefundEvent:
    """A refund reaching `stage`, with the stage's note in both languages."""
    return RefundEvent(stage=stage, at=at, note=NOTES[stage].en, note_zh=NOTES[stage].zh)


def scenarios(b: Builder, people: dict[str, Customer]) -> None:
    """The 13 orders of the README's scenario table, with fixed numbers and relative dates."""
    now = b.now
    li, zhang, wang, chen, liu = (people[k] for k in ("li", "zhang", "wang", "chen", "liu"))

    b.deliver(b.pay(b.order("80000001", li, ["AP-TSHIRT", "AP-JEANS"], now - 6 * DAY)), now - 3 * DAY)
    b.deliver(b.pay(b.order("80000002", zhang, ["EL-EARBUDS"], now - 15 * DAY)), now - 12 * DAY)
    b.deliver(b.pay(b.order("80000003", wang, ["FD-MANGO"], now - 4 * DAY)), now - 2 * DAY)
    b.deliver_codes(b.pay(b.order("80000004", wang, ["VG-TOPUP"], now - 1 * DAY)))

    o5 = b.pay(b.order("80000005", li, ["EL-SPEAKER"], now - 3 * DAY))
    b.ship(o5, now - 2 * DAY, now + 2 * DAY, now - 5 * HOUR)

    o6 = b.pay(b.order("80000006", zhang, ["HM-VASE"], now - 8 * DAY))
    b.ship(o6, now - 7 * DAY, now + 1 * DAY, now - 4 * DAY)

    o7 = b.pay(b.order("80000007", chen, ["EL-KEYBOARD"], now - 11 * DAY))
    s7 = b.ship(o7, now - 10 * DAY, now - 6 * DAY, now - 8 * DAY)
    b.scan(s7, now - 1 * DAY, "lost", LOST, ShipmentStatus.LOST)

    o8 = b.deliver(b.pay(b.order("80000008", chen, ["AP-JACKET"], now - 8 * DAY)), now - 5 * DAY)
    asked = now - 1 * DAY
    b.return_with_refund(
        o8,
        asked,
        [(RefundStage.REQUESTED, asked), (RefundStage.UNDER_REVIEW, asked + 5 * timedelta(minutes=1))],
    )

    o9 = b.deliver(b.pay(b.order("80000009", liu, ["EL-CHARGER"], now - 12 * DAY)), now - 9 * DAY)
    approved = working_days_before(now, 2)
    b.return_with_refund(
        o9,
        approved - 1 * DAY,
        [
            (RefundStage.REQUESTED, approved - 1 * DAY),
            (RefundStage.UNDER_REVIEW, approved - 1 * DAY + HOUR),
            (RefundStage.APPROVED, approved),
            (RefundStage.PROCESSING, approved + 2 * HOUR),
        ],
        ReturnReason.QUALITY,
        QualityIssue.DEFECTIVE,
    )

    o10 = b.deliver(b.pay(b.order("80000010", liu, ["HM-TOWEL"], now - 25 * DAY)), now - 20 * DAY)
    b.return_with_refund(
        o10,
        now - 16 * DAY,
        [
            (RefundStage.REQUESTED, now - 16 * DAY),
            (RefundStage.UNDER_REVIEW, now - 16 * DAY + HOUR),
            (RefundStage.APPROVED, now - 15 * DAY),
            (RefundStage.PROCESSING, now - 15 * DAY + HOUR),
            (RefundStage.COMPLETED, now - 11 * DAY),
        ],
    )

    b.pay(b.order("80000011", li, ["BK-NOTES", "HM-TOWEL"], now - 1 * DAY))
    b.cancel(
        b.order("80000012", zhang, ["AP-UNDIES"], now - 6 * DAY),
        now - 6 * DAY + 2 * HOUR,
        CANCELLED_UNPAID,
    )

    o13 = b.deliver(b.pay(b.order("80000013", chen, ["AP-JEANS"], now - 10 * DAY)), now - 9 * DAY)
    b.return_with_refund(
        o13,
        now - 6 * DAY,
        [
            (RefundStage.REQUESTED, now - 6 * DAY),
            (RefundStage.UNDER_REVIEW, now - 6 * DAY + HOUR),
            (RefundStage.REJECTED, now - 4 * DAY),
        ],
        ReturnReason.QUALITY,
        QualityIssue.NOT_AS_DESCRIBED,
        rejection=REJECTION,
    )


KINDS = [
    "pending_payment", "paid", "cancelled_unpaid", "cancelled_refunded", "virtual", "in_transit",
    "out_for_delivery", "delayed", "overdue", "lost", "damaged", "returned_to_sender", "delivered",
    "delivered", "delivered", "delivered", "return_review", "refund_processing", "refund_completed",
    "refund_rejected", "label_created", "refund_requested", "refund_approved",
]  # fmt: skip


def crowd_order(b: Builder, number: str, customer: Customer, kind: str) -> None:
    """One order of the seeded crowd, in the state `kind`, at a random but seeded age."""
    rng, now = b.rng, b.now
    skus = rng.sample(sorted(s for s, p in CATALOG.items() if not p.virtual), rng.choice([1, 1, 2, 3]))
    if kind == "virtual":
        skus = [rng.choice(["VG-TOPUP", "VG-VIDEO", "VG-LICENCE"])]
    age = DAY * rng.uniform(1, 60)
    o = b.order(number, customer, skus, now - age - 3 * DAY)
    if kind == "pending_payment":
        o.placed_at = now - HOUR * rng.uniform(1, 20)
    elif kind == "cancelled_unpaid":
        b.cancel(o, o.placed_at + HOUR, NOT_PAID_IN_TIME)
    elif kind == "paid":
        o.placed_at = now - HOUR * rng.uniform(2, 40)
        b.pay(o)
    elif kind == "cancelled_refunded":
        b.cancel(b.pay(o), o.placed_at + 3 * HOUR, CANCELLED_BEFORE_SHIPMENT)
        b.refund_cancellation(o, o.placed_at + 3 * HOUR)
    elif kind == "virtual":
        b.deliver_codes(b.pay(o))
    elif kind == "label_created":
        o.placed_at = now - HOUR * rng.uniform(5, 30)
        b.pay(o).shipments.append(
            Shipment(
                carrier="SF Express",
                carrier_zh=CARRIER_ZH["SF Express"],
                tracking_number=f"SF{7_200_000_000 + int(number)}",
                status=ShipmentStatus.LABEL_CREATED,
                estimated_delivery=now + 3 * DAY,
            )
        )
    elif kind == "refund_requested":
        delivered_with_after_sales(b, b.pay(o), now - DAY * rng.uniform(1, 6), kind)
    elif kind in IN_FLIGHT:
        in_flight(b, o, kind)
    else:
        delivered_with_after_sales(b, b.pay(o), now - age, kind)


IN_FLIGHT = ("in_transit", "out_for_delivery", "delayed", "overdue", "lost", "damaged", "returned_to_sender")


def in_flight(b: Builder, o: Order, kind: str) -> None:
    """A shipped order still on its way, on time or with an exception."""
    rng, now = b.rng, b.now
    b.pay(o)
    if kind in ("in_transit", "out_for_delivery"):
        s = b.ship(o, now - DAY * rng.uniform(1, 2), now + DAY * rng.uniform(1, 3), now - HOUR * rng.uniform(2, 20))
        if kind == "out_for_delivery":
            b.scan(s, now - HOUR, "out_for_delivery", OUT_FOR_DELIVERY, ShipmentStatus.OUT_FOR_DELIVERY)
            s.handed_to_last_mile = True
    elif kind == "delayed":
        b.ship(o, now - 8 * DAY, now + DAY, now - DAY * rng.uniform(3.2, 6))
    elif kind == "overdue":
        b.ship(o, now - 6 * DAY, now - DAY * rng.uniform(1, 2), now - DAY * rng.uniform(0.2, 1.5))
    else:
        s = b.ship(o, now - 12 * DAY, now - 8 * DAY, now - 9 * DAY)
        b.scan(s, now - DAY * rng.uniform(0.5, 3), kind, CARRIER_REPORTS[kind], ShipmentStatus(kind))
    assert o.shipped_at is not None
    o.placed_at = o.shipped_at - DAY * rng.uniform(0.3, 1.5)
    o.paid_at = o.placed_at + 10 * timedelta(minutes=1)


def delivered_with_after_sales(b: Builder, o: Order, delivered: datetime, kind: str) -> None:
    """A delivered order, with a return and refund at the stage `kind` names, if any."""
    rng, now = b.rng, b.now
    b.deliver(o, delivered)
    if kind == "refund_requested":
        asked = now - HOUR * rng.uniform(0.2, 0.9)
        b.return_with_refund(o, asked, [(RefundStage.REQUESTED, asked)])
        return
    asked = delivered + DAY * rng.uniform(0.5, 5)
    if kind == "delivered" or asked + 3 * DAY > now:
        return
    stages = [(RefundStage.REQUESTED, asked), (RefundStage.UNDER_REVIEW, asked + HOUR)]
    if kind == "refund_rejected":
        stages.append((RefundStage.REJECTED, asked + DAY))
        b.return_with_refund(o, asked, stages, rejection=REJECTION)
        return
    if kind in ("refund_approved", "refund_processing", "refund_completed"):
        stages.append((RefundStage.APPROVED, asked + DAY))
    if kind in ("refund_processing", "refund_completed"):
        stages.append((RefundStage.PROCESSING, asked + DAY + HOUR))
    if kind == "refund_completed" and asked + 6 * DAY < now:
        stages.append((RefundStage.COMPLETED, asked + 6 * DAY))
    b.return_with_refund(o, asked, stages)


def seed(session: Session, now: datetime) -> None:
    """Writes the whole demo data set into an empty database."""
    rng = random.Random(RANDOM_SEED)
    b = Builder(session, now, rng)
    people = {key: b.customer(*data) for key, data in SCENARIO_CUSTOMERS.items()}
    scenarios(b, people)
    crowd = [
        b.customer(
            f"{GIVEN[n % len(GIVEN)]} {SURNAMES[n // len(GIVEN) % len(SURNAMES)]}",
            f"customer{n + 1:03d}@example.com",
            f"+86158{n + 1:08d}",
            rng.choice(CITIES),
        )
        for n in range(CROWD_CUSTOMERS)
    ]
    for n in range(CROWD_ORDERS):
        kind = KINDS[n] if n < len(KINDS) else rng.choice(KINDS)
        crowd_order(
            b,
            f"{81_000_001 + n}",
            crowd[n % CROWD_CUSTOMERS] if n < CROWD_CUSTOMERS else rng.choice(crowd),
            kind,
        )
    session.add(SeedInfo(seeded_at=now, version=SEED_VERSION))


def ensure_seeded(session: Session, now: datetime, force: bool = False) -> bool:
    """Seeds an empty database (or any, with `force`); says whether it wrote the data."""
    if not force and session.scalar(select(func.count()).select_from(SeedInfo)):
        return False
    if force:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(delete(table))
    seed(session, now)
    return True


def seeded_at(session: Session) -> datetime | None:
    info = session.scalars(select(SeedInfo).order_by(SeedInfo.id.desc())).first()
    return info.seeded_at if info else None
