"""JSON errors for every Sanic app of the project: a clear body, never a stack trace."""

from __future__ import annotations

import logging
import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sanic import Sanic
from sanic.exceptions import SanicException
from sanic.http import Http
from sanic.request import Request
from sanic.response import HTTPResponse, json
from sqlalchemy.exc import IntegrityError, OperationalError

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error the client can act on: an HTTP status, a stable code, a message, maybe a field and headers."""

    def __init__(
        self, status: int, code: str, message: str, field: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            error["field"] = self.field
        return {"error": error}


def bad_request(field: str, message: str) -> ApiError:
    return ApiError(400, "invalid_field", message, field)


def not_found(what: str, key: str) -> ApiError:
    return ApiError(404, "not_found", f"No {what} {key!r}.")


def conflict(code: str, message: str) -> ApiError:
    return ApiError(409, code, message)


def too_many_attempts(message: str, retry_after: int) -> ApiError:
    """A 429 whose Retry-After header says how many whole seconds to wait."""
    return ApiError(429, "too_many_attempts", message, headers={"Retry-After": str(max(1, retry_after))})


_SANIC_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}


def _tolerate_unparsable_urls() -> None:
    """Sanic 21.12 drops the connection, unanswered, on a request line with raw non-ASCII bytes.

    Its error path rebuilds a placeholder request from the same URL and fails again (sanic#2735,
    fixed in later Sanic); here the placeholder gets "/" instead, so the error gets its answer.
    """
    if getattr(Http.create_empty_request, "tolerant", False):
        return
    original = Http.create_empty_request

    def create_empty_request(self: Http) -> None:
        try:
            original(self)
        except Exception:  # the URL httptools refused, or one that is not UTF-8
            self.url = "/"
            original(self)

    create_empty_request.tolerant = True  # type: ignore[attr-defined]
    Http.create_empty_request = create_empty_request  # type: ignore[method-assign]


def install_error_handlers(app: Sanic) -> None:
    """Maps our errors, Sanic's and unexpected ones to JSON bodies with the right status."""
    _tolerate_unparsable_urls()

    @app.exception(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> HTTPResponse:
        return json(exc.body(), status=exc.status, headers=exc.headers)

    @app.exception(IntegrityError)
    async def _integrity(_request: Request, exc: IntegrityError) -> HTTPResponse:
        log.warning("integrity conflict: %s", exc.orig)
        err = conflict("conflict", "The request conflicts with a concurrent change; retry it.")
        return json(err.body(), status=409)

    @app.exception(SanicException)
    async def _sanic_error(_request: Request, exc: SanicException) -> HTTPResponse:
        status = getattr(exc, "status_code", 500) or 500
        code = _SANIC_CODES.get(status, "error")
        message = (str(exc) or code.replace("_", " ").capitalize() + ".") if status < 500 else "Internal error."
        return json({"error": {"code": code, "message": message}}, status=status)

    @app.exception(OperationalError)
    async def _database_away(request: Request, exc: OperationalError) -> HTTPResponse:
        """The database cannot be reached or is busy (restarting, the network, a lock): a 503, so the client
        tries again; what the request began is rolled back, and a message sent again with its client_id is
        stored once. Any other database error is a fault of ours: a 500, logged with its trace."""
        if not transient(exc):
            log.exception("database error on %s %s", request.method, request.path)
            return json({"error": {"code": "internal_error", "message": "Internal error."}}, status=500)
        log.warning("database unavailable on %s %s: %s", request.method, request.path, exc.orig)
        body = {"error": {"code": "unavailable", "message": "The service is briefly unavailable; try again."}}
        return json(body, status=503, headers={"Retry-After": "2"})

    @app.exception(Exception)
    async def _unexpected(request: Request, exc: Exception) -> HTTPResponse:
        if request.method == "NONE":  # Sanic's placeholder: the request line itself could not be read
            return json({"error": {"code": "bad_request", "message": "The request line is not valid."}}, status=400)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json({"error": {"code": "internal_error", "message": "Internal error."}}, status=500)


# SQLSTATE classes of a database that is away or busy: connection, resources, operator intervention, rollback.
_TRANSIENT_CLASSES = {"08", "53", "57", "40"}
_TRANSIENT_WORDS = ("connect", "connection", "server closed", "locked", "busy", "unable to open", "timeout")


def transient(exc: OperationalError) -> bool:
    """Whether the database error says the database is away or busy (worth retrying), not that we erred."""
    if exc.connection_invalidated:
        return True
    code = getattr(exc.orig, "pgcode", None)
    if code:
        return str(code)[:2] in _TRANSIENT_CLASSES
    text = str(exc.orig).lower()
    return any(word in text for word in _TRANSIENT_WORDS)


def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object, or a 400 that says the body is not one."""
    try:
        body = request.json
    except Exception as exc:  # Sanic raises InvalidUsage with its own wording
        raise ApiError(400, "invalid_json", "The body is not valid JSON.") from exc
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "The body must be a JSON object.")
    if _MAYBE_UNSTORABLE.search(request.body):
        check_strings(body)
    return body


# What a NUL or a lone surrogate can only come from in a JSON body: its escape (`\u0000`, `\ud800` to
# `\udfff`), a raw NUL byte, or a surrogate's UTF-8 bytes. A body without any of them needs no walk through
# its strings (the action server's bodies carry the whole tracker); one with them is walked (an escaped
# backslash before `u0000` is only text, and the walk says so).
_MAYBE_UNSTORABLE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])|\x00|\xed[\xa0-\xbf]")


def string_problem(text: str) -> str | None:
    """Why a database cannot store `text`: a NUL character or a lone surrogate (what undecodable bytes become)."""
    if "\x00" in text:
        return "contains a NUL character (\\u0000), which is not allowed"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode (it holds a lone surrogate such as \\ud800)"
    return None


def check_strings(body: Any) -> None:
    """Rejects, at any depth, keys and values that no database can store, with a 400 naming where one is."""
    stack: list[tuple[tuple[str, ...], Any]] = [((), body)]  # a loop, not recursion: the client picks the depth
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if (problem := string_problem(key)) is not None:
                    where = ".".join(path) or "body"
                    raise ApiError(400, "invalid_json", f"A key in {where!r} {problem}.", where)
                stack.append(((*path, key), item))
        elif isinstance(value, list):
            stack.extend(((*path, str(i)), item) for i, item in enumerate(value))
        elif isinstance(value, str) and (problem := string_problem(value)) is not None:
            where = ".".join(path)
            raise ApiError(400, "invalid_json", f"The string in {where!r} {problem}.", where)


M = TypeVar("M", bound=BaseModel)


def parse_body(model: type[M], body: dict[str, Any], root_field: str = "body") -> M:
    """Validates `body` against `model`; the first error becomes a 400 naming its field."""
    try:
        return model.parse_obj(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = [str(part) for part in first["loc"] if part != "__root__"]
        field = ".".join(loc) or root_field
        if first["type"] == "value_error.extra":
            raise bad_request(field, f"Unknown field {field!r}.") from exc
        raise bad_request(field, f"{field}: {first['msg']}") from exc
