"""The keys brace keeps in the ASGI scope, each declared once with the type of its value.

A `ScopeKey` is a `str` (so `scope[PATH_VALUES]` costs what a literal would on the hot path)
that also reads and writes its value with its type: `REQUEST_ID.get(scope)` is a `str | None`.
Batteries declare their own keys the same way, in their own modules; declaring a name twice
is an error, so two packages can never share a key by accident.
"""

from __future__ import annotations

import re
import uuid
from typing import Any, Generic, TypeVar, cast

from .types import Scope

__all__ = [
    "ACCESS_LOGGED",
    "BEFORE_HANDLER",
    "BODY",
    "FORM",
    "PATH_VALUES",
    "REQUEST_ID",
    "RESPONSE_STARTED",
    "ROUTE_VALUES",
    "STATE",
    "ScopeKey",
    "request_id_of",
]

T = TypeVar("T")

_declared: dict[str, str] = {}


class ScopeKey(str, Generic[T]):
    """A scope key and the type of what it holds."""

    __slots__ = ()

    def __new__(cls, name: str, doc: str = "") -> ScopeKey[T]:
        if name in _declared:
            raise ValueError(f"scope key {name!r} is already declared ({_declared[name]})")
        _declared[name] = doc or name
        return super().__new__(cls, name)

    def get(self, scope: Scope, default: T | None = None) -> T | None:
        return cast("T | None", scope.get(self, default))

    def set(self, scope: Scope, value: T) -> None:
        scope[self] = value

    def pop(self, scope: Scope) -> T | None:
        return cast("T | None", scope.pop(self, None))


def declared_keys() -> dict[str, str]:
    """Every declared key with what it holds (for docs and the test that keeps keys single)."""
    return dict(_declared)


PATH_VALUES: ScopeKey[tuple[tuple[str, ...], Any]] = ScopeKey(
    "brace.path_values", "the matched route's parameter names and converted values"
)
ROUTE_VALUES: ScopeKey[Any] = ScopeKey(
    "brace.route_values", "the matched path values, through a router's middleware"
)
BODY: ScopeKey[Any] = ScopeKey("brace.body", "the request body once read (or a streamed mark)")
FORM: ScopeKey[Any] = ScopeKey("brace.form", "the parsed form, closed after the response")
STATE: ScopeKey[dict[str, Any]] = ScopeKey("brace.state", "request.state's values")
RESPONSE_STARTED: ScopeKey[bool] = ScopeKey(
    "brace.response_started", "an error came after the response began: nothing more to send"
)
REQUEST_ID: ScopeKey[str] = ScopeKey("brace.request_id", "the id logs and error pages show")
ACCESS_LOGGED: ScopeKey[bool] = ScopeKey(
    "brace.access_log", "an outer brace app already logs this request"
)

BEFORE_HANDLER: ScopeKey[tuple[Any, ...]] = ScopeKey(
    "brace.before_handler",
    "post-routing checks a middleware attached to this request: `hook(connection, route)`",
)

_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")


def request_id_of(scope: Scope) -> str:
    """The id the RequestID middleware gave this request, or the client's well-formed
    `X-Request-ID`, or a fresh one; kept in the scope so that every log line agrees."""
    rid = scope.get(REQUEST_ID)
    if rid:
        return str(rid)
    for key, value in scope.get("headers", ()):
        if key == b"x-request-id":
            text: str = value.decode("latin-1")
            if _SAFE_REQUEST_ID.fullmatch(text):
                scope[REQUEST_ID] = text
                return text
    rid = uuid.uuid4().hex[:16]
    scope[REQUEST_ID] = rid
    return rid
