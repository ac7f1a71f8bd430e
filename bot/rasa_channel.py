"""Rasa's input channel for the gateway: the REST channel, but only for callers holding the shared token.

Rasa's own REST channel accepts anyone who reaches the port, with any sender and any metadata
(including the customer id the actions trust). This one is the only way in for customer messages:
loaded by Rasa from credentials.yml, it answers 401 unless `Authorization: Bearer <token>` matches.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, json


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
        return cls(str((credentials or {}).get("token") or ""))

    def _extract_input_channel(self, req: Request) -> str:
        return self.name()  # the caller does not choose the channel recorded in the tracker

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = super().blueprint(on_new_message)

        @bp.on_request
        async def check_token(request: Request) -> HTTPResponse | None:
            header = request.headers.get("Authorization", "")
            given = header[7:].strip() if header.startswith("Bearer ") else ""
            if not hmac.compare_digest(given.encode("utf-8", "surrogatepass"), self.token.encode()):
                return json({"error": {"code": "unauthorized", "message": "A valid bearer token is required."}}, 401)
            body = request.json if request.method == "POST" else {}
            if request.method == "POST" and not (
                isinstance(body, dict) and isinstance(body.get("sender"), str) and isinstance(body.get("message"), str)
            ):
                return json({"error": {"code": "invalid_json", "message": "sender and message are required."}}, 400)
            return None

        return bp
