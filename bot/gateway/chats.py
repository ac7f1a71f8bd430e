"""Conversations of chat channels (Telegram): which conversation a chat is in, and linked accounts.

A chat keeps its conversation until `/restart` opens a new one; older ones stay in the records
and still receive what agents send. An account that verified once is linked to the customer
(revocable with `/forget`), so its next conversations start verified.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.gateway.desk import Desk
from bot.gateway.models import ChannelChat, Conversation, TelegramLink


class Chats:
    """The chat channel's view of conversations; the channel never touches the database itself."""

    def __init__(self, desk: Desk, channel: str = "telegram") -> None:
        self.desk = desk
        self.channel = channel

    def conversation(self, chat_id: int, user_id: int | None, fresh: bool = False, language: str = "en") -> str:
        """The chat's open conversation, or a new one (`fresh`, or none yet) carrying the account's customer.

        A new conversation starts in `language` (the app's), until the customer's words say otherwise.
        """
        with self.desk.sessions() as s:
            row = s.scalars(
                select(ChannelChat)
                .where(ChannelChat.channel == self.channel, ChannelChat.chat_id == str(chat_id))
                .order_by(ChannelChat.id.desc())
                .limit(1)
            ).first()
            if row is not None and not fresh:
                return str(row.conversation_id)
            # A linked account's customer only in its private chat: in a group, others would read its data.
            link = _link(s, user_id) if user_id is not None and user_id == chat_id else None
            customer_id = link.customer_id if link else None
        conv_id, _ = self.desk.open(self.channel, None, customer_id, language)
        with self.desk.sessions.begin() as s:
            s.add(
                ChannelChat(
                    channel=self.channel,
                    chat_id=str(chat_id),
                    user_id=str(user_id) if user_id is not None else None,
                    conversation_id=conv_id,
                    opened_at=self.desk.clock(),
                )
            )
        return conv_id

    def chat_of(self, conv_id: str) -> int | None:
        """Where the conversation's messages go, if it is one of this channel's."""
        with self.desk.sessions() as s:
            row = s.scalars(select(ChannelChat).where(ChannelChat.conversation_id == conv_id)).first()
            return int(row.chat_id) if row is not None and row.channel == self.channel else None

    def link(self, conv_id: str, customer_id: str) -> None:
        """Remembers that the account writing in this private chat proved to be `customer_id`.

        Only a private chat (its id is the account's) is linked: in a group, whoever verified is
        not known to be the account that opened the conversation.
        """
        with self.desk.sessions.begin() as s:
            row = s.scalars(select(ChannelChat).where(ChannelChat.conversation_id == conv_id)).first()
            if row is None or row.user_id is None or row.user_id != row.chat_id or _link(s, int(row.user_id)):
                return
            s.add(TelegramLink(telegram_user_id=row.user_id, customer_id=customer_id, linked_at=self.desk.clock()))

    def revoke(self, user_id: int) -> bool:
        """`/forget`: the account's link ends; says whether there was one."""
        with self.desk.sessions.begin() as s:
            found = _link(s, user_id)
            if found is None:
                return False
            found.revoked_at = self.desk.clock()
            return True

    def adopt_earlier_chats(self) -> int:
        """Conversations of a version that kept the chat id in `external_id` ("<chat>[:closed:<id>]")."""
        with self.desk.sessions.begin() as s:
            known = select(ChannelChat.conversation_id)
            rows = s.scalars(
                select(Conversation)
                .where(
                    Conversation.channel == self.channel,
                    Conversation.external_id.is_not(None),
                    Conversation.id.not_in(known),
                )
                .order_by(Conversation.created_at)  # the newest of a chat becomes its open one
            ).all()
            for conv in rows:
                chat = str(conv.external_id).split(":")[0]
                if chat.lstrip("-").isdigit():
                    user = None if chat.startswith("-") else chat  # a private chat's id is its account's
                    s.add(
                        ChannelChat(
                            channel=self.channel,
                            chat_id=chat,
                            user_id=user,
                            conversation_id=conv.id,
                            opened_at=conv.created_at,
                        )
                    )
            return len(rows)


def _link(s: Session, user_id: int | None) -> TelegramLink | None:
    if user_id is None:
        return None
    found = s.scalars(
        select(TelegramLink).where(TelegramLink.telegram_user_id == str(user_id), TelegramLink.revoked_at.is_(None))
    ).first()
    return cast("TelegramLink | None", found)
