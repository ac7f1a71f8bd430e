"""Reading customers' text (order numbers, contacts) and writing ours (masks, money, dates) in their language."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

from actions.phrases import Lang, say, word

# Chinese characters and punctuation: a number or an email may touch them ("订单80000001还没到"), being
# no part of it, while letters, digits, '@' and '.' next to a digit run make it part of something longer.
_CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\U00020000-\U0002ffff"
_DIGIT_RUN = re.compile(rf"(?<![@.])(?<!(?![{_CJK}])\w)#?([0-9]{{4,14}})(?![0-9@]|\.[0-9])")
_EMAIL = re.compile(rf"[^@\s:;,<>()\[\]{_CJK}]+@[^@\s{_CJK}]+\.[A-Za-z]{{2,}}")
_PHONE = re.compile(r"\+?\d[\d\s\-()]{5,18}\d")
_CURRENCY_SIGNS = {"CNY": "¥"}


def _plain(text: str) -> str:
    """Full-width and other compatibility forms (full-width digits, at signs) as plain ASCII ones."""
    return unicodedata.normalize("NFKC", text)


def find_order_numbers(text: str) -> list[str]:
    """Every 8-digit order number in `text`, in order: '80000001.', '#80000001', '订单80000001还没到'."""
    return [str(run) for run in _DIGIT_RUN.findall(_plain(text)) if len(run) == 8]


def find_order_number(text: str) -> str | None:
    """The first order number in `text`, if any."""
    return next(iter(find_order_numbers(text)), None)


def has_malformed_number(text: str) -> bool:
    """Whether `text` holds a number that looks meant as an order number but is not 8 digits."""
    return find_order_number(text) is None and bool(_DIGIT_RUN.search(_plain(text)))


def _without_order_numbers(text: str) -> str:
    """`text` with its order numbers blanked, so none is read as a phone nor glued to one ('80000005
    13800001234'); an 8-digit run inside a phone ('021-12345678', '+65 91234567') stays."""

    def blank(m: re.Match[str]) -> str:
        before, after = text[max(0, m.start() - 2) : m.start()], text[m.end() : m.end() + 1]
        in_phone = re.search(r"[+\-(]\s?$|\d\s$", before) or (after and after in "-)")
        return m.group(0) if len(m.group(1)) != 8 or in_phone else " "

    return _DIGIT_RUN.sub(blank, text)


def read_contact(text: str) -> tuple[str, str] | None:
    """('email', value) or ('phone', value) when `text` holds one ('我的邮箱是li.wei@example.com'), else None."""
    stripped = _plain(text).strip().strip(".,;")
    found = _EMAIL.search(stripped)
    if found:
        return "email", found.group(0)
    phone = _PHONE.search(_without_order_numbers(stripped))
    if phone and sum(c.isdigit() for c in phone.group(0)) >= 7:
        return "phone", phone.group(0)
    return None


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_phone(lang: Lang, phone: str) -> str:
    """'the phone ending 1001' or '尾号1001的手机'."""
    digits = re.sub(r"\D", "", phone)
    return say(lang, "phone_mask", last4=digits[-4:])


def payment_name(lang: Lang, method: str) -> str:
    return word(lang, "payment", method)


def original_method(lang: Lang, method: str) -> str:
    """'original payment method (Alipay)', or the same in Chinese."""
    return say(lang, "payment.original", name=payment_name(lang, method))


def money(lang: Lang, amount: str, currency: str = "CNY") -> str:
    """'338.00 CNY' in English, '¥338.00' in Chinese."""
    sign = _CURRENCY_SIGNS.get(currency) if lang == "zh" else None
    return f"{sign}{amount}" if sign else f"{amount} {currency}"


def _parse(value: str) -> date:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if "T" in value else date.fromisoformat(value)


def _day(lang: Lang, parsed: date) -> str:
    return f"{parsed.year}年{parsed.month}月{parsed.day}日" if lang == "zh" else f"{parsed.day} {parsed:%b %Y}"


def day(lang: Lang, value: str | None) -> str:
    """'2026-11-22' or '2026-11-22T10:00:00Z' as '22 Nov 2026' or '2026年11月22日'."""
    return _day(lang, _parse(value)) if value else say(lang, "unknown")


def moment(lang: Lang, value: str | None) -> str:
    """'2026-11-22T10:05:00Z' as '22 Nov 2026 10:05 UTC' or '2026年11月22日 10:05', UTC in full-width brackets."""
    if not value:
        return say(lang, "unknown")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if lang == "zh":
        return f"{_day(lang, parsed)} {parsed:%H:%M}（UTC）"
    return f"{parsed.day} {parsed:%b %Y %H:%M} UTC"


def bullet_list(lines: list[str]) -> str:
    return "\n".join(f"• {line}" for line in lines)
