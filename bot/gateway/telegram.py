"""Telegram, owned by the gateway through python-telegram-bot: webhook or long polling, same desk as the web."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, json
from telegram import BotCommand, InlineKeyboardMarkup, Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.errors import ApiError, json_body
from bot.gateway.chats import Chats
from bot.gateway.desk import Desk
from bot.gateway.notices import say
from bot.gateway.telegram_text import COMMANDS, RATINGS, callback_data, keyboard, rating_keyboard, split_text
from bot.language import from_locale
from bot.tokens import same_secret

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/telegram/webhook"
RETRIES = 30  # a polled update whose handling failed (the database away) is tried again this many times,
RETRY_AFTER = 2.0  # this many seconds apart
RETRY = {"Retry-After": "2"}


@dataclass(frozen=True)
class TelegramSettings:
    token: str
    webhook_url: str | None = None
    secret: str | None = None
    base_url: str | None = None  # tests point this at a fake Bot API on loopback


class TelegramChannel:
    """One conversation per Telegram chat; inbound goes to the desk, outbound comes from the hub."""

    def __init__(self, desk: Desk, settings: TelegramSettings) -> None:
        self.desk = desk
        self.settings = settings
        self.chats = Chats(desk)
        builder = Application.builder().token(settings.token).rate_limiter(AIORateLimiter(max_retries=3))
        if settings.base_url:
            builder = builder.base_url(f"{settings.base_url}/bot").base_file_url(f"{settings.base_url}/file/bot")
        if settings.webhook_url:
            builder = builder.updater(None)
        self.app = builder.build()
        self.app.add_handler(CommandHandler("start", self.on_start))
        self.app.add_handler(CommandHandler("human", self.on_human))
        self.app.add_handler(CommandHandler("restart", self.on_restart))
        self.app.add_handler(CommandHandler("forget", self.on_forget))
        self.app.add_handler(CallbackQueryHandler(self.on_button))
        self.app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, self.on_text))
        self.app.add_handler(
            MessageHandler(~filters.TEXT & ~filters.COMMAND & ~filters.StatusUpdate.ALL, self.on_other)
        )
        self.app.add_handler(TypeHandler(Update, self.skip_handled), group=-1)
        self.app.add_error_handler(self.on_error)
        self._inline: dict[int, list[BaseException | None]] = {}  # webhook updates in hand, and their failures
        self._retries: dict[int, int] = {}  # polled updates that failed, and how often
        self._again: set[asyncio.Task[None]] = set()
        desk.hub.add_channel("telegram", self.deliver)

    async def start(self) -> None:
        self.chats.adopt_earlier_chats()
        await self.app.initialize()
        await self.app.start()
        for language, commands in COMMANDS.items():
            menu = [BotCommand(name, description) for name, description in commands]
            await self.app.bot.set_my_commands(menu, language_code=language)
        if self.settings.webhook_url:
            await self.app.bot.set_webhook(
                url=self.settings.webhook_url, secret_token=self.settings.secret, allowed_updates=Update.ALL_TYPES
            )
            log.info("telegram: webhook mode at %s", self.settings.webhook_url)

    async def poll(self) -> None:
        """Starts long polling (one gateway instance polls: the one leading, see `cluster.Leadership`)."""
        await self.app.bot.delete_webhook()
        assert self.app.updater is not None
        await self.app.updater.start_polling(poll_interval=0.2, timeout=5)
        log.info("telegram: long polling")

    async def unpoll(self) -> None:
        """Stops long polling; what was fetched and not confirmed is fetched again by the next poller."""
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()
            log.info("telegram: stopped polling")

    async def stop(self) -> None:
        for task in self._again:
            task.cancel()
        await asyncio.gather(*self._again, return_exceptions=True)
        await self.unpoll()
        await self.app.stop()
        await self.app.shutdown()

    # --- inbound --------------------------------------------------------------------------------

    def client_id(self, update: Update) -> str:
        """The message's own identity as its sender id, so an update delivered twice is stored once.

        Telegram's update ids restart after a week without updates, so they do not name a message for
        good; a button press has an id of its own, and a message is unique by bot, chat and message id.
        """
        bot = self.settings.token.split(":", 1)[0]
        if update.callback_query is not None:
            return f"telegram:{bot}:press:{update.callback_query.id}"
        chat, message = update.effective_chat, update.effective_message
        if chat is not None and message is not None:
            return f"telegram:{bot}:{chat.id}:{message.message_id}"
        return f"telegram:{bot}:update:{update.update_id}"

    async def skip_handled(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Before any handler: an update whose message is already stored (Telegram sent it again after a
        webhook call failed, or a new polling instance fetched what a stopped one had not confirmed) stops here."""
        if self.desk.turns.seen(self.client_id(update)):
            log.info("telegram: update %s was handled before", update.update_id)
            raise ApplicationHandlerStop

    async def _forward(self, update: Update, text: str, command_shown: str | None = None, button: bool = False) -> None:
        """Passes a message on; `command_shown` marks a command mapped to a payload, `button` a keyboard press."""
        chat, user = update.effective_chat, update.effective_user
        if chat is None:
            return
        conv_id = self._conversation(update)
        meta = {"telegram_user_id": user.id} if user else {}
        once = self.client_id(update)
        if command_shown is not None:
            await self.desk.turns.customer_message(
                conv_id, text, meta, label=command_shown, vouched=True, client_id=once
            )
            return
        # A pressed button counts if the bot offered it in this conversation; a forged one is typed text.
        pressed = next((b for b in self.desk.offered(conv_id) if button and callback_data(b["payload"]) == text), None)
        if pressed is None:
            await self.desk.turns.customer_message(conv_id, text, meta, client_id=once)
        else:
            await self.desk.turns.customer_message(
                conv_id, pressed["payload"], meta, label=pressed["title"], vouched=True, client_id=once
            )

    async def on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """`/start`: greets through the bot."""
        await self._forward(update, "hello", command_shown="/start")

    async def on_human(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """`/human`: asks for an agent."""
        await self._forward(update, "/human_agent", command_shown="/human")

    async def on_restart(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """`/restart`: starts a new conversation for this chat; the old one stays in the records."""
        if update.effective_chat is None:
            return
        conv_id = self._conversation(update, fresh=True)
        await self.desk.turns.customer_message(
            conv_id, "hello", label="/restart", vouched=True, client_id=self.client_id(update)
        )

    async def on_forget(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """`/forget`: revokes this Telegram account's link to a customer."""
        user, message = update.effective_user, update.effective_message
        if user is None or message is None:
            return
        revoked = self.chats.revoke(user.id)
        await self._reply(message, say(from_locale(user.language_code), "unlinked" if revoked else "no_link"))

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Plain text: the same conversation logic as the web."""
        message = update.effective_message
        if message is not None and message.text and message.text.strip():
            await self._forward(update, message.text.strip())

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An inline keyboard press is handled as the button's payload."""
        query = update.callback_query
        if query is None or query.data is None:
            return
        await query.answer()
        if update.effective_chat is None:  # a button on an inline-mode message: no chat to continue in
            return
        if query.data in RATINGS:
            await self._rate(update, int(query.data.split()[1]))
            return
        await self._forward(update, query.data, button=True)

    async def _rate(self, update: Update, rating: int) -> None:
        chat, message = update.effective_chat, update.effective_message
        if chat is None:
            return
        conv_id = self._conversation(update)
        try:
            self.desk.rate(conv_id, rating, "")
            answer = say(self.desk.language(conv_id), "rated")
        except ApiError:
            answer = say(self.desk.language(conv_id), "rate_not_resolved")
        if message is not None:
            await self._reply(message, answer)

    async def on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Photos, voice, stickers, documents: a polite answer, and a note in the transcript for the agent."""
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None:
            return
        kind = next(
            (k for k in ("photo", "voice", "sticker", "document", "video", "audio", "location") if getattr(message, k)),
            "attachment",
        )
        conv_id = self._conversation(update)
        self.desk.note(conv_id, f"[The customer sent a {kind} on Telegram; only text is read.]")
        await self._reply(message, say(self.desk.language(conv_id), "not_text"))

    def _conversation(self, update: Update, fresh: bool = False) -> str:
        """The chat's conversation; a new one starts in the language of the customer's Telegram app."""
        chat, user = update.effective_chat, update.effective_user
        assert chat is not None
        language = from_locale(user.language_code if user else None)
        return self.chats.conversation(chat.id, user.id if user else None, fresh=fresh, language=language)

    @staticmethod
    async def _reply(message: Any, text: str) -> None:
        """A direct answer in the chat; a chat that is gone or blocked the bot is logged, not raised."""
        try:
            await message.reply_text(text)
        except TelegramError as exc:
            log.warning("telegram: could not answer in chat %s: %s", message.chat_id, exc)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A handler failed (the database away, say): the update is handled again, never dropped in silence.

        A webhook update is answered 503, so Telegram delivers it again; a polled one was confirmed
        already, so it goes back in the queue a little later (a message stored meanwhile is not stored twice).
        """
        log.error("telegram handler failed", exc_info=context.error)
        if not isinstance(update, Update):
            return
        failures = self._inline.get(update.update_id)
        if failures is not None:
            failures.append(context.error)
            return
        tries = self._retries.pop(update.update_id, 0) + 1
        if tries > RETRIES:
            log.error("telegram: update %s dropped after %d tries", update.update_id, RETRIES)
            return
        self._retries[update.update_id] = tries
        while len(self._retries) > 1000:  # those that succeeded on a retry are forgotten, oldest first
            del self._retries[next(iter(self._retries))]
        task = asyncio.get_running_loop().create_task(self._queue_again(update))
        self._again.add(task)
        task.add_done_callback(self._again.discard)

    async def _queue_again(self, update: Update) -> None:
        await asyncio.sleep(RETRY_AFTER)
        await self.app.update_queue.put(update)

    # --- outbound -------------------------------------------------------------------------------

    async def deliver(self, conv_id: str, event: dict[str, Any]) -> None:
        """Sends bot, agent and system messages, and the rating request, to the conversation's chat."""
        chat_id = self.chats.chat_of(conv_id)
        if chat_id is None:
            return
        if event["type"] == "verified":
            self.chats.link(conv_id, str(event["customer_id"]))
            return
        if event["type"] == "rating_request":
            await self._send(conv_id, chat_id, say(self.desk.language(conv_id), "rate_prompt"), rating_keyboard())
            return
        if event["type"] != "message" or event["message"]["author"] in ("customer", "note"):  # notes: agents only
            return
        m = event["message"]
        text = f"{m['agent']}: {m['text']}" if m["author"] == "agent" and m.get("agent") else m["text"]
        markup = keyboard(m["buttons"]) if m.get("buttons") else None
        parts = split_text(text)
        for i, part in enumerate(parts):
            await self._send(conv_id, chat_id, part, markup if i == len(parts) - 1 else None)

    async def _send(self, conv_id: str, chat_id: int, text: str, markup: InlineKeyboardMarkup | None) -> None:
        try:
            await self.app.bot.send_message(chat_id, text, reply_markup=markup)
        except Forbidden:
            log.warning("telegram: chat %s blocked the bot", chat_id)
            self.desk.note(conv_id, "[The customer blocked the bot on Telegram: messages can no longer be delivered.]")
        except TelegramError as exc:
            log.error("telegram: could not send to %s: %s", chat_id, exc)

    async def handle_webhook(self, request: Request) -> HTTPResponse:
        """Checks the secret token header, then handles the update before answering Telegram."""
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not self.settings.secret or not same_secret(given, self.settings.secret):
            raise ApiError(403, "forbidden", "Wrong or missing secret token.")
        body = json_body(request)
        try:
            update = Update.de_json(body, self.app.bot)
        except Exception as exc:  # PTB raises whatever the malformed field provokes (KeyError, OverflowError, ...)
            raise ApiError(400, "invalid_update", "The body is not a Telegram update.") from exc
        chat = update.effective_chat if update is not None else None
        if update is None or (chat is not None and type(chat.id) is not int):
            raise ApiError(400, "invalid_update", "The body is not a Telegram update.")
        # Handled before answering, so a failure is a 503 and Telegram delivers the update again.
        self._inline[update.update_id] = []
        try:
            await self.app.process_update(update)
        finally:
            failures = self._inline.pop(update.update_id)
        if failures:
            raise ApiError(503, "unavailable", "The update could not be handled; deliver it again.", None, RETRY)
        return json({"ok": True})


telegram_api = Blueprint("telegram_api")


@telegram_api.post(WEBHOOK_PATH)
async def webhook(request: Request) -> HTTPResponse:
    channel: TelegramChannel | None = getattr(request.app.ctx, "telegram", None)
    if channel is None or not channel.settings.webhook_url:
        raise ApiError(404, "not_found", "Telegram webhook mode is not enabled.")
    return await channel.handle_webhook(request)
