"""Async client of the platform API (used by the actions and the gateway): 3 s timeouts, one retry.

The client asks for texts in its conversation's language (Accept-Language: zh-CN or en); the
platform's codes, numbers and dates are the same in both.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from bot.settings import DEMO_PLATFORM_KEY, demo_mode

log = logging.getLogger(__name__)

DEFAULT_URL = "http://127.0.0.1:8100"


class PlatformUnavailable(Exception):
    """The platform did not answer in time, answered 5xx, or could not be reached."""


class PlatformRejected(Exception):
    """The platform refused the request (4xx); `code` is its stable error code, `retry_after` its Retry-After."""

    def __init__(self, status: int, code: str, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after


def accept_language(language: str) -> str:
    """The Accept-Language header for a conversation language: any zh* is zh-CN, the rest English."""
    return "zh-CN" if (language or "").lower().startswith("zh") else "en"


def retry_after_seconds(value: str | None) -> int | None:
    """A Retry-After header given in whole seconds (how the platform sends it), else None."""
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 9 else None


# Idle connections are closed after this many seconds, before the platform's server would close them
# (Sanic keeps an idle connection 5 s), so a request never goes out on a connection being closed.
KEEPALIVE_SECONDS = 2.0
_kept: dict[asyncio.AbstractEventLoop, aiohttp.ClientSession] = {}


def keep_connections() -> None:
    """From now on, clients in the running event loop share one session and so reuse connections.

    For a server's lifetime (the action server calls it at start and `release_connections` at stop):
    a new session per call opened a TCP connection to the platform per call, which cost both sides more
    than the call itself on loopback. Without it every call has a session of its own.
    """
    loop = asyncio.get_running_loop()
    if loop not in _kept or _kept[loop].closed:
        _kept[loop] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS))


async def release_connections() -> None:
    """Closes the running event loop's shared session, if any."""
    session = _kept.pop(asyncio.get_running_loop(), None)
    if session is not None:
        await session.close()


@asynccontextmanager
async def _session() -> AsyncIterator[aiohttp.ClientSession]:
    """The loop's shared session (left open), or a session for this call alone."""
    kept = _kept.get(asyncio.get_running_loop())
    if kept is not None and not kept.closed:
        yield kept
        return
    async with aiohttp.ClientSession() as own:
        yield own


class PlatformClient:
    """One method per API call; every call raises PlatformUnavailable or PlatformRejected on failure.

    Texts in answers (and PlatformRejected.message) are in `language`: "zh..." Chinese, else English.
    """

    def __init__(
        self, base_url: str, api_key: str, timeout: float = 3.0, retries: int = 1, language: str = "en"
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.retries = retries
        self.language = language

    async def _call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        url = f"{self.base_url}/api/v1{path}"
        all_headers = {"X-Api-Key": self.api_key, "Accept-Language": accept_language(self.language), **(headers or {})}
        for attempt in range(self.retries + 1):
            try:
                async with (
                    _session() as http,
                    http.request(method, url, json=body, headers=all_headers, timeout=self.timeout) as resp,
                ):
                    status = resp.status
                    retry_after = retry_after_seconds(resp.headers.get("Retry-After"))
                    payload = await resp.json(content_type=None)
            except aiohttp.ClientConnectionError as exc:
                if attempt < self.retries:
                    log.warning("platform unreachable (%s), retrying once", exc)
                    continue
                raise PlatformUnavailable(f"platform unreachable: {exc}") from exc
            except (asyncio.TimeoutError, aiohttp.ClientError, ValueError) as exc:
                raise PlatformUnavailable(f"platform call failed: {exc!r}") from exc
            if status >= 500:
                raise PlatformUnavailable(f"platform answered {status}")
            if status >= 400:
                error = (payload or {}).get("error", {}) if isinstance(payload, dict) else {}
                raise PlatformRejected(status, error.get("code", "error"), error.get("message", ""), retry_after)
            return payload
        raise AssertionError("unreachable")  # pragma: no cover

    async def order(self, number: str) -> dict[str, Any]:
        return dict(await self._call("GET", f"/orders/{number}"))

    async def customer_orders(self, customer_id: str) -> list[dict[str, Any]]:
        """A customer's orders, newest first as the platform lists them."""
        return list((await self._call("GET", f"/customers/{customer_id}/orders"))["orders"])

    async def verify(self, number: str, *, email: str | None = None, phone: str | None = None) -> str | None:
        """The verified owner's customer id, or None when the contact is not the order's; 429 while locked."""
        body = {"email": email} if email is not None else {"phone": phone}
        answer = await self._call("POST", f"/orders/{number}/verify", body)
        if not isinstance(answer, dict):
            raise PlatformUnavailable("platform answered verify with something other than an object")
        customer_id = answer.get("customer_id")
        return str(customer_id) if answer.get("verified") is True and customer_id is not None else None

    async def eligibility(self, number: str) -> list[dict[str, Any]]:
        return list((await self._call("GET", f"/orders/{number}/return-eligibility"))["items"])

    async def create_return(self, number: str, body: dict[str, Any], key: str) -> dict[str, Any]:
        return dict(await self._call("POST", f"/orders/{number}/returns", body, {"Idempotency-Key": key}))

    async def preview_return(self, number: str, body: dict[str, Any]) -> dict[str, Any]:
        return dict(await self._call("POST", f"/orders/{number}/returns?dry_run=1", body))

    async def returns(self, number: str) -> list[dict[str, Any]]:
        return list((await self._call("GET", f"/orders/{number}/returns"))["returns"])

    async def refunds(self, number: str) -> list[dict[str, Any]]:
        return list((await self._call("GET", f"/orders/{number}/refunds"))["refunds"])

    async def tracking(self, number: str) -> dict[str, Any]:
        return dict(await self._call("GET", f"/orders/{number}/tracking"))

    async def complaint(self, body: dict[str, Any], key: str) -> dict[str, Any]:
        return dict(await self._call("POST", "/complaints", body, {"Idempotency-Key": key}))

    async def freeze(self, customer_id: int, reason: str) -> dict[str, Any]:
        return dict(await self._call("POST", f"/customers/{customer_id}/freeze", {"reason": reason}))


def client_from_env(env: Mapping[str, str] = os.environ, language: str = "en") -> PlatformClient:
    """Built per use from PLATFORM_URL and PLATFORM_API_KEY (the demo key in demo mode), nothing at import time."""
    key = env.get("PLATFORM_API_KEY") or (DEMO_PLATFORM_KEY if demo_mode(env) else "")
    return PlatformClient(env.get("PLATFORM_URL", DEFAULT_URL), key, language=language)
