"""SecurityHeadersMiddleware: defaults, HSTS following debug, and handler-set headers."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from brace.middleware import SecurityHeadersMiddleware
from brace.testing import TestClient
from brace.types import ASGIApp, Message, Receive, Scope, Send

HSTS = "max-age=31536000; includeSubDomains"


def hello(headers: list[tuple[bytes, bytes]] | None = None) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return  # a test app with no start-up work
        raw = list(headers or [])
        await send({"type": "http.response.start", "status": 200, "headers": raw})
        await send({"type": "http.response.body", "body": b"hello"})

    return app


def with_app_in_scope(app: ASGIApp, debug: bool) -> ASGIApp:
    """Stand-in for the core App, which puts itself in scope["app"]."""
    owner = SimpleNamespace(debug=debug)

    async def outer(scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = owner
        await app(scope, receive, send)

    return outer


def fetch(app: ASGIApp, **kwargs: Any) -> httpx.Response:
    with TestClient(app, base_url="http://testserver") as client:
        return client.get("/", **kwargs)


def test_defaults() -> None:
    response = fetch(SecurityHeadersMiddleware(hello()))
    assert response.text == "hello"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert response.headers["strict-transport-security"] == HSTS
    assert "content-security-policy" not in response.headers
    assert "permissions-policy" not in response.headers


def test_hsts_is_off_in_debug_and_on_in_production() -> None:
    debug = fetch(with_app_in_scope(SecurityHeadersMiddleware(hello()), debug=True))
    assert "strict-transport-security" not in debug.headers
    assert debug.headers["x-content-type-options"] == "nosniff"
    production = fetch(with_app_in_scope(SecurityHeadersMiddleware(hello()), debug=False))
    assert production.headers["strict-transport-security"] == HSTS


def test_hsts_can_be_forced_either_way() -> None:
    forced_on = SecurityHeadersMiddleware(hello(), hsts=True, hsts_max_age=60)
    response = fetch(with_app_in_scope(forced_on, debug=True))
    assert response.headers["strict-transport-security"] == "max-age=60; includeSubDomains"
    forced_off = SecurityHeadersMiddleware(hello(), hsts=False)
    assert "strict-transport-security" not in fetch(forced_off).headers


def test_hsts_without_subdomains() -> None:
    app = SecurityHeadersMiddleware(hello(), include_subdomains=False)
    assert fetch(app).headers["strict-transport-security"] == "max-age=31536000"


def test_optional_policies() -> None:
    app = SecurityHeadersMiddleware(
        hello(),
        frame_options="sameorigin",
        referrer_policy=None,
        content_security_policy="default-src 'self'",
        permissions_policy="geolocation=()",
    )
    response = fetch(app)
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    assert "referrer-policy" not in response.headers
    assert response.headers["content-security-policy"] == "default-src 'self'"
    assert response.headers["permissions-policy"] == "geolocation=()"


def test_frame_options_can_be_disabled() -> None:
    response = fetch(SecurityHeadersMiddleware(hello(), frame_options=None))
    assert "x-frame-options" not in response.headers


def test_handler_headers_are_never_overwritten() -> None:
    inner = hello(
        [
            (b"X-Frame-Options", b"SAMEORIGIN"),
            (b"content-security-policy", b"default-src *"),
            (b"strict-transport-security", b"max-age=0"),
        ]
    )
    app = SecurityHeadersMiddleware(inner, content_security_policy="default-src 'self'")
    response = fetch(app)
    assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert response.headers.get_list("content-security-policy") == ["default-src *"]
    assert response.headers.get_list("strict-transport-security") == ["max-age=0"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_a_reused_start_message_does_not_accumulate_headers() -> None:
    start: Message = {"type": "http.response.start", "status": 200, "headers": []}

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return  # a test app with no start-up work
        await send(start)
        await send({"type": "http.response.body", "body": b""})

    app = SecurityHeadersMiddleware(inner)
    fetch(app)
    fetch(app)
    assert start["headers"] == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"frame_options": "ALLOW-FROM https://example.com"},
        {"content_security_policy": "default-src 'self'\r\nSet-Cookie: x=1"},
        {"permissions_policy": "a=()\n"},
        {"referrer_policy": "no-referrer\0"},
        {"hsts_max_age": -1},
    ],
)
def test_bad_configuration_fails_loudly(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        SecurityHeadersMiddleware(hello(), **kwargs)


@pytest.mark.parametrize("scope_type", ["lifespan", "websocket"])
def test_other_scopes_pass_straight_through(scope_type: str) -> None:
    seen: list[tuple[Scope, Receive, Send]] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append((scope, receive, send))

    async def receive() -> Message:
        return {"type": f"{scope_type}.startup"}

    async def send(message: Message) -> None:
        pass

    scope: Scope = {"type": scope_type, "headers": []}
    asyncio.run(SecurityHeadersMiddleware(inner)(scope, receive, send))
    assert seen == [(scope, receive, send)]
