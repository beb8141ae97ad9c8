"""brace.middleware: the package exports every built-in middleware, and they compose."""

from __future__ import annotations

import brace.middleware
from brace.middleware import (
    CORSMiddleware,
    GZipMiddleware,
    HTTPSRedirectMiddleware,
    RequestIDMiddleware,
    SecurityHeadersMiddleware,
    TrustedHostMiddleware,
)
from brace.testing import TestClient
from brace.types import ASGIApp, Receive, Scope, Send


def test_public_names() -> None:
    assert sorted(brace.middleware.__all__) == [
        "CORSMiddleware",
        "GZipMiddleware",
        "HTTPSRedirectMiddleware",
        "RequestIDMiddleware",
        "SecurityHeadersMiddleware",
        "TrustedHostMiddleware",
    ]
    for name in brace.middleware.__all__:
        assert getattr(brace.middleware, name).__module__.startswith("brace.middleware.")


def build_stack(app: ASGIApp) -> ASGIApp:
    app = GZipMiddleware(app)
    app = SecurityHeadersMiddleware(app)
    app = CORSMiddleware(app, allow_origins=["https://example.com"])
    app = RequestIDMiddleware(app)
    app = HTTPSRedirectMiddleware(app)
    return TrustedHostMiddleware(app, allowed_hosts=["testserver"])


def test_full_stack() -> None:
    body = b"stacked " * 200

    async def hello(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return  # a test app with no start-up work
        headers = [(b"content-type", b"text/plain"), (b"content-length", b"1600")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    with TestClient(build_stack(hello)) as client:
        response = client.get("/", headers={"Origin": "https://example.com"})
        refused = client.get("/", headers={"Host": "evil.com"})
    assert response.status_code == 200
    assert response.content == body
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["vary"] == "Accept-Encoding, Origin"
    assert response.headers["access-control-allow-origin"] == "https://example.com"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert len(response.headers["x-request-id"]) == 32
    assert int(response.headers["content-length"]) == response.num_bytes_downloaded < len(body)
    assert refused.status_code == 400


def test_lifespan_runs_through_every_middleware() -> None:
    events: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                events.append(message["type"])
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    with TestClient(build_stack(app)) as client:
        assert events == ["lifespan.startup"]
        assert client.get("/").status_code == 204
    assert events == ["lifespan.startup", "lifespan.shutdown"]
