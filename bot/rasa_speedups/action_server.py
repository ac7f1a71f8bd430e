"""Rasa's side of the action server: its responses checked once per schema, its connections kept."""

from __future__ import annotations

import asyncio
import copy
import os
import ssl
from functools import cache
from typing import Any

import aiohttp
import jsonschema
from aiohttp.client_exceptions import ContentTypeError
from jsonschema.protocols import Validator
from rasa.core.actions.action import RemoteAction
from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.exceptions import FileNotFoundException
from rasa.shared.utils.schemas.events import EVENT_SCHEMA
from rasa.utils.endpoints import ClientResponseError, EndpointConfig, concat_url

# Idle connections to an endpoint are closed after this many seconds, before the server would close them
# (Sanic, which serves the action server, keeps an idle connection for 5 s): a request never goes out on a
# connection the server is closing.
KEEPALIVE_SECONDS = 2.0


@cache
def action_response_validator() -> Validator:
    """The action server's response schema, checked once and compiled into a validator.

    `jsonschema.validate`, which Rasa calls per action, first checks the schema itself against the
    meta-schema and builds a new validator: about 25 ms a call here, against 1 ms for the same check
    with a validator built once. Under load it was a third of the Rasa process's CPU.
    """
    schema = RemoteAction.action_response_format_spec()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


@cache
def _event_validators() -> tuple[Validator, dict[str, Validator]]:
    """The response schema without the per-event `oneOf`, and one validator per event type.

    Rasa's event schema is a `oneOf` of 23 alternatives, each fixing `event` to a different constant, so
    jsonschema tries all 23 on every event. At most one alternative can match an event (the one whose
    constant is its `event`), so an event is valid exactly when it passes the common part and that one
    alternative: the same verdict for a tenth of the work.
    """
    schema = copy.deepcopy(RemoteAction.action_response_format_spec())
    common = {key: value for key, value in EVENT_SCHEMA.items() if key != "oneOf"}
    schema["properties"]["events"] = {"type": "array", "items": common}
    validator_class = jsonschema.validators.validator_for(schema)
    by_type = {alt["properties"]["event"]["const"]: validator_class(alt) for alt in EVENT_SCHEMA["oneOf"]}
    return validator_class(schema), by_type


def _surely_valid(result: Any) -> bool:
    """True when `result` passes Rasa's response schema, checked by event type (see `_event_validators`)."""
    outer, by_type = _event_validators()
    if not outer.is_valid(result):
        return False
    for event in result.get("events") or []:
        validator = by_type.get(event["event"])
        if validator is None or not validator.is_valid(event):
            return False
    return True


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """Rasa's `RemoteAction._validate_action_result`, with the schema compiled once and split by event type.

    A valid response is recognised by the fast check; anything else goes through the whole schema, so
    the error raised is the one `jsonschema.validate` would raise (the best match among all errors).
    """
    if _surely_valid(result):
        return True
    error = jsonschema.exceptions.best_match(action_response_validator().iter_errors(result))
    if error is not None:
        error.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


_sessions: dict[int, tuple[EndpointConfig, asyncio.AbstractEventLoop, aiohttp.ClientSession]] = {}


def _session(endpoint: EndpointConfig) -> aiohttp.ClientSession:
    """The endpoint's client session in the running event loop, kept open so that its connections are reused."""
    loop = asyncio.get_running_loop()
    held = _sessions.get(id(endpoint))
    if held is None or held[0] is not endpoint or held[1] is not loop or held[2].closed:
        auth = None
        if endpoint.basic_auth:
            auth = aiohttp.BasicAuth(endpoint.basic_auth["username"], endpoint.basic_auth["password"])
        # Rasa's `EndpointConfig.session` settings, with a connector that keeps connections
        session = aiohttp.ClientSession(
            headers=endpoint.headers,
            auth=auth,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS),
        )
        held = _sessions[id(endpoint)] = (endpoint, loop, session)
    return held[2]


async def endpoint_request(
    self: EndpointConfig,
    method: str = "post",
    subpath: str | None = None,
    content_type: str | None = "application/json",
    compress: bool = False,
    **kwargs: Any,
) -> Any:
    """Rasa's `EndpointConfig.request` on a session kept per endpoint instead of a new one per request.

    Rasa opens a client session, and so a new TCP connection, for every call to the action server
    (several per message); this sends the same request, with the same headers, parameters and errors,
    over a kept connection.
    """
    headers = {}
    if content_type:
        headers["Content-Type"] = content_type
    if "headers" in kwargs:
        headers.update(kwargs.pop("headers"))
    if self.headers:
        headers.update(self.headers)
    url = concat_url(self.url, subpath)
    sslcontext = None
    if self.cafile:
        try:
            sslcontext = ssl.create_default_context(cafile=self.cafile)
        except FileNotFoundError as e:
            raise FileNotFoundException(
                f"Failed to find certificate file, '{os.path.abspath(self.cafile)}' does not exist."
            ) from e
    async with _session(self).request(
        method,
        url,
        headers=headers,
        params=self.combine_parameters(kwargs),
        compress=compress,
        ssl=sslcontext,
        **kwargs,
    ) as response:
        if response.status >= 400:
            raise ClientResponseError(response.status, response.reason, await response.content.read())
        try:
            return await response.json()
        except ContentTypeError:
            return None
