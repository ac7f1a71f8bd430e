"""Shared secrets as every service checks them: bearer headers, constant-time comparison."""

from __future__ import annotations

import hmac


def same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison; takes headers with undecodable bytes (Sanic makes them lone surrogates)."""
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))


def bearer(header: str) -> str:
    """The token of an `Authorization: Bearer <token>` header, or "" when there is none."""
    return header[7:].strip() if header.startswith("Bearer ") else ""
