"""Reading customers' text (order numbers, contacts) and writing ours (masks, money, dates)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

_DIGIT_RUN = re.compile(r"(?<![\w@.])#?([0-9]{4,14})(?![0-9@]|\.[0-9])")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"\+?\d[\d\s\-()]{5,18}\d")


def _plain(text: str) -> str:
    """Full-width and other compatibility forms (full-width digits, at signs) as plain ASCII ones."""
    return unicodedata.normalize("NFKC", text)


def find_order_number(text: str) -> str | None:
    """The 8-digit order number in `text`, in forms like '80000001.', '#80000001', 'order no. 80000001'."""
    for run in _DIGIT_RUN.findall(_plain(text)):
        if len(run) == 8:
            return str(run)
    return None


def has_malformed_number(text: str) -> bool:
    """Whether `text` holds a number that looks meant as an order number but is not 8 digits."""
    return find_order_number(text) is None and bool(_DIGIT_RUN.search(_plain(text)))


def read_contact(text: str) -> tuple[str, str] | None:
    """('email', value) or ('phone', value) when `text` is one, else None."""
    stripped = _plain(text).strip().strip(".,;")
    found = _EMAIL.search(stripped)
    if found:
        return "email", found.group(0)
    phone = _PHONE.search(stripped)
    if phone and sum(c.isdigit() for c in phone.group(0)) >= 7:
        return "phone", phone.group(0)
    return None


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    return f"the phone ending {digits[-4:]}"


PAYMENT_NAMES = {"alipay": "Alipay", "wechat_pay": "WeChat Pay", "card": "bank card"}


def payment_name(method: str) -> str:
    return PAYMENT_NAMES.get(method, method.replace("_", " "))


def money(amount: str, currency: str = "CNY") -> str:
    return f"{amount} {currency}"


def day(value: str | None) -> str:
    """'2026-11-22' or '2026-11-22T10:00:00Z' as '22 Nov 2026'."""
    if not value:
        return "unknown"
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00")) if "T" in value else date.fromisoformat(value)
    return f"{parsed.day} {parsed:%b %Y}"


def moment(value: str | None) -> str:
    """'2026-11-22T10:05:00Z' as '22 Nov 2026 10:05 UTC'."""
    if not value:
        return "unknown"
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return f"{parsed.day} {parsed:%b %Y %H:%M} UTC"


def bullet_list(lines: list[str]) -> str:
    return "\n".join(f"• {line}" for line in lines)
