"""The quick look `json_body` takes at a body's bytes before walking its strings never lets a string through
that a database could not store (a NUL, a lone surrogate), whichever way the client wrote it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sanic.request import json_loads  # what Sanic parses request bodies with (ujson here)

from bot.errors import _MAYBE_UNSTORABLE, ApiError, check_strings

# Every code point, surrogates included: Hypothesis leaves them out unless asked.
ANY_CHARACTER = st.characters(blacklist_categories=())
TEXT = st.text(ANY_CHARACTER, max_size=6) | st.sampled_from(["\x00", "\ud800", "\udfff", "\ud83d\ude00", "a\\u0000"])
BODIES = st.recursive(
    TEXT | st.integers() | st.none(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
)


def encodings(value: Any) -> list[bytes]:
    """The body as clients send it: escaped to ASCII, or raw UTF-8 (a lone surrogate as its three bytes)."""
    return [
        json.dumps({"v": value}, ensure_ascii=True).encode(),
        json.dumps({"v": value}, ensure_ascii=False).encode("utf-8", "surrogatepass"),
    ]


def refused(body: Any) -> bool:
    try:
        check_strings(body)
    except ApiError:
        return True
    return False


@settings(max_examples=400, deadline=None)
@given(BODIES)
def test_a_body_the_quick_look_passes_holds_only_storable_strings(value: Any) -> None:
    for raw in encodings(value):
        try:
            parsed = json_loads(raw)
        except ValueError:
            continue  # refused as invalid JSON before any string is looked at
        if refused(parsed):
            assert _MAYBE_UNSTORABLE.search(raw), raw


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": "\\u0000"}',
        b'{"a\\u0000": 1}',
        b'{"a": "\\uD800"}',
        b'{"a": ["x", "\\udfff"]}',
        b'{"a": "\xed\xa0\x80"}',
    ],
)
def test_each_way_of_writing_an_unstorable_string_is_looked_at(raw: bytes) -> None:
    assert _MAYBE_UNSTORABLE.search(raw) and refused(json_loads(raw))


def test_ordinary_bodies_need_no_walk() -> None:
    tracker = {"events": [{"event": "user", "text": "我的订单在哪里 where is it?", "parse_data": {"entities": []}}]}
    for raw in (json.dumps(tracker).encode(), json.dumps(tracker, ensure_ascii=False).encode()):
        assert not _MAYBE_UNSTORABLE.search(raw)
