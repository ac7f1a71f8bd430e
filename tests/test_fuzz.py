"""Property-based fuzzing (Hypothesis) of every HTTP endpoint of the gateway and of the platform stub.

The property, whatever the method, path, query, headers or body:

- an answer comes (no dropped connection, no hang), and it is 2xx or 4xx, never 5xx;
- every error is JSON `{"error": {"code": ...}}`, and every API answer is JSON (only the web
  pages `/`, `/agent` and `/static/...`, routes without the JSON error format, answer HTML, JS
  or CSS on success);
- the server logs no exception: neither an unhandled error nor a Telegram update whose handler
  crashed after the webhook had answered 200;
- gateway, "never half-written": after each request, every conversation it touched has messages
  numbered 1..last_seq without a gap, no message text that is blank or holds a NUL or a lone
  surrogate, a status history whose links chain and end in the current status, and no turn is
  left pending. A request answered 4xx changes no conversation, message, status change, pending
  turn, Telegram link nor agent token (only an agent's `last_seen_at` may move);
- platform: a request answered 4xx commits nothing (SQLite's `PRAGMA data_version` is unchanged).

What is sent. Endpoints come from the apps' routers (`app.router.routes`), so a new route is
fuzzed without touching this file, and a route's body models are the schema classes its
handler's source names. Path parameters get hostile values (huge numbers, unicode digits, `%00`,
`..`, invalid UTF-8 percent-encoded and raw, very long, empty) and valid ones: order 80000001 and
ids read from the seeded platform; on the gateway, a conversation in each status (bot, queued,
assigned to the agent, resolved), named in requests by placeholders such as `{conv:assigned}`
and `{token:assigned}` and replaced by a fresh one whenever a request moved it on, so that
claim, reply, resolve, hand-back and rating get past their state checks too. Bodies are
Hypothesis' recursive JSON, documents of the right shape with hostile field values (lone
surrogates as escaped JSON `"\\ud800"` or as raw bytes, NUL, huge ints, floats, NaN, nested
objects, wrong types), Telegram updates, and raw non-JSON bytes. Queries (`after=`, `dry_run=`,
`token=`) and headers (Authorization, X-Api-Key, Idempotency-Key, X-Telegram-Bot-Api-Secret-Token,
Content-Type) get garbage, undecodable bytes, other valid values, or, most of the time, what the
route's legitimate client would send for the path drawn (`auth_for`: the agent's token on the
agent API, the conversation's own token on the customer's), so most requests reach the logic.
Requests go through the small HTTP/1.1 client below on raw sockets: aiohttp and yarl would
normalise exactly what must reach the server as it is.

How it runs. The servers are the real apps on loopback in the test's event loop: the `platform`
fixture; the gateway through `running_gateway`, pointed at an unreachable Rasa so that a
customer's message escalates at once ("bot unavailable"), with Telegram in webhook mode against
the fake Bot API. Hypothesis drives a plain synchronous `@given` function, which the async test
runs in a worker thread (`asyncio.to_thread`); each example hands its request to the servers'
loop with `asyncio.run_coroutine_threadsafe` and blocks on the verdict. So there is one event
loop, the servers keep serving while Hypothesis waits, and Hypothesis is used as designed:
explicit examples first (a fixed corpus: every route with every hostile path value, query,
header, raw body and body field), then `max_examples` generated requests, then shrinking.
`derandomize=True` and `database=None` make runs repeatable and store no examples (Hypothesis'
other caches go to a temporary folder).

A failure raises a `Finding` subclass named after its kind and its cause (the exception the
server logged, else the route), so Hypothesis reports each distinct finding once; the message
holds the request as sent, the answer, and the server's log for that request, traceback
included. The agent logs in once, before the fuzzing: failed logins are rate-limited (429,
a fine 4xx) and the fuzz makes plenty.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import itertools
import json
import logging
import re
import sqlite3
import traceback
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from pydantic import BaseModel
from pydantic.fields import SHAPE_SINGLETON, ModelField
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response
from sqlalchemy import select

from bot.gateway import schemas as gateway_schemas
from bot.gateway.models import AgentToken, Conversation, Message, PendingTurn, StatusChange, TelegramLink
from bot.gateway.telegram import WEBHOOK_PATH
from bot.platform import schemas as platform_schemas
from bot.platform.app import create_app as create_platform
from bot.platform.config import PlatformConfig
from tests.conftest import API_KEY, Platform, database_url, gateway_config, running_gateway
from tests.fake_telegram import FakeBotApi
from tests.servers import free_port, serve
from tests.stack import Stack

pytestmark = pytest.mark.asyncio

UNREACHABLE_RASA = "http://127.0.0.1:9"
TELEGRAM_TOKEN = "123456:FUZZ-TOKEN"
TELEGRAM_SECRET = "fuzz-webhook-secret"
ANSWER_TIMEOUT = 30.0
GATEWAY_EXAMPLES = 600
PLATFORM_EXAMPLES = 600
OTHER_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
LONG = 5000
_names = itertools.count()


@pytest.fixture(autouse=True)
def hypothesis_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Hypothesis' own caches (constants, unicode data) go to a temporary folder, not `.hypothesis/` here."""
    set_hypothesis_home_dir(tmp_path_factory.mktemp("hypothesis"))
    yield
    set_hypothesis_home_dir(None)


def fuzz_settings(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    )


# --- hostile values -----------------------------------------------------------------------------

# fmt: off
# Path segments and query strings exactly as they go on the wire.
HOSTILE_SEGMENTS: list[bytes] = [
    b"", b"0", b"-1", b"9223372036854775808", b"9" * 40, b"1e5", "²".encode(), b"%C2%B2",
    "١٢٣٤٥٦٧٨".encode(), b"%00", b"80000001%00", b"..", b"%2E%2E", b"%2F", b"%ED%A0%80", b"\xed\xa0\x80",
    b"\xff\xfe", b"%FF", b"%", b"%zz", b"80000001.", b"+80000001", b"%2080000001", b"null", b"x" * LONG,
]
HOSTILE_QUERIES: list[bytes] = [
    b"after=", b"after=-1", b"after=%C2%B2", b"after=9223372036854775808", b"after=1&after=x", b"dry_run=1",
    b"dry_run=%ED%A0%80", b"token=", b"token=%00", b"token=%ED%A0%80", b"%zz=%zz", b"=&&=",
]
# Header values exactly as they go on the wire (never CR or LF: that would be another request).
HOSTILE_HEADER_VALUES: list[bytes] = [
    b"", b" ", b"Bearer", b"Bearer ", b"bearer abc", b"Basic YWxpY2U6YWxpY2UtZGVtbw==", b"Bearer \xff\xfe",
    b"Bearer \xed\xa0\x80", b"\xff\xfe\xfd", b"Bearer a\x00b", b"Bearer " + b"a" * LONG, "Bearer ²".encode(),
]
HOSTILE_STRINGS: list[str] = [
    "", "   ", "\x00", "a\x00b", "\ud800", "x\udc80", "\udfff\ud800", "²", "9223372036854775808", "..", "%00",
    "/restart", '/inform{"order_number": "80000001"}', "\u202e\ufeff", "x" * LONG,
]
HOSTILE_VALUES: list[Any] = [
    *HOSTILE_STRINGS, 2**63, -(2**63) - 1, 10**30, 1.5, 1e308, float("nan"), float("inf"), True, None, [], {},
    ["hello"], {"nested": {"deeper": [1, {"x": "\ud800"}]}},
]
RAW_BODIES: list[bytes] = [
    b"", b"{", b"{nope", b"null", b"[]", b'"text"', b"0", b"NaN", b"\xff\xfe\x00", b'{"text": "\\ud800"}',
    b'{"text": "a\\u0000b"}', b'{"text": "\xed\xa0\x80"}', b'{"\\ud800": 1}', b'{"rating": 99999999999999999999999999}',
    b'{"rating": 1e999}', b'{"text": "hi", "text": "dup"}', b'{"text": "hi"} trailing', b"[" * 100_000,
    b'{"a":' * 10_000, b'\xef\xbb\xbf{"text": "bom"}',
]
CONTENT_TYPES: list[bytes | None] = [
    None, b"application/json", b"text/plain", b"application/x-www-form-urlencoded", b"multipart/form-data; boundary=x",
    b"\xff",
]
# fmt: on


def utf8(text: str) -> bytes:
    """As a careless client sends it: lone surrogates become invalid UTF-8 bytes."""
    return text.encode("utf-8", "surrogatepass")


def header_safe(raw: bytes) -> bytes:
    return raw.replace(b"\r", b"").replace(b"\n", b"")


def dump(document: Any, ascii_only: bool = True) -> bytes:
    """JSON as bytes, lone surrogates escaped (`"\\ud800"`) or raw (invalid UTF-8); NaN as `NaN`."""
    return utf8(json.dumps(document, ensure_ascii=ascii_only, allow_nan=True))


ANY_CHAR = st.characters(exclude_categories=())  # lone surrogates included
hostile_strings = st.one_of(st.sampled_from(HOSTILE_STRINGS), st.text(ANY_CHAR, max_size=40))
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(ANY_CHAR, max_size=20)),
    lambda kids: st.one_of(
        st.lists(kids, max_size=4), st.dictionaries(st.text(ANY_CHAR, max_size=10), kids, max_size=4)
    ),
    max_leaves=12,
)
wrong_values = st.one_of(st.sampled_from(HOSTILE_VALUES), json_values)
segments = st.one_of(
    st.sampled_from(HOSTILE_SEGMENTS),
    st.text(ANY_CHAR, max_size=30).map(lambda s: quote_from_bytes(utf8(s), safe="").encode()),
    st.binary(max_size=12).map(lambda b: quote_from_bytes(b, safe="").encode()),
    st.integers().map(lambda i: str(i).encode()),
    st.binary(min_size=1, max_size=12).map(header_safe),  # raw: may break the request line itself
)
header_garbage = st.one_of(
    st.sampled_from(HOSTILE_HEADER_VALUES),
    st.text(ANY_CHAR, max_size=40).map(lambda s: header_safe(utf8(s))),
    st.binary(max_size=40).map(header_safe),
)


# --- the wire -----------------------------------------------------------------------------------


def _short(raw: bytes | None, limit: int) -> bytes | None:
    return raw if raw is None or len(raw) <= limit else raw[:limit] + b"...(%d bytes)" % len(raw)


@dataclass(frozen=True)
class Req:
    """One request exactly as sent; `route` names the route it was aimed at."""

    route: str
    method: str
    target: bytes
    headers: tuple[tuple[bytes, bytes], ...] = ()
    body: bytes | None = None

    def __repr__(self) -> str:
        headers = [(k, _short(v, 100)) for k, v in self.headers]
        return (
            f"Req({self.method} {_short(self.target, 200)!r} headers={headers!r} body={_short(self.body, 300)!r}"
            f" route={self.route})"
        )


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


async def exchange(port: int, req: Req) -> Answer:
    """Sends `req` on a fresh connection and reads the whole answer (Connection: close)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        lines = [b"%s %s HTTP/1.1" % (req.method.encode(), req.target), b"Host: 127.0.0.1:%d" % port]
        if not any(name.lower() == b"connection" for name, _ in req.headers):
            lines.append(b"Connection: close")
        lines += [b"%s: %s" % (name, value) for name, value in req.headers]
        if req.body is not None:
            lines.append(b"Content-Length: %d" % len(req.body))
        writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + (req.body or b""))
        with contextlib.suppress(ConnectionError):  # the server may answer (413, 400) before reading it all
            await writer.drain()
        return await asyncio.wait_for(_read_answer(reader), ANSWER_TIMEOUT)
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


async def _read_answer(reader: asyncio.StreamReader) -> Answer:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head[:-4].split(b"\r\n")
    headers: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(b":")
        headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
    status = int(status_line.split()[1])
    if status == 101:  # a websocket opened: no body; closing our end ends it
        return Answer(status, headers, b"")
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            body += await reader.readexactly(size)
            await reader.readexactly(2)
    else:
        body = await reader.read()
    return Answer(status, headers, body)


# --- what the servers log -----------------------------------------------------------------------


class LogCapture(logging.Handler):
    """Keeps WARNING and above from every logger; an ERROR carrying a traceback is a finding."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def text(self, records: list[logging.LogRecord]) -> str:
        return "\n".join(self.format(r) for r in records) or "(nothing logged)"


@contextlib.contextmanager
def captured_logs() -> Iterator[LogCapture]:
    capture = LogCapture()
    logging.getLogger().addHandler(capture)
    try:
        yield capture
    finally:
        logging.getLogger().removeHandler(capture)


def is_crash(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.ERROR and isinstance(record.exc_info, tuple)


def crash_origin(record: logging.LogRecord) -> str:
    """Where the logged exception was raised: one finding per cause, however many routes show it."""
    assert record.exc_info is not None
    _, exc, tb = record.exc_info
    frames = traceback.extract_tb(tb)
    where = f"{Path(frames[-1].filename).stem}_{frames[-1].lineno}" if frames else "unknown"
    return f"{type(exc).__name__}_at_{where}"


class Finding(AssertionError):
    """A broken property; subclasses name its kind and cause, so Hypothesis reports each one separately."""


@functools.cache
def finding(kind: str, origin: str) -> type[Finding]:
    return type(re.sub(r"\W", "_", f"{kind}__{origin}"), (Finding,), {"__module__": __name__})


# --- routes, schemas and bodies -----------------------------------------------------------------


def route_key(route: Any) -> str:
    """The route's name without the app's, which carries a counter: `customer_api.post_message`."""
    return str(route.name).split(".", 1)[-1]


def path_params(route: Any) -> list[str]:
    return [part[1:-1].split(":")[0] for part in route.parts if part.startswith("<")]


def build_path(route: Any, values: dict[str, bytes]) -> bytes:
    parts = [values[part[1:-1].split(":")[0]] if part.startswith("<") else part.encode() for part in route.parts]
    return b"/" + b"/".join(parts)


def schema_models(module: Any) -> list[type[BaseModel]]:
    return [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, BaseModel) and obj.__module__ == module.__name__ and obj.__fields__
    ]


def handler_source(route: Any) -> str:
    try:
        return inspect.getsource(inspect.unwrap(route.handler))
    except (OSError, TypeError):
        return ""


def handler_models(route: Any, models: list[type[BaseModel]]) -> list[type[BaseModel]]:
    """The schema classes the handler's source names: what its body should look like."""
    source = handler_source(route)
    return [m for m in models if re.search(rf"\b{m.__name__}\b", source)]


@dataclass
class Known:
    """Values that mean something to the app: they get requests past validation, into the logic."""

    strings: list[str]
    ints: list[int]
    by_field: dict[str, Any] = field(default_factory=dict)  # the corpus's good value of a field, by name


def _is(kind: Any, base: type) -> bool:
    return isinstance(kind, type) and issubclass(kind, base)


def good_values(f: ModelField, known: Known) -> st.SearchStrategy[Any]:
    if _is(f.type_, Enum):
        good: st.SearchStrategy[Any] = st.sampled_from([m.value for m in f.type_])
    elif _is(f.type_, bool):
        good = st.booleans()
    elif _is(f.type_, int):
        good = st.one_of(st.integers(1, 5), st.sampled_from(known.ints))
    elif _is(f.type_, str):
        good = st.sampled_from(known.strings)
    else:
        good = json_values
    if f.shape != SHAPE_SINGLETON:
        good = st.lists(good, min_size=1, max_size=4)
    return st.one_of(st.none(), good) if f.allow_none else good


def shaped(model: type[BaseModel], known: Known) -> st.SearchStrategy[dict[str, Any]]:
    """Documents of the model's shape, each field good or hostile, now and then with unknown keys."""
    fields = model.__fields__
    values = {name: st.one_of(good_values(f, known), good_values(f, known), wrong_values) for name, f in fields.items()}
    docs = st.fixed_dictionaries(
        {name: s for name, s in values.items() if fields[name].required},
        optional={name: s for name, s in values.items() if not fields[name].required},
    )
    extra = st.dictionaries(st.one_of(st.sampled_from(list(fields)), hostile_strings), wrong_values, max_size=2)
    return st.one_of(docs, docs, st.tuples(docs, extra).map(lambda d: {**d[0], **d[1]}))


def valid_document(model: type[BaseModel], known: Known) -> dict[str, Any]:
    """A plausible document (the corpus corrupts one field of it at a time)."""
    doc = {}
    for name, f in model.__fields__.items():
        if name in known.by_field:
            doc[name] = known.by_field[name]
        elif f.required:
            value = next(iter(f.type_)).value if _is(f.type_, Enum) else 1 if _is(f.type_, int) else "hello"
            doc[name] = value if f.shape == SHAPE_SINGLETON else [value]
    return doc


# --- an app under fuzz --------------------------------------------------------------------------

Headers = tuple[tuple[bytes, bytes], ...]


@dataclass
class Target:
    """One app under fuzz: where it listens, its routes, what is valid to it, what it must not break.

    The lists of valid values give the corpus its values (the first is the default) and generation
    its choices; `auth_for` says what a route's legitimate client sends along a drawn path.
    """

    name: str
    port: int
    routes: list[Any]
    path_values: dict[str, list[bytes]]
    query_values: dict[bytes, list[bytes]]
    header_values: dict[bytes, list[bytes]]
    auth_for: Callable[[Any, dict[str, bytes]], tuple[Headers, bytes]]  # headers, query past authentication
    models: list[type[BaseModel]]
    known: Known
    records: Callable[[], Any]  # a snapshot, compared with ==: what a 4xx must leave as it was
    damage: Callable[[Any, Any], list[str]]  # what is broken in the records a request changed
    settle: Callable[[], Awaitable[None]] | None = None  # waits for work the app finishes after answering
    bodies_by_route: dict[str, list[Any]] = field(default_factory=dict)  # route key -> more corpus documents
    shapes_by_route: dict[str, st.SearchStrategy[Any]] = field(default_factory=dict)  # route key -> documents
    placeholders: Callable[[], Awaitable[dict[bytes, bytes]]] | None = None  # their current values, by name
    log: LogCapture | None = None

    def models_of(self, route: Any) -> list[type[BaseModel]]:
        return handler_models(route, self.models)

    def route(self, key: str) -> Any:
        return next((r for r in self.routes if route_key(r) == key), None)

    async def check(self, req: Req) -> None:
        """Sends one request and checks the answer, the log and the records against the property."""
        assert self.log is not None
        if self.placeholders is not None:
            req = substitute(req, await self.placeholders())
        mark = len(self.log.records)
        before = self.records()
        answer: Answer | None = None
        try:
            answer = await exchange(self.port, req)
        except (OSError, EOFError, ValueError, IndexError, asyncio.IncompleteReadError, asyncio.TimeoutError) as exc:
            problem = f"no (complete) answer: {exc!r}"
        if self.settle is not None:
            await self.settle()
        after = self.records()
        if answer is None:
            self.fail("no_answer", req, None, mark, problem)
            return
        route = self.route(req.route)
        upgraded = answer.status == 101 and route is not None and route.ctx.websocket
        if not (200 <= answer.status < 300 or 400 <= answer.status < 500 or upgraded):
            kind = "server_error" if answer.status >= 500 else "unexpected_status"
            self.fail(kind, req, answer, mark, f"status {answer.status}")
        if answer.status >= 400 or (not upgraded and (route is None or route.ctx.error_format == "json")):
            if not answer.headers.get("content-type", "").startswith("application/json"):
                self.fail("not_json", req, answer, mark, f"Content-Type {answer.headers.get('content-type')!r}")
            try:
                body = json.loads(answer.body)
            except ValueError:
                body = None
                self.fail("not_json", req, answer, mark, "the body is not JSON")
            error = body.get("error") if isinstance(body, dict) else None
            if answer.status >= 400 and not (isinstance(error, dict) and isinstance(error.get("code"), str)):
                self.fail("error_shape", req, answer, mark, 'an error body must be {"error": {"code": ...}}')
        if 400 <= answer.status < 500 and before != after:
            self.fail("changed_on_4xx", req, answer, mark, describe_change(before, after))
        if damage := self.damage(before, after):
            self.fail("half_written", req, answer, mark, "\n".join(damage))
        if any(is_crash(r) for r in self.log.records[mark:]):
            self.fail("logged_exception", req, answer, mark, "the server logged an exception")

    def fail(self, kind: str, req: Req, answer: Answer | None, mark: int, problem: str) -> NoReturn:
        assert self.log is not None
        records = self.log.records[mark:]
        crashes = [r for r in records if is_crash(r)]
        origin = crash_origin(crashes[0]) if crashes else f"{self.name}.{req.route}"
        shown = (
            "(none)"
            if answer is None
            else f"{answer.status} {answer.headers.get('content-type')!r} {answer.body[:600]!r}"
        )
        raise finding(kind, origin)(
            f"{kind} on {self.name}: {problem}\n  request: {req!r}\n  answer: {shown}\n"
            f"  server log:\n{self.log.text(records)}"
        )


def substitute(req: Req, values: dict[bytes, bytes]) -> Req:
    def sub(raw: bytes) -> bytes:
        for name, value in values.items():
            raw = raw.replace(name, value)
        return raw

    return replace(req, target=sub(req.target), headers=tuple((k, sub(v)) for k, v in req.headers))


def describe_change(before: Any, after: Any) -> str:
    if not (hasattr(before, "__dict__") and hasattr(after, "__dict__")):
        return f"a 4xx changed the database: {before!r} -> {after!r}"
    changed = [k for k in vars(before) if getattr(before, k) != getattr(after, k)]
    return "a 4xx changed " + "; ".join(f"{k}: {getattr(before, k)!r} -> {getattr(after, k)!r}"[:500] for k in changed)


# --- generated requests -------------------------------------------------------------------------


def bodies(t: Target, route: Any) -> st.SearchStrategy[bytes | None]:
    """Mostly JSON of the route's own shapes, sometimes of another's or none; raw bytes; no body."""
    own = [shaped(m, t.known) for m in t.models_of(route)]
    if (extra := t.shapes_by_route.get(route_key(route))) is not None:
        own.append(extra)
    generic = [json_values, *(shaped(m, t.known) for m in t.models)]
    docs = st.one_of(*own, *own, *generic)
    encoded = st.tuples(docs, st.booleans()).map(lambda d: dump(d[0], ascii_only=d[1]))
    return st.one_of(st.none(), encoded, encoded, encoded, st.sampled_from(RAW_BODIES), st.binary(max_size=64))


RIGHT: Any = object()  # stands for what `auth_for` gives for the path drawn with it


def headers(t: Target) -> st.SearchStrategy[tuple[tuple[bytes, Any], ...]]:
    """Each header mostly as the route wants it (RIGHT), else another valid value, none or garbage."""
    per_header = []
    for name, valid in sorted(t.header_values.items()):
        value = st.one_of(
            st.just(RIGHT), st.just(RIGHT), st.just(RIGHT), st.sampled_from(valid), st.none(), header_garbage
        )
        per_header.append(st.tuples(st.just(name), value))
    per_header.append(st.tuples(st.just(b"Content-Type"), st.sampled_from(CONTENT_TYPES)))
    return st.tuples(*per_header)


def queries(t: Target) -> st.SearchStrategy[Any]:
    def pair(key: bytes) -> st.SearchStrategy[bytes]:
        good = st.sampled_from(t.query_values[key])
        return st.one_of(good, good, segments).map(lambda value: key + b"=" + value)

    pairs = [pair(key) for key in sorted(t.query_values)]
    junk = st.tuples(segments, segments).map(b"=".join)
    return st.one_of(
        st.just(RIGHT),
        st.just(RIGHT),
        st.lists(st.one_of(*pairs, junk), min_size=1, max_size=3).map(b"&".join),
        st.sampled_from(HOSTILE_QUERIES),
    )


def requests(t: Target) -> st.SearchStrategy[Req]:
    """Any route; its path parameters, query, headers and body drawn as above."""
    query, head = queries(t), headers(t)

    def for_route(route: Any) -> st.SearchStrategy[Req]:
        values = {}
        for name in path_params(route):
            good = st.sampled_from(t.path_values.get(name) or [b"x"])
            values[name] = st.one_of(good, good, good, segments)
        path, body = st.fixed_dictionaries(values), bodies(t, route)
        suffix = st.sampled_from([b""] * 6 + [b"/", b"/x", b"/.."])
        method = st.sampled_from(sorted(route.methods) * 8 + OTHER_METHODS)

        @st.composite
        def draw_request(draw: st.DrawFn) -> Req:
            drawn_path = draw(path)
            auth, auth_query = t.auth_for(route, drawn_path)
            right = dict(auth)
            drawn_query = draw(query)
            drawn_query = auth_query if drawn_query is RIGHT else drawn_query
            pairs = [(k, right.get(k) if v is RIGHT else v) for k, v in draw(head)]
            target = build_path(route, drawn_path) + draw(suffix) + (b"?" + drawn_query if drawn_query else b"")
            headers = tuple((k, v) for k, v in pairs if v is not None)
            return Req(route_key(route), draw(method), target, headers, draw(body))

        return draw_request()

    return st.one_of(*(for_route(route) for route in t.routes))


# --- the explicit corpus ------------------------------------------------------------------------


def corpus(t: Target) -> list[Req]:
    """Every route as a client would call it, and again with each hostile path value, query, header,
    raw body and body field, one at a time."""
    reqs: list[Req] = []
    for route in t.routes:
        models = t.models_of(route)
        document = valid_document(models[0], t.known) if models else None
        for method in sorted(route.methods):
            takes_body = method in ("POST", "PUT", "PATCH")
            make = functools.partial(
                corpus_request, t, route, method, body=dump(document) if takes_body and document else None
            )
            reqs.append(make())
            valid = [{name: v} for name in path_params(route) for v in dict.fromkeys(t.path_values.get(name, []))]
            reqs += [make(values=values) for values in valid[1:]]  # e.g. a conversation in each status
            reqs += [make(values={name: seg}) for name in path_params(route) for seg in HOSTILE_SEGMENTS]
            reqs += [make(query=query) for query in HOSTILE_QUERIES]
            read = sorted(dict(t.auth_for(route, {})[0]))  # the headers this route reads
            reqs += [make(header=(name, value)) for name in read for value in HOSTILE_HEADER_VALUES]
            if not takes_body:
                continue
            reqs += [make(body=raw) for raw in RAW_BODIES]
            reqs += [make(body=dump(doc)) for doc in t.bodies_by_route.get(route_key(route), [])]
            for model in models:
                doc = valid_document(model, t.known)
                reqs += [make(body=dump({**doc, name: bad})) for name in model.__fields__ for bad in HOSTILE_VALUES]
                reqs.append(make(body=dump({**doc, "unknown": 1})))
        reqs.append(corpus_request(t, route, "PUT" if "DELETE" in route.methods else "DELETE"))
    return reqs


def corpus_request(
    t: Target,
    route: Any,
    method: str,
    values: dict[str, bytes] | None = None,
    query: bytes | None = None,
    header: tuple[bytes, bytes] | None = None,
    body: bytes | None = None,
) -> Req:
    """The request a legitimate client would send, but for the hostile part given."""
    path = {name: (t.path_values.get(name) or [b"x"])[0] for name in path_params(route)} | (values or {})
    auth, auth_query = t.auth_for(route, path)
    query = auth_query if query is None else query
    target = build_path(route, path) + (b"?" + query if query else b"")
    head = [(k, v) for k, v in auth if header is None or k != header[0]]
    head += [header] if header is not None else []
    head += [(b"Content-Type", b"application/json")] if body is not None else []
    return Req(route_key(route), method, target, tuple(head), body)


async def fuzz(t: Target, max_examples: int, log: LogCapture) -> None:
    """Runs Hypothesis in a worker thread; each example is checked on this loop, the servers'."""
    t.log = log
    loop = asyncio.get_running_loop()

    def one_request(req: Req) -> None:
        asyncio.run_coroutine_threadsafe(t.check(req), loop).result()

    test = given(requests(t))(one_request)
    for req in reversed(corpus(t)):
        test = example(req)(test)
    await asyncio.to_thread(fuzz_settings(max_examples)(test))


# --- the gateway --------------------------------------------------------------------------------


@dataclass(frozen=True)
class GatewayRecords:
    """The gateway's rows, compared with ==; agents are left out (`last_seen_at` moves on any call)."""

    conversations: dict[str, Any]
    messages: dict[str, tuple[Any, ...]]
    changes: dict[str, tuple[Any, ...]]
    pending: tuple[Any, ...]
    tokens: frozenset[Any]
    links: tuple[Any, ...]

    def of(self, conv_id: str) -> tuple[Any, ...]:
        return self.conversations.get(conv_id), self.messages.get(conv_id, ()), self.changes.get(conv_id, ())


def gateway_records(sessions: Any) -> GatewayRecords:
    def grouped(rows: Any) -> dict[str, tuple[Any, ...]]:
        out: dict[str, list[Any]] = {}
        for row in rows:
            out.setdefault(row.conversation_id, []).append(row)
        return {k: tuple(v) for k, v in out.items()}

    with sessions() as s:
        return GatewayRecords(
            conversations={row.id: row for row in s.execute(select(Conversation.__table__))},
            messages=grouped(s.execute(select(Message.__table__).order_by(Message.conversation_id, Message.seq))),
            changes=grouped(s.execute(select(StatusChange.__table__).order_by(StatusChange.id))),
            pending=tuple(s.execute(select(PendingTurn.__table__).order_by(PendingTurn.id))),
            tokens=frozenset(s.execute(select(AgentToken.__table__))),
            links=tuple(s.execute(select(TelegramLink.__table__).order_by(TelegramLink.id))),
        )


def cached_records(db: sqlite3.Connection, sessions: Any, cache: dict[str, Any]) -> GatewayRecords:
    """The records, read again only when something committed since (SQLite's data_version moved)."""
    version = db.execute("PRAGMA data_version").fetchone()[0]
    if cache.get("version") != version:
        cache.update(version=version, records=gateway_records(sessions))
    return cache["records"]


def text_problem(text: str | None) -> str | None:
    if text is None or not text.strip():
        return "is blank"
    if "\x00" in text:
        return "holds a NUL"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "holds a lone surrogate"
    return None


def conversation_damage(r: GatewayRecords, conv_id: str) -> list[str]:
    conv, messages, history = r.of(conv_id)
    if conv is None:
        return [f"rows of a conversation {conv_id!r} that does not exist"]
    damage = []
    seqs = [m.seq for m in messages]
    if seqs != list(range(1, conv.last_seq + 1)):
        damage.append(f"conversation {conv_id}: seqs {seqs} but last_seq {conv.last_seq}")
    for m in messages:
        if (problem := text_problem(m.text)) is not None:
            damage.append(f"conversation {conv_id}: message {m.seq} ({m.author}) text {problem}: {m.text[:80]!r}")
        if m.author not in ("customer", "bot", "agent", "system") or (m.author == "agent") != (m.agent_id is not None):
            damage.append(f"conversation {conv_id}: message {m.seq} author {m.author!r} agent_id {m.agent_id!r}")
    if not history or history[-1].to_status != conv.status:
        damage.append(f"conversation {conv_id}: status {conv.status!r} but history ends {history[-1:]!r}")
    for prev, nxt in itertools.pairwise(history):
        if nxt.from_status != prev.to_status:
            damage.append(f"conversation {conv_id}: history jumps {prev.to_status!r} -> {nxt.from_status!r}")
    return damage


def gateway_damage(before: GatewayRecords, after: GatewayRecords) -> list[str]:
    """Damage in the conversations that changed, and turns still pending once the app settled."""
    touched = sorted(set(after.conversations) | set(after.messages) | set(after.changes))
    damage = [p for c in touched if before.of(c) != after.of(c) for p in conversation_damage(after, c)]
    if after.pending:
        damage.append(f"{len(after.pending)} turn(s) left pending: {after.pending!r}"[:600])
    return damage


class TelegramLikeBotApi(FakeBotApi):
    """The fake Bot API, answering a chat id that is not an integer as Telegram does (400), not with a 500."""

    async def handle(self, request: Request, bot: str, method: str) -> HTTPResponse:
        chat_id = self._params(request).get("chat_id")
        if method == "sendMessage" and not re.fullmatch(r"-?[0-9]{1,20}", str(chat_id)):
            return json_response({"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}, 400)
        return await super().handle(request, bot, method)


def telegram_updates() -> st.SearchStrategy[dict[str, Any]]:
    """Updates as Telegram (or whoever holds the secret) could post them, with hostile values."""
    chat_ids = st.one_of(st.sampled_from([4242, 4343]), st.sampled_from([4242, 4343]), wrong_values)
    commands = ["/start", "/human", "/restart", "/forget", "hello", "I want a refund", "/rate 5"]
    texts = st.one_of(st.sampled_from(commands), hostile_strings)
    user = st.fixed_dictionaries({"id": chat_ids, "is_bot": st.booleans(), "first_name": st.just("Li")})
    chat = st.fixed_dictionaries({"id": chat_ids, "type": st.one_of(st.just("private"), wrong_values)})
    entity = st.fixed_dictionaries(
        {"type": st.sampled_from(["bot_command", "bold"]), "offset": st.integers(-2, 10), "length": st.integers(-2, 10)}
    )
    message = st.fixed_dictionaries(
        {"message_id": st.integers(1, 10**6), "date": st.one_of(st.integers(0, 2**31), wrong_values), "chat": chat},
        optional={
            "from": st.one_of(user, wrong_values),
            "text": texts,
            "entities": st.lists(entity, max_size=2),
            "photo": st.just([{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}]),
        },
    )
    callback = st.fixed_dictionaries(
        {"id": st.just("1"), "from": user, "chat_instance": st.just("ci")},
        optional={
            "data": st.one_of(st.sampled_from(["/rate 5", "/rate 9", "/human_agent"]), hostile_strings),
            "message": message,
        },
    )
    return st.fixed_dictionaries(
        {"update_id": st.one_of(st.integers(1, 10**6), wrong_values)},
        optional={
            "message": st.one_of(message, message, wrong_values),
            "callback_query": callback,
            "edited_message": message,
        },
    )


def _update(**message: Any) -> dict[str, Any]:
    body = {"message_id": 1, "date": 1_800_000_000, "chat": {"id": 4242, "type": "private"}}
    body["from"] = {"id": 4242, "is_bot": False, "first_name": "Li"}
    return {"update_id": 1, "message": {**body, **message}}


def _callback(data: str, **extra: Any) -> dict[str, Any]:
    query = {"id": "1", "from": {"id": 4242, "is_bot": False, "first_name": "Li"}, "chat_instance": "ci", "data": data}
    return {"update_id": 1, "callback_query": {**query, **extra}}


BOT_COMMAND = {"type": "bot_command", "offset": 0, "length": 6}
TELEGRAM_CORPUS: list[Any] = [
    _update(text="hello"),
    _update(text="/start", entities=[BOT_COMMAND]),
    _update(text="/human", entities=[BOT_COMMAND]),
    _update(text="/start", entities=[{"type": "bot_command", "offset": 50, "length": -3}]),
    *(_update(text=text) for text in ["   ", "\u200b", "x" * LONG, "\ud800", "a\x00b"]),
    *(_update(date=date) for date in [10**20, -(10**20), "yesterday", 1.5e300]),
    *(_update(chat=chat) for chat in [[], "4242", {"id": None, "type": "private"}]),
    *(_update(chat={"id": chat_id, "type": "private"}, text="hi") for chat_id in ["abc", 1.5, 2**70]),
    _update(**{"from": None, "text": "hello"}),
    _update(**{"from": [], "text": "hello"}),
    *(
        _update(photo=photo)
        for photo in [[{"file_id": "f"}], "nope", [{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}]]
    ),
    {"update_id": 1},
    {"update_id": "x", "message": {}},
    {"update_id": 2**70},
    {"update_id": 1, "message": []},
    {"update_id": 1, "message": "hello"},
    _callback("/rate 9"),
    _callback("/rate 5"),
    _callback("/rate 5", message=_update(text="buttons")["message"]),
    _callback("x", **{"from": "Li"}),
]


WEBSOCKET_HANDSHAKE: Headers = (
    (b"Connection", b"Upgrade"),
    (b"Upgrade", b"websocket"),
    (b"Sec-WebSocket-Key", b"dGhlIHNhbXBsZSBub25jZQ=="),
    (b"Sec-WebSocket-Version", b"13"),
)
STATUSES = ("assigned", "queued", "resolved", "bot")  # the first is the corpus's default and drawn most


def conv_ref(status: str) -> bytes:
    return b"{conv:%s}" % status.encode()


def token_ref(status: str) -> bytes:
    return b"{token:%s}" % status.encode()


async def call(port: int, method: str, path: str, token: str | None = None, body: Any = None) -> Any:
    head = ((b"Authorization", b"Bearer " + token.encode()),) if token else ()
    answer = await exchange(port, Req("setup", method, path.encode(), head, None if body is None else dump(body)))
    assert answer.status < 300, answer
    return json.loads(answer.body)


@dataclass
class ConversationPool:
    """A conversation in each status (Rasa is down, so one message queues it), named in requests by
    placeholders: `{conv:assigned}` and `{token:assigned}` are a conversation assigned to the agent
    and its customer's token. One that a request moved on is replaced before the next request."""

    port: int
    agent_token: str
    sessions: Any
    current: dict[str, tuple[str, str]] = field(default_factory=dict)

    async def values(self) -> dict[bytes, bytes]:
        with self.sessions() as s:
            moved = [
                status
                for status in STATUSES
                if status not in self.current or s.get(Conversation, self.current[status][0]).status != status
            ]
        for status in moved:
            self.current[status] = await self.open(status)
        refs = {conv_ref(status): c.encode() for status, (c, _) in self.current.items()}
        return refs | {token_ref(status): t.encode() for status, (_, t) in self.current.items()}

    async def open(self, status: str) -> tuple[str, str]:
        opened = await call(self.port, "POST", "/api/conversations")
        conv_id, token = opened["conversation_id"], opened["token"]
        if status != "bot":
            await call(self.port, "POST", f"/api/conversations/{conv_id}/messages", token, {"text": "a human please"})
        for step in {"assigned": ["claim"], "resolved": ["claim", "resolve"]}.get(status, []):
            await call(self.port, "POST", f"/api/agent/conversations/{conv_id}/{step}", self.agent_token)
        return conv_id, token


async def test_gateway_endpoints_answer_json_and_never_half_write(stack: Stack, tmp_path: Path) -> None:
    fake = TelegramLikeBotApi(f"fuzz_telegram{next(_names)}")
    db_url = database_url("sqlite", tmp_path)
    db_path = db_url.removeprefix("sqlite:///")
    async with serve(fake.app) as fake_url:
        port = free_port()
        config = replace(
            gateway_config(db_url, stack, rasa_url=UNREACHABLE_RASA),
            telegram_token=TELEGRAM_TOKEN,
            telegram_api_url=fake_url,
            telegram_secret=TELEGRAM_SECRET,
            telegram_webhook_url=f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
        )
        with captured_logs() as log, contextlib.closing(sqlite3.connect(db_path)) as version_db:
            async with running_gateway(config, port=port) as gw:
                desk, channel = gw.app.ctx.desk, gw.app.ctx.telegram
                login = {"username": "alice", "password": "alice-demo"}
                agent_token = (await call(port, "POST", "/api/agent/login", body=login))["token"]
                pool = ConversationPool(port, agent_token, desk.sessions)
                secret = TELEGRAM_SECRET.encode()
                convs, tokens = [conv_ref(s) for s in STATUSES], [token_ref(s) for s in STATUSES]
                tokens.append(agent_token.encode())

                def auth_for(route: Any, path: dict[str, bytes]) -> tuple[Headers, bytes]:
                    """The agent's token on its API, the customer's (of the conversation) on theirs."""
                    key = route_key(route)
                    status = next((s for s in STATUSES if path.get("conv_id") == conv_ref(s)), "bot")
                    token = agent_token.encode() if key.startswith("agent_api") else token_ref(status)
                    if route.ctx.websocket:
                        return WEBSOCKET_HANDSHAKE, b"token=" + token
                    if key.startswith("telegram_api"):
                        return ((b"X-Telegram-Bot-Api-Secret-Token", secret),), b""
                    if key.startswith(("customer_api", "agent_api")) and not key.endswith(
                        ("open_conversation", "login")
                    ):
                        return ((b"Authorization", b"Bearer " + token),), b""
                    return (), b""

                async def settle() -> None:
                    await asyncio.wait_for(channel.app.update_queue.join(), ANSWER_TIMEOUT)

                target = Target(
                    name="gateway",
                    port=port,
                    routes=sorted(gw.app.router.routes, key=lambda r: (r.path, sorted(r.methods))),
                    path_values={"conv_id": convs, "name": [b"widget.js", b"style.css", b"nope.js"]},
                    query_values={b"after": [b"0", b"1", b"3", b"999999999", b"1000000000"], b"token": tokens},
                    header_values={
                        b"Authorization": [b"Bearer " + t for t in tokens],
                        b"X-Telegram-Bot-Api-Secret-Token": [secret],
                        **{name: [value] for name, value in WEBSOCKET_HANDSHAKE},
                    },
                    auth_for=auth_for,
                    models=schema_models(gateway_schemas),
                    known=Known(
                        strings=[
                            "hello",
                            "I want a human",
                            "where is my order 80000001",
                            "alice",
                            "alice-demo",
                            "Great",
                        ],
                        ints=[0, 1, 5, 6, -1],
                        by_field={"text": "hello", "rating": 5, "username": "bob", "password": "wrong"},
                    ),
                    records=functools.partial(cached_records, version_db, desk.sessions, {}),
                    damage=gateway_damage,
                    settle=settle,
                    bodies_by_route={"telegram_api.webhook": TELEGRAM_CORPUS},
                    shapes_by_route={"telegram_api.webhook": telegram_updates()},
                    placeholders=pool.values,
                )
                await fuzz(target, GATEWAY_EXAMPLES, log)
                await settle()
                final = gateway_records(desk.sessions)
                damage = [p for c in sorted(final.conversations) for p in conversation_damage(final, c)]
                assert not damage and not final.pending, "\n".join(damage) + f"\npending: {final.pending!r}"


# --- the platform stub --------------------------------------------------------------------------


async def test_platform_endpoints_answer_json_and_commit_nothing_on_4xx(platform: Platform) -> None:
    port = int(platform.url.rsplit(":", 1)[1])
    key = ((b"X-Api-Key", API_KEY.encode()),)
    owners: dict[str, int] = {}
    numbers: dict[str, set[bytes]] = {"R": set(), "F": set()}
    items: set[int] = set()
    emails, phones = [], []
    for n in range(80000001, 80000014):
        answer = await exchange(port, Req("setup", "GET", b"/api/v1/orders/%d" % n, key))
        assert answer.status == 200, answer
        order = json.loads(answer.body)
        owners[order["number"]] = order["customer"]["id"]
        emails.append(order["customer"]["email"])
        phones.append(order["customer"]["phone"])
        items.update(i["id"] for i in order["items"])
        numbers["R"].update(r["number"].encode() for r in order["returns"])
        numbers["F"].update(r["number"].encode() for r in order["refunds"])
    orders = [b"80000001", b"80000003", b"80000008"]
    # Customers to freeze: none owns an order the fuzz files returns for (frozen, they would all be 409).
    bystanders = sorted(set(owners.values()) - {owners[n.decode()] for n in orders})

    def platform_auth(route: Any, path: dict[str, bytes]) -> tuple[Headers, bytes]:
        """The key on the API; an idempotency key where the handler reads one."""
        if not route.path.startswith("api/"):
            return (), b""
        idempotent = "Idempotency-Key" in handler_source(route)
        return (*key, *([(b"Idempotency-Key", b"fuzz-corpus")] if idempotent else [])), b""

    db = sqlite3.connect(platform.db_url.removeprefix("sqlite:///"))  # only to read PRAGMA data_version
    target = Target(
        name="platform",
        port=port,
        routes=sorted(
            create_platform(PlatformConfig("sqlite://", API_KEY), name=f"fuzz_platform{next(_names)}").router.routes,
            key=lambda r: (r.path, sorted(r.methods)),
        ),
        path_values={
            "number": orders,
            "customer_id": [str(c).encode() for c in bystanders],
            "return_number": sorted(numbers["R"]) or [b"R50000001"],
            "refund_number": sorted(numbers["F"]) or [b"F60000001"],
            "ticket_number": [b"C70000001"],
        },
        query_values={b"dry_run": [b"1", b"true", b"0", b"false"]},
        header_values={b"X-Api-Key": [API_KEY.encode()], b"Idempotency-Key": [b"fuzz-1", b"fuzz-2"]},
        auth_for=platform_auth,
        models=schema_models(platform_schemas),
        known=Known(
            strings=[*emails[:2], *phones[:2], "80000001", "80000003", "It arrived broken.", "fraud suspected"],
            ints=sorted(set(owners.values())) + sorted(items)[:4] + [0, 2**31 - 1, 2**31],
            by_field={"email": emails[0], "customer_id": owners["80000001"], "description": "It arrived broken."},
        ),
        records=lambda: int(db.execute("PRAGMA data_version").fetchone()[0]),
        damage=lambda _before, _after: [],
    )
    with contextlib.closing(db), captured_logs() as log:
        await fuzz(target, PLATFORM_EXAMPLES, log)
