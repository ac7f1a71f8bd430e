"""Rasa's input channel for the gateway: the REST channel, but only for callers holding the shared token.

Rasa's own REST channel accepts anyone who reaches the port, with any sender and any metadata
(including the customer id the actions trust). This one is the only way in for customer messages:
loaded by Rasa from credentials.yml, it answers 401 unless `Authorization: Bearer <token>` matches,
and 400 to a body the tracker store could not keep (it would stop Rasa).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, json

from bot import understood
from bot.errors import ApiError, json_body
from bot.tokens import bearer, same_secret

MAX_SENDER = 64
MAX_MESSAGE = 10_000


def check_message(body: dict[str, Any]) -> None:
    """A sender id and a text the tracker store can keep; metadata an object if given."""
    sender, message, metadata = body.get("sender"), body.get("message"), body.get("metadata")
    if not isinstance(sender, str) or not 0 < len(sender) <= MAX_SENDER:
        raise ApiError(400, "invalid_field", f"sender must be 1 to {MAX_SENDER} characters.", "sender")
    if not isinstance(message, str) or len(message) > MAX_MESSAGE:
        raise ApiError(400, "invalid_field", f"message must be text of at most {MAX_MESSAGE} characters.", "message")
    if metadata is not None and not isinstance(metadata, dict):
        raise ApiError(400, "invalid_field", "metadata must be an object.", "metadata")


class GatewayInput(RestInput):
    """`POST /webhooks/gateway/webhook` with the gateway's bearer token; same body and answer as REST."""

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("the gateway channel needs a token (credentials.yml: token: ${RASA_TOKEN})")
        self.token = token

    @classmethod
    def name(cls) -> str:
        return "gateway"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Reads `token` from credentials.yml (where `${RASA_TOKEN}` is filled from the environment)."""
        return cls(str((credentials or {}).get("token") or ""))

    def _extract_input_channel(self, req: Request) -> str:
        """The caller does not choose the channel recorded in the tracker."""
        return self.name()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Rasa's REST routes with the token and body checked before them, and each answer saying what the
        bot understood (bot/understood.py)."""

        async def handle(message: UserMessage) -> None:
            record, token = understood.open_record()
            try:
                await on_new_message(message)
            finally:
                understood.close_record(token)
            if "latest" in record and isinstance(message.output_channel, CollectingOutputChannel):
                signal = {"recipient_id": message.sender_id, "custom": record["latest"].message()}
                message.output_channel.messages.append(signal)

        bp = super().blueprint(handle)

        @bp.on_request
        async def check(request: Request) -> HTTPResponse | None:
            if not same_secret(bearer(request.headers.get("Authorization", "")), self.token):
                return json({"error": {"code": "unauthorized", "message": "A valid bearer token is required."}}, 401)
            if request.method == "POST":
                try:
                    check_message(json_body(request))  # json_body also refuses NULs and lone surrogates
                except ApiError as exc:
                    return json(exc.body(), exc.status)
            return None

        return cast(Blueprint, bp)
