"""Tables of the platform stub: customers, orders, shipments, returns, refunds, tickets, failed checks.

Texts customers read have a `*_zh` column beside the English one (simplified Chinese); codes,
numbers and dates are stored once. A customer's own words (descriptions) are stored as written.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Column,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, relationship

from bot.db import UTCDateTime
from bot.platform.db import Base

# The largest id an Integer column holds on every backend (PostgreSQL's is 32-bit): no row has a larger one.
MAX_ID = 2**31 - 1


def _enum(cls: type[enum.Enum]) -> Enum:
    """Stores an enum by its value, portable across SQLite and PostgreSQL."""
    return Enum(cls, values_callable=lambda e: [m.value for m in e], native_enum=False, length=32)


class AccountStatus(str, enum.Enum):
    ACTIVE = "active"
    FROZEN = "frozen"


class OrderStatus(str, enum.Enum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class ShipmentStatus(str, enum.Enum):
    LABEL_CREATED = "label_created"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    LOST = "lost"
    DAMAGED = "damaged"
    RETURNED_TO_SENDER = "returned_to_sender"


class ReturnReason(str, enum.Enum):
    NO_REASON = "no_reason"
    QUALITY = "quality"


class QualityIssue(str, enum.Enum):
    DEFECTIVE = "defective"
    DAMAGED = "damaged_in_transit"
    NOT_AS_DESCRIBED = "not_as_described"
    INVALID_CODE = "invalid_code"


class ReturnStatus(str, enum.Enum):
    REQUESTED = "requested"
    APPROVED = "approved"
    RECEIVED = "received"
    COMPLETED = "completed"
    REJECTED = "rejected"


class RefundStage(str, enum.Enum):
    REQUESTED = "requested"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    PROCESSING = "processing"
    COMPLETED = "completed"
    REJECTED = "rejected"


class ComplaintCategory(str, enum.Enum):
    PRODUCT_QUALITY = "product_quality"
    DELIVERY = "delivery"
    SERVICE_ATTITUDE = "service_attitude"
    REFUND = "refund"
    FRAUD_SECURITY = "fraud_security"
    OTHER = "other"


class Severity(str, enum.Enum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = Column(Integer, primary_key=True)
    name: Mapped[str] = Column(String(100), nullable=False)
    email: Mapped[str] = Column(String(200), nullable=False, unique=True)
    phone: Mapped[str] = Column(String(32), nullable=False, unique=True)
    city: Mapped[str] = Column(String(64), nullable=False)
    city_zh: Mapped[str] = Column(String(64), nullable=False)
    account_status: Mapped[AccountStatus] = Column(_enum(AccountStatus), nullable=False, default=AccountStatus.ACTIVE)
    frozen_at: Mapped[datetime | None] = Column(UTCDateTime)
    freeze_reason: Mapped[str | None] = Column(Text)
    created_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)

    orders: Mapped[list[Order]] = relationship("Order", back_populates="customer")


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = Column(Integer, primary_key=True)
    number: Mapped[str] = Column(String(8), nullable=False, unique=True, index=True)
    customer_id: Mapped[int] = Column(ForeignKey("customers.id"), nullable=False, index=True)
    status: Mapped[OrderStatus] = Column(_enum(OrderStatus), nullable=False)
    payment_method: Mapped[str] = Column(String(32), nullable=False)
    currency: Mapped[str] = Column(String(3), nullable=False, default="CNY")
    shipping_fee_cents: Mapped[int] = Column(Integer, nullable=False, default=0)
    address_line: Mapped[str] = Column(String(200), nullable=False)
    address_line_zh: Mapped[str] = Column(String(200), nullable=False)
    address_city: Mapped[str] = Column(String(64), nullable=False)
    address_city_zh: Mapped[str] = Column(String(64), nullable=False)
    placed_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)
    paid_at: Mapped[datetime | None] = Column(UTCDateTime)
    shipped_at: Mapped[datetime | None] = Column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = Column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = Column(UTCDateTime)
    cancel_reason: Mapped[str | None] = Column(Text)
    cancel_reason_zh: Mapped[str | None] = Column(Text)

    customer: Mapped[Customer] = relationship("Customer", back_populates="orders")
    items: Mapped[list[OrderItem]] = relationship("OrderItem", back_populates="order", order_by="OrderItem.id")
    shipments: Mapped[list[Shipment]] = relationship("Shipment", back_populates="order", order_by="Shipment.id")
    returns: Mapped[list[ReturnRequest]] = relationship(
        "ReturnRequest", back_populates="order", order_by="ReturnRequest.id"
    )
    refunds: Mapped[list[Refund]] = relationship("Refund", back_populates="order", order_by="Refund.id")

    @property
    def total_cents(self) -> int:
        return int(sum(i.unit_price_cents * i.quantity for i in self.items) + self.shipping_fee_cents)


class OrderItem(Base):
    __tablename__ = "order_items"

    id: Mapped[int] = Column(Integer, primary_key=True)
    order_id: Mapped[int] = Column(ForeignKey("orders.id"), nullable=False, index=True)
    sku: Mapped[str] = Column(String(32), nullable=False)
    name: Mapped[str] = Column(String(200), nullable=False)
    name_zh: Mapped[str] = Column(String(200), nullable=False)
    category: Mapped[str] = Column(String(32), nullable=False)
    unit_price_cents: Mapped[int] = Column(Integer, nullable=False)
    quantity: Mapped[int] = Column(Integer, nullable=False, default=1)
    is_virtual: Mapped[bool] = Column(Boolean, nullable=False, default=False)
    is_perishable: Mapped[bool] = Column(Boolean, nullable=False, default=False)
    is_custom_made: Mapped[bool] = Column(Boolean, nullable=False, default=False)
    is_hygiene: Mapped[bool] = Column(Boolean, nullable=False, default=False)
    code_delivered_at: Mapped[datetime | None] = Column(UTCDateTime)

    order: Mapped[Order] = relationship("Order", back_populates="items")


class Shipment(Base):
    __tablename__ = "shipments"

    id: Mapped[int] = Column(Integer, primary_key=True)
    order_id: Mapped[int] = Column(ForeignKey("orders.id"), nullable=False, index=True)
    carrier: Mapped[str] = Column(String(64), nullable=False)
    carrier_zh: Mapped[str] = Column(String(64), nullable=False)
    tracking_number: Mapped[str] = Column(String(32), nullable=False, unique=True)
    status: Mapped[ShipmentStatus] = Column(_enum(ShipmentStatus), nullable=False)
    estimated_delivery: Mapped[datetime | None] = Column(UTCDateTime)
    handed_to_last_mile: Mapped[bool] = Column(Boolean, nullable=False, default=False)

    order: Mapped[Order] = relationship("Order", back_populates="shipments")
    events: Mapped[list[TrackingEvent]] = relationship(
        "TrackingEvent", back_populates="shipment", order_by="TrackingEvent.at"
    )


class TrackingEvent(Base):
    __tablename__ = "tracking_events"

    id: Mapped[int] = Column(Integer, primary_key=True)
    shipment_id: Mapped[int] = Column(ForeignKey("shipments.id"), nullable=False, index=True)
    at: Mapped[datetime] = Column(UTCDateTime, nullable=False)
    code: Mapped[str] = Column(String(32), nullable=False)
    location: Mapped[str] = Column(String(100), nullable=False)
    location_zh: Mapped[str] = Column(String(100), nullable=False)
    description: Mapped[str] = Column(String(200), nullable=False)
    description_zh: Mapped[str] = Column(String(200), nullable=False)

    shipment: Mapped[Shipment] = relationship("Shipment", back_populates="events")


class ReturnRequest(Base):
    __tablename__ = "return_requests"

    id: Mapped[int] = Column(Integer, primary_key=True)
    number: Mapped[str] = Column(String(10), nullable=False, unique=True)
    order_id: Mapped[int] = Column(ForeignKey("orders.id"), nullable=False, index=True)
    reason: Mapped[ReturnReason] = Column(_enum(ReturnReason), nullable=False)
    quality_issue: Mapped[QualityIssue | None] = Column(_enum(QualityIssue))
    description: Mapped[str] = Column(Text, nullable=False, default="")
    status: Mapped[ReturnStatus] = Column(_enum(ReturnStatus), nullable=False)
    refund_cents: Mapped[int] = Column(Integer, nullable=False)
    ship_back_by: Mapped[datetime | None] = Column(UTCDateTime)
    created_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)

    order: Mapped[Order] = relationship("Order", back_populates="returns")
    items: Mapped[list[ReturnItem]] = relationship("ReturnItem", back_populates="return_request")
    refund: Mapped[Refund | None] = relationship("Refund", back_populates="return_request", uselist=False)


class ReturnItem(Base):
    __tablename__ = "return_items"
    __table_args__ = (UniqueConstraint("return_id", "order_item_id"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    return_id: Mapped[int] = Column(ForeignKey("return_requests.id"), nullable=False)
    order_item_id: Mapped[int] = Column(ForeignKey("order_items.id"), nullable=False, index=True)

    return_request: Mapped[ReturnRequest] = relationship("ReturnRequest", back_populates="items")
    order_item: Mapped[OrderItem] = relationship("OrderItem")


class Refund(Base):
    __tablename__ = "refunds"

    id: Mapped[int] = Column(Integer, primary_key=True)
    number: Mapped[str] = Column(String(10), nullable=False, unique=True)
    order_id: Mapped[int] = Column(ForeignKey("orders.id"), nullable=False, index=True)
    return_id: Mapped[int | None] = Column(ForeignKey("return_requests.id"), unique=True)
    amount_cents: Mapped[int] = Column(Integer, nullable=False)
    cause: Mapped[str] = Column(String(32), nullable=False)
    stage: Mapped[RefundStage] = Column(_enum(RefundStage), nullable=False)
    rejection_reason: Mapped[str | None] = Column(Text)
    rejection_reason_zh: Mapped[str | None] = Column(Text)

    order: Mapped[Order] = relationship("Order", back_populates="refunds")
    return_request: Mapped[ReturnRequest | None] = relationship("ReturnRequest", back_populates="refund")
    events: Mapped[list[RefundEvent]] = relationship("RefundEvent", back_populates="refund", order_by="RefundEvent.id")


class RefundEvent(Base):
    __tablename__ = "refund_events"

    id: Mapped[int] = Column(Integer, primary_key=True)
    refund_id: Mapped[int] = Column(ForeignKey("refunds.id"), nullable=False, index=True)
    stage: Mapped[RefundStage] = Column(_enum(RefundStage), nullable=False)
    at: Mapped[datetime] = Column(UTCDateTime, nullable=False)
    note: Mapped[str] = Column(Text, nullable=False, default="")
    note_zh: Mapped[str] = Column(Text, nullable=False, default="")

    refund: Mapped[Refund] = relationship("Refund", back_populates="events")


class ComplaintTicket(Base):
    __tablename__ = "complaint_tickets"

    id: Mapped[int] = Column(Integer, primary_key=True)
    number: Mapped[str] = Column(String(10), nullable=False, unique=True)
    customer_id: Mapped[int] = Column(ForeignKey("customers.id"), nullable=False, index=True)
    order_id: Mapped[int | None] = Column(ForeignKey("orders.id"))
    category: Mapped[ComplaintCategory] = Column(_enum(ComplaintCategory), nullable=False)
    severity: Mapped[Severity] = Column(_enum(Severity), nullable=False)
    description: Mapped[str] = Column(Text, nullable=False)
    status: Mapped[str] = Column(String(16), nullable=False, default="open")
    created_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)
    due_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)

    customer: Mapped[Customer] = relationship("Customer")
    order: Mapped[Order | None] = relationship("Order")


class IdempotencyRecord(Base):
    """The stored answer to a keyed write, replayed when the same request comes again."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    scope: Mapped[str] = Column(String(64), nullable=False)
    key: Mapped[str] = Column(String(128), nullable=False)
    request_hash: Mapped[str] = Column(String(64), nullable=False)
    status_code: Mapped[int] = Column(Integer, nullable=False)
    response_json: Mapped[str] = Column(Text, nullable=False)  # the answer in English
    response_json_zh: Mapped[str] = Column(Text, nullable=False)  # the same answer in Chinese
    created_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)


class VerificationFailure(Base):
    """One failed ownership check of an order: the record that rate-limits guessing across conversations."""

    __tablename__ = "verification_failures"
    __table_args__ = (Index("ix_verification_failures_order_at", "order_id", "at"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    order_id: Mapped[int] = Column(ForeignKey("orders.id"), nullable=False)
    at: Mapped[datetime] = Column(UTCDateTime, nullable=False)


class SeedInfo(Base):
    """When the demo data was generated: every scenario date is relative to it."""

    __tablename__ = "seed_info"

    id: Mapped[int] = Column(Integer, primary_key=True)
    seeded_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)
    version: Mapped[int] = Column(Integer, nullable=False)
