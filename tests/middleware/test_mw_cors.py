"""CORSMiddleware: preflights, simple requests, and hostile origins."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from brace.middleware import CORSMiddleware
from brace.testing import TestClient
from brace.types import ASGIApp, Message, Receive, Scope, Send

ORIGIN = "https://example.com"


class Hello:
    """A raw ASGI app that counts its calls and can set extra response headers."""

    def __init__(self, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        self.calls = 0
        self.headers = headers or []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return  # a test app with no start-up work
        self.calls += 1
        headers = [(b"content-type", b"text/plain"), *self.headers]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"hello"})


def fetch(app: ASGIApp, method: str = "GET", url: str = "/", **kwargs: Any) -> httpx.Response:
    with TestClient(app, base_url="http://testserver") as client:
        return client.request(method, url, **kwargs)


def preflight(
    app: ASGIApp, origin: str = ORIGIN, method: str = "GET", headers: str | None = None
) -> httpx.Response:
    request_headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers is not None:
        request_headers["Access-Control-Request-Headers"] = headers
    return fetch(app, "OPTIONS", "/", headers=request_headers)


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


# --- requests without Origin ---------------------------------------------------------------


def test_request_without_origin_is_untouched() -> None:
    inner = Hello()
    response = fetch(CORSMiddleware(inner, allow_origins=[ORIGIN]))
    assert response.status_code == 200
    assert response.text == "hello"
    assert cors_headers(response) == {}
    assert "vary" not in response.headers


def test_options_without_request_method_reaches_the_app() -> None:
    inner = Hello()
    response = fetch(
        CORSMiddleware(inner, allow_origins=[ORIGIN]), "OPTIONS", headers={"Origin": ORIGIN}
    )
    assert inner.calls == 1
    assert response.text == "hello"
    assert response.headers["access-control-allow-origin"] == ORIGIN


# --- simple requests -----------------------------------------------------------------------


def test_allowed_origin_gets_its_origin_back_and_vary() -> None:
    response = fetch(CORSMiddleware(Hello(), allow_origins=[ORIGIN]), headers={"Origin": ORIGIN})
    assert response.text == "hello"
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["vary"] == "Origin"
    assert "access-control-allow-credentials" not in response.headers


def test_disallowed_origin_gets_no_cors_headers_but_still_varies() -> None:
    response = fetch(
        CORSMiddleware(Hello(), allow_origins=[ORIGIN]), headers={"Origin": "https://evil.com"}
    )
    assert response.status_code == 200
    assert cors_headers(response) == {}
    assert response.headers["vary"] == "Origin"


def test_wildcard_answers_star_without_vary() -> None:
    response = fetch(CORSMiddleware(Hello(), allow_origins=["*"]), headers={"Origin": ORIGIN})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "vary" not in response.headers


def test_credentials_and_expose_headers() -> None:
    app = CORSMiddleware(
        Hello(),
        allow_origins=[ORIGIN],
        allow_credentials=True,
        expose_headers=["X-Total-Count", "ETag"],
    )
    response = fetch(app, headers={"Origin": ORIGIN})
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-expose-headers"] == "X-Total-Count, ETag"


def test_existing_vary_is_extended_not_replaced() -> None:
    inner = Hello(headers=[(b"vary", b"Accept-Encoding")])
    response = fetch(CORSMiddleware(inner, allow_origins=[ORIGIN]), headers={"Origin": ORIGIN})
    assert response.headers.get_list("vary") == ["Accept-Encoding, Origin"]


def test_origin_in_a_later_vary_header_is_not_repeated() -> None:
    inner = Hello(headers=[(b"vary", b"Cookie"), (b"vary", b"origin")])
    response = fetch(CORSMiddleware(inner, allow_origins=[ORIGIN]), headers={"Origin": ORIGIN})
    assert response.headers.get_list("vary") == ["Cookie", "origin"]


def test_origin_joins_the_first_of_several_vary_headers() -> None:
    inner = Hello(headers=[(b"vary", b"Cookie"), (b"vary", b"Accept")])
    response = fetch(CORSMiddleware(inner, allow_origins=[ORIGIN]), headers={"Origin": ORIGIN})
    assert response.headers.get_list("vary") == ["Cookie, Origin", "Accept"]


def test_empty_vary_gets_origin() -> None:
    inner = Hello(headers=[(b"vary", b"")])
    response = fetch(CORSMiddleware(inner, allow_origins=[ORIGIN]), headers={"Origin": ORIGIN})
    assert response.headers.get_list("vary") == ["Origin"]


def test_vary_star_is_left_alone() -> None:
    inner = Hello(headers=[(b"vary", b"*")])
    response = fetch(CORSMiddleware(inner, allow_origins=[ORIGIN]), headers={"Origin": ORIGIN})
    assert response.headers.get_list("vary") == ["*"]


def test_handler_cors_headers_are_replaced_by_the_policy() -> None:
    inner = Hello(headers=[(b"access-control-allow-origin", b"*")])
    response = fetch(
        CORSMiddleware(inner, allow_origins=[ORIGIN]), headers={"Origin": "https://evil.com"}
    )
    assert "access-control-allow-origin" not in response.headers


def test_origin_regex_must_match_the_whole_origin() -> None:
    app = CORSMiddleware(Hello(), allow_origin_regex=r"https://[a-z]+\.example\.com")
    ok = fetch(app, headers={"Origin": "https://api.example.com"})
    assert ok.headers["access-control-allow-origin"] == "https://api.example.com"
    for hostile in (
        "https://api.example.com.evil.com",
        "https://api.example.com:8080",
        "http://api.example.com",
        "https://example.com",
    ):
        response = fetch(app, headers={"Origin": hostile})
        assert "access-control-allow-origin" not in response.headers, hostile


@pytest.mark.parametrize(
    "origin",
    [
        "https://example.com.evil.com",
        "https://evil-example.com",
        "https://example.com/",
        "https://example.com/path",
        "https://user@example.com",
        "http://example.com",
        "https://example.com:443",
        "null",
        "",
        " https://example.com",
        "https://example.com\r\nX-Evil: 1",
        "*",
        "https://" + "a" * 10_000 + ".com",
    ],
)
def test_hostile_or_mismatched_origins_are_refused(origin: str) -> None:
    app = CORSMiddleware(Hello(), allow_origins=[ORIGIN], allow_methods=["GET", "POST"])
    response = fetch(app, headers={"Origin": origin})
    assert cors_headers(response) == {}
    assert "x-evil" not in response.headers
    pre = preflight(app, origin=origin, method="POST")
    assert pre.status_code == 400
    assert cors_headers(pre) == {}


def test_regex_can_never_reflect_crlf() -> None:
    # A careless regex that accepts anything must still not echo a header-splitting value.
    app = CORSMiddleware(Hello(), allow_origin_regex=r".*", allow_credentials=True)
    for hostile in ("https://a.com\r\nSet-Cookie: x=1", "https://a.com\nX: 1", "javascript:x"):
        response = fetch(app, headers={"Origin": hostile})
        assert cors_headers(response) == {}
        assert "set-cookie" not in response.headers


def test_huge_origin_with_permissive_regex_is_refused() -> None:
    app = CORSMiddleware(Hello(), allow_origin_regex=r"https://.*")
    response = fetch(app, headers={"Origin": "https://" + "a" * 100_000})
    assert response.status_code == 200
    assert cors_headers(response) == {}


def test_two_origin_headers_are_refused() -> None:
    app = CORSMiddleware(Hello(), allow_origins=[ORIGIN])
    response = fetch(app, headers=[("Origin", ORIGIN), ("Origin", ORIGIN)])
    assert cors_headers(response) == {}


def test_null_origin_needs_to_be_listed() -> None:
    response = fetch(CORSMiddleware(Hello(), allow_origins=["null"]), headers={"Origin": "null"})
    assert response.headers["access-control-allow-origin"] == "null"


# --- preflight -----------------------------------------------------------------------------


def test_allowed_preflight_is_answered_without_calling_the_app() -> None:
    inner = Hello()
    app = CORSMiddleware(
        inner,
        allow_origins=[ORIGIN],
        allow_methods=["GET", "post"],
        allow_headers=["X-Token"],
        max_age=60,
    )
    response = preflight(app, method="POST", headers="X-Token, Content-Type")
    assert inner.calls == 0
    assert response.status_code == 200
    assert response.text == "OK"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["access-control-allow-methods"] == "GET, POST"
    assert response.headers["access-control-allow-headers"] == "x-token, content-type"
    assert response.headers["access-control-max-age"] == "60"
    assert response.headers["vary"] == "Origin"
    assert "access-control-allow-credentials" not in response.headers


def test_preflight_with_credentials_and_wildcard_origin() -> None:
    response = preflight(CORSMiddleware(Hello(), allow_origins=[ORIGIN], allow_credentials=True))
    assert response.headers["access-control-allow-credentials"] == "true"
    wildcard = preflight(CORSMiddleware(Hello(), allow_origins=["*"]))
    assert wildcard.headers["access-control-allow-origin"] == "*"
    assert "vary" not in wildcard.headers


def test_preflight_disallowed_method() -> None:
    inner = Hello()
    response = preflight(CORSMiddleware(inner, allow_origins=[ORIGIN]), method="DELETE")
    assert inner.calls == 0
    assert response.status_code == 400
    assert response.text == "Disallowed CORS method"
    assert cors_headers(response) == {}


def test_preflight_disallowed_header() -> None:
    app = CORSMiddleware(Hello(), allow_origins=[ORIGIN], allow_headers=["X-Token"])
    response = preflight(app, headers="X-Token, X-Other")
    assert response.status_code == 400
    assert response.text == "Disallowed CORS headers"


def test_preflight_disallowed_origin() -> None:
    response = preflight(CORSMiddleware(Hello(), allow_origins=[ORIGIN]), origin="https://evil.com")
    assert response.status_code == 400
    assert response.text == "Disallowed CORS origin"
    assert response.headers["vary"] == "Origin"


def test_safelisted_headers_are_always_allowed_and_empty_items_ignored() -> None:
    response = preflight(
        CORSMiddleware(Hello(), allow_origins=[ORIGIN]), headers="content-type, , Accept"
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-headers"] == "content-type, accept"


def test_any_method_and_any_header_are_echoed() -> None:
    app = CORSMiddleware(Hello(), allow_origins=[ORIGIN], allow_methods=["*"], allow_headers=["*"])
    response = preflight(app, method="PATCH", headers="X-Anything")
    assert response.status_code == 200
    assert response.headers["access-control-allow-methods"] == "PATCH"
    assert response.headers["access-control-allow-headers"] == "x-anything"


@pytest.mark.parametrize(
    ("method", "headers"),
    [
        ("GET\r\nX-Evil: 1", None),
        ("GET", "x-ok\r\nX-Evil: 1"),
        ("GET", "x ok"),
        ("G E T", None),
        ("GET", "x-ok, <script>"),
    ],
)
def test_preflight_rejects_injection_even_with_wildcards(method: str, headers: str | None) -> None:
    app = CORSMiddleware(Hello(), allow_origins=[ORIGIN], allow_methods=["*"], allow_headers=["*"])
    response = preflight(app, method=method, headers=headers)
    assert response.status_code == 400
    assert "x-evil" not in response.headers
    assert cors_headers(response) == {}


def test_huge_request_headers_list_is_refused_unless_every_name_is_allowed() -> None:
    huge = ", ".join(f"x-h{i}" for i in range(5_000))
    strict = CORSMiddleware(Hello(), allow_origins=[ORIGIN], allow_headers=["x-h1"])
    assert preflight(strict, headers=huge).status_code == 400
    permissive = CORSMiddleware(Hello(), allow_origins=[ORIGIN], allow_headers=["*"])
    response = preflight(permissive, headers=huge)
    assert response.status_code == 200
    assert response.headers["access-control-allow-headers"] == huge


# --- configuration -------------------------------------------------------------------------


def test_star_with_credentials_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="allow_credentials"):
        CORSMiddleware(Hello(), allow_origins=["*"], allow_credentials=True)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"allow_origins": ["https://example.com/"]},
        {"allow_origins": ["example.com"]},
        {"allow_origins": ["https://example.com/api"]},
        {"allow_methods": ["GET\r\n"]},
        {"allow_headers": ["X Bad"]},
        {"expose_headers": ["*"], "allow_credentials": True, "allow_origins": [ORIGIN]},
        {"max_age": -1},
    ],
)
def test_bad_configuration_fails_loudly(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        CORSMiddleware(Hello(), **kwargs)


@pytest.mark.parametrize(
    "name", ["allow_origins", "allow_methods", "allow_headers", "expose_headers"]
)
def test_a_string_instead_of_a_list_is_a_type_error(name: str) -> None:
    with pytest.raises(TypeError, match=name):
        kwargs: dict[str, Any] = {name: "GET"}
        CORSMiddleware(Hello(), **kwargs)


def test_is_allowed_origin() -> None:
    app = CORSMiddleware(Hello(), allow_origins=[ORIGIN])
    assert app.is_allowed_origin(ORIGIN)
    assert not app.is_allowed_origin("https://evil.com")


# --- other scope types ---------------------------------------------------------------------


@pytest.mark.parametrize("scope_type", ["lifespan", "websocket"])
def test_other_scopes_pass_straight_through(scope_type: str) -> None:
    seen: list[tuple[Scope, Receive, Send]] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append((scope, receive, send))

    async def receive() -> Message:
        return {"type": f"{scope_type}.startup"}

    async def send(message: Message) -> None:
        pass

    scope: Scope = {"type": scope_type, "headers": [(b"origin", b"https://evil.com")]}
    asyncio.run(CORSMiddleware(inner, allow_origins=[ORIGIN])(scope, receive, send))
    assert seen == [(scope, receive, send)]
