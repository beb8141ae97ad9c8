"""TrustedHostMiddleware: exact and wildcard hosts, hostile Host headers, www redirect."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from brace.middleware import TrustedHostMiddleware
from brace.testing import TestClient
from brace.types import ASGIApp, Message, Receive, Scope, Send

RunRaw = Callable[[ASGIApp, Scope], list[Message]]  # the `run_raw` fixture (conftest.py)


class Hello:
    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return  # a test app with no start-up work
        self.calls += 1
        if scope["type"] == "websocket":
            await send({"type": "websocket.accept"})
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"hello"})


def fetch(app: ASGIApp, url: str = "/", host: str | None = None, **kwargs: Any) -> httpx.Response:
    headers = kwargs.pop("headers", {})
    if host is not None:
        headers["Host"] = host

    with TestClient(app, base_url="http://testserver") as client:
        return client.get(url, headers=headers, **kwargs)


def raw_scope(headers: list[tuple[bytes, bytes]], scope_type: str = "http") -> Scope:
    return {
        "type": scope_type,
        "scheme": "ws" if scope_type == "websocket" else "http",
        "method": "GET",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "headers": headers,
    }


def assert_invalid(response: httpx.Response) -> None:
    assert response.status_code == 400
    assert response.text == "Invalid host header"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


# --- allowed ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "example.com",
        "EXAMPLE.com",
        "example.com:8000",
        "api.example.com",
        "a.b.example.com",
        "127.0.0.1:80",
        "[::1]:8000",
        "[::1]",
    ],
)
def test_allowed_hosts(host: str) -> None:
    inner = Hello()
    app = TrustedHostMiddleware(
        inner, allowed_hosts=["example.com", "*.example.com", "127.0.0.1", "[::1]"]
    )
    response = fetch(app, host=host)
    assert response.status_code == 200
    assert inner.calls == 1


def test_default_allows_everything_even_without_host(run_raw: RunRaw) -> None:
    inner = Hello()
    app = TrustedHostMiddleware(inner)
    assert fetch(app, host="evil.com").status_code == 200
    messages = run_raw(app, raw_scope([]))
    assert messages[0]["status"] == 200


# --- refused ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "evil.com",
        "a.example.com.evil.com",
        "example.com.evil.com",
        "badexample.com",
        "example.co",
        "xexample.com",
        ".example.com",
        "example.com.",
        "",
        " ",
        "example.com:",
        "example.com:abc",
        "example.com:123456",
        "example.com:80:80",
        "user@example.com",
        "evil.com#example.com",
        "evil.com/example.com",
        "evil.com\\.example.com",
        "example.com\r\nX-Evil: 1",
        "example.com\n",
        "example.com example.com",
        "[::1",
        "*.example.com",
        "a" * 10_000 + ".example.org",
    ],
)
def test_hostile_or_unknown_hosts_are_refused(host: str) -> None:
    inner = Hello()
    app = TrustedHostMiddleware(inner, allowed_hosts=["example.com", "*.example.org"])
    response = fetch(app, host=host)
    assert_invalid(response)
    assert "x-evil" not in response.headers
    assert inner.calls == 0


def test_wildcard_does_not_match_the_bare_domain() -> None:
    app = TrustedHostMiddleware(Hello(), allowed_hosts=["*.example.com"])
    assert_invalid(fetch(app, host="example.com"))


def test_missing_host_is_refused_unless_star(run_raw: RunRaw) -> None:
    inner = Hello()
    messages = run_raw(TrustedHostMiddleware(inner, allowed_hosts=["example.com"]), raw_scope([]))
    assert messages[0]["status"] == 400
    assert messages[1]["body"] == b"Invalid host header"
    assert inner.calls == 0


def test_two_host_headers_are_refused(run_raw: RunRaw) -> None:
    headers = [(b"host", b"example.com"), (b"host", b"example.com")]
    app = TrustedHostMiddleware(Hello(), allowed_hosts=["example.com"])
    assert run_raw(app, raw_scope(headers))[0]["status"] == 400


def test_star_among_others_allows_anything() -> None:
    app = TrustedHostMiddleware(Hello(), allowed_hosts=["example.com", "*"])
    assert fetch(app, host="evil.com").status_code == 200


# --- www redirect -------------------------------------------------------------------------


def test_bare_domain_redirects_to_allowed_www() -> None:
    inner = Hello()
    app = TrustedHostMiddleware(inner, allowed_hosts=["www.example.com"])
    response = fetch(app, "/a/b?x=1&y=2", host="example.com:8000")
    assert response.status_code == 308
    assert response.headers["location"] == "http://www.example.com:8000/a/b?x=1&y=2"
    assert inner.calls == 0


def test_www_redirect_keeps_hostile_paths_encoded() -> None:
    app = TrustedHostMiddleware(Hello(), allowed_hosts=["www.example.com"])
    response = fetch(app, "/%0D%0ASet-Cookie:%20x=1/caf%C3%A9", host="example.com")
    assert response.status_code == 308
    assert response.headers["location"] == (
        "http://www.example.com/%0D%0ASet-Cookie:%20x=1/caf%C3%A9"
    )
    assert "set-cookie" not in response.headers


def test_www_redirect_can_be_disabled() -> None:
    app = TrustedHostMiddleware(Hello(), allowed_hosts=["www.example.com"], www_redirect=False)
    assert_invalid(fetch(app, host="example.com"))


def test_www_redirect_needs_an_exact_www_entry() -> None:
    app = TrustedHostMiddleware(Hello(), allowed_hosts=["*.example.com"])
    assert_invalid(fetch(app, host="example.com"))


def test_no_redirect_for_unrelated_hosts() -> None:
    app = TrustedHostMiddleware(Hello(), allowed_hosts=["www.example.com"])
    assert_invalid(fetch(app, host="evil.com"))
    assert_invalid(fetch(app, host="www.evil.com"))


# --- websocket and lifespan ---------------------------------------------------------------


def test_websocket_with_bad_host_is_closed_before_the_app_runs(run_raw: RunRaw) -> None:
    inner = Hello()
    app = TrustedHostMiddleware(inner, allowed_hosts=["example.com"])
    messages = run_raw(app, raw_scope([(b"host", b"evil.com")], "websocket"))
    assert messages == [{"type": "websocket.close", "code": 1008}]
    assert inner.calls == 0


def test_websocket_with_good_host_reaches_the_app(run_raw: RunRaw) -> None:
    app = TrustedHostMiddleware(Hello(), allowed_hosts=["example.com"])
    messages = run_raw(app, raw_scope([(b"host", b"example.com")], "websocket"))
    assert messages == [{"type": "websocket.accept"}]


def test_lifespan_passes_straight_through(run_raw: RunRaw) -> None:
    seen: list[Scope] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope)

    scope: Scope = {"type": "lifespan"}
    run_raw(TrustedHostMiddleware(inner, allowed_hosts=["example.com"]), scope)
    assert seen == [scope]


# --- configuration -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern", ["example.com:80", "ex*ample.com", "*example.com", "a.*.com", "", "http://x.com"]
)
def test_bad_patterns_fail_loudly(pattern: str) -> None:
    with pytest.raises(ValueError):
        TrustedHostMiddleware(Hello(), allowed_hosts=[pattern])


def test_hosts_as_a_string_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        TrustedHostMiddleware(Hello(), allowed_hosts="example.com")


def test_is_allowed_host() -> None:
    app = TrustedHostMiddleware(Hello(), allowed_hosts=["EXAMPLE.com", "*.Example.org"])
    assert app.is_allowed_host("example.com")
    assert app.is_allowed_host("a.example.org")
    assert not app.is_allowed_host("example.org")
