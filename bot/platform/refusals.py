"""4xx answers in the request's language: the bot may show their message to the customer.

A `Refusal` is an `ApiError` that carries its message in both languages; the platform's handler
for it answers with the one Accept-Language prefers. Errors of the shared plumbing (malformed
JSON, a body field's validation) are for developers and stay English.
"""

from __future__ import annotations

from typing import Any

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, json

from bot.errors import ApiError
from bot.platform.i18n import Lang, Text, preferred


class Refusal(ApiError):
    """An ApiError whose message is a `Text`; `message` stays the English one."""

    def __init__(
        self, status: int, code: str, text: Text, field: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status, code, text.en, field, headers)
        self.text = text

    def body_in(self, lang: Lang) -> dict[str, Any]:
        body = self.body()
        body["error"]["message"] = self.text.pick(lang)
        return body


def bad_request(field: str, text: Text) -> Refusal:
    return Refusal(400, "invalid_field", text, field)


def not_found(what: Text, key: str) -> Refusal:
    return Refusal(404, "not_found", Text(f"No {what.en} {key!r}.", f"未找到{what.zh}“{key}”。"))


def conflict(code: str, text: Text) -> Refusal:
    return Refusal(409, code, text)


def too_many_attempts(text: Text, retry_after: int) -> Refusal:
    """A 429 whose Retry-After header says how many whole seconds to wait."""
    return Refusal(429, "too_many_attempts", text, headers={"Retry-After": str(max(1, retry_after))})


def install_refusal_handler(app: Sanic) -> None:
    """Answers a Refusal in the request's language (Sanic picks this handler over ApiError's)."""

    @app.exception(Refusal)
    async def _refusal(request: Request, exc: Refusal) -> HTTPResponse:
        lang = preferred(request.headers.get("Accept-Language"))
        return json(exc.body_in(lang), status=exc.status, headers=exc.headers)
