"""Tables of the gateway: conversations, their transcript and status history, agents."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Column, Enum, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, declarative_base, relationship

from bot.contract import Priority
from bot.db import UTCDateTime

Base: Any = declarative_base()


class Status(str, enum.Enum):
    BOT = "bot"
    QUEUED = "queued"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"


def enum_column(kind: type[enum.Enum]) -> Enum:
    """An enum stored as its value in a VARCHAR(16), as the columns always were: no schema change."""
    return Enum(kind, native_enum=False, length=16, values_callable=lambda members: [m.value for m in members])


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[int] = Column(Integer, primary_key=True)
    username: Mapped[str] = Column(String(64), nullable=False, unique=True)
    display_name: Mapped[str] = Column(String(100), nullable=False)
    password_hash: Mapped[str] = Column(String(200), nullable=False)
    skills: Mapped[str] = Column(String(200), nullable=False, default="general")
    created_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)
    last_seen_at: Mapped[datetime | None] = Column(UTCDateTime)
    role: Mapped[str] = Column(String(16), nullable=False, default="agent", server_default="agent")  # or supervisor
    # What the agent chose (online | away); they are offline, whatever they chose, without an open console.
    presence: Mapped[str] = Column(String(16), nullable=False, default="online", server_default="online")

    @property
    def skill_list(self) -> list[str]:
        return [s for s in self.skills.split(",") if s]

    @property
    def supervisor(self) -> bool:
        return bool(self.role == "supervisor")


class AgentToken(Base):
    __tablename__ = "agent_tokens"

    token_hash: Mapped[str] = Column(String(64), primary_key=True)
    agent_id: Mapped[int] = Column(ForeignKey("agents.id"), nullable=False)
    expires_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)

    agent: Mapped[Agent] = relationship("Agent")


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[str] = Column(String(32), primary_key=True)
    channel: Mapped[str] = Column(String(16), nullable=False, default="web")
    external_id: Mapped[str | None] = Column(String(64))
    token_hash: Mapped[str] = Column(String(64), nullable=False)
    status: Mapped[Status] = Column(enum_column(Status), nullable=False, default=Status.BOT)
    priority: Mapped[Priority | None] = Column(enum_column(Priority))
    skill: Mapped[str | None] = Column(String(32))
    reason: Mapped[str | None] = Column(String(64))
    summary: Mapped[str | None] = Column(Text)
    summary_zh: Mapped[str | None] = Column(Text)  # the escalation summary for agents who read Chinese
    language: Mapped[str] = Column(String(8), nullable=False, server_default="en")  # bot/language.py's codes
    bot_language: Mapped[str | None] = Column(String(8))  # the language Rasa's slot was last set to
    order_number: Mapped[str | None] = Column(String(8))
    customer_id: Mapped[str | None] = Column(String(32))
    assignee_id: Mapped[int | None] = Column(ForeignKey("agents.id"))
    waiting_since: Mapped[datetime | None] = Column(UTCDateTime)
    last_seq: Mapped[int] = Column(Integer, nullable=False, default=0)
    rating: Mapped[int | None] = Column(Integer)
    rating_comment: Mapped[str | None] = Column(Text)
    created_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)

    assignee: Mapped[Agent | None] = relationship("Agent")
    changes: Mapped[list[StatusChange]] = relationship(
        "StatusChange", back_populates="conversation", order_by="StatusChange.id"
    )


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq"),
        Index("ix_messages_client_id", "client_id", unique=True),
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    conversation_id: Mapped[str] = Column(ForeignKey("conversations.id"), nullable=False, index=True)
    seq: Mapped[int] = Column(Integer, nullable=False)
    # The sender's id of a customer's message (a widget's random id, a Telegram update): stored once.
    client_id: Mapped[str | None] = Column(String(80))
    author: Mapped[str] = Column(String(16), nullable=False)  # customer | bot | agent | system | note (agents only)
    agent_id: Mapped[int | None] = Column(ForeignKey("agents.id"))
    text: Mapped[str] = Column(Text, nullable=False)
    buttons_json: Mapped[str | None] = Column(Text)
    created_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)
    # What the bot read in a customer's message (the contract's `understood`), and whether it answered
    # with its fallback: the reports' top intents and what to teach the bot next. None: not read by it.
    intent: Mapped[str | None] = Column(String(64))
    confidence: Mapped[float | None] = Column(Float)
    fallback: Mapped[bool | None] = Column(Boolean)

    agent: Mapped[Agent | None] = relationship("Agent")


class StatusChange(Base):
    """One transition of a conversation, with who made it and why: the audit trail and the metrics."""

    __tablename__ = "status_changes"

    id: Mapped[int] = Column(Integer, primary_key=True)
    conversation_id: Mapped[str] = Column(ForeignKey("conversations.id"), nullable=False, index=True)
    from_status: Mapped[Status | None] = Column(enum_column(Status))
    to_status: Mapped[Status] = Column(enum_column(Status), nullable=False)
    actor: Mapped[str] = Column(String(80), nullable=False)
    reason: Mapped[str] = Column(String(200), nullable=False)
    at: Mapped[datetime] = Column(UTCDateTime, nullable=False)

    conversation: Mapped[Conversation] = relationship("Conversation", back_populates="changes")


class TelegramLink(Base):
    """A Telegram account that proved once to be a customer; revocable (`/forget`), never deleted."""

    __tablename__ = "telegram_links"

    id: Mapped[int] = Column(Integer, primary_key=True)
    telegram_user_id: Mapped[str] = Column(String(32), nullable=False, index=True)
    customer_id: Mapped[str] = Column(String(32), nullable=False)
    linked_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)
    revoked_at: Mapped[datetime | None] = Column(UTCDateTime)


class PendingTurn(Base):
    """A customer message stored but not yet answered by the bot nor queued: the gateway's outbox.

    Written in the same transaction as the message and deleted in the one that stores the answer
    or the escalation, so a gateway killed in between finds it on start and finishes the turn.
    """

    __tablename__ = "pending_turns"

    id: Mapped[int] = Column(Integer, primary_key=True)
    conversation_id: Mapped[str] = Column(ForeignKey("conversations.id"), nullable=False, index=True)
    text: Mapped[str] = Column(Text, nullable=False)  # what the bot is sent (a button's payload, not its title)
    metadata_json: Mapped[str] = Column(Text, nullable=False, default="{}")
    created_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)
    message_id: Mapped[int | None] = Column(Integer)  # the customer's message it answers (None: older rows)


class ChannelChat(Base):
    """A chat of a chat channel (Telegram) and a conversation held in it; the newest row is the open one."""

    __tablename__ = "channel_chats"

    id: Mapped[int] = Column(Integer, primary_key=True)
    channel: Mapped[str] = Column(String(16), nullable=False)
    chat_id: Mapped[str] = Column(String(32), nullable=False, index=True)
    user_id: Mapped[str | None] = Column(String(32))  # the account that wrote, not the chat (they differ in groups)
    conversation_id: Mapped[str] = Column(ForeignKey("conversations.id"), nullable=False, unique=True)
    opened_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)


class CannedReply(Base):
    """A reply agents insert with a shortcut, in one language; `{order_number}`, `{customer_name}` and
    `{agent_name}` are filled from the conversation when it is used."""

    __tablename__ = "canned_replies"
    __table_args__ = (UniqueConstraint("shortcut", "language"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    shortcut: Mapped[str] = Column(String(32), nullable=False)
    language: Mapped[str] = Column(String(8), nullable=False)  # en | zh
    text: Mapped[str] = Column(Text, nullable=False)
