"""Whole responses from the cache (`opts={"cache": seconds}`): hits, ETags and 304s, keys by
query and declared headers, and the answers that must never be shared or kept."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from brace import App, Request, Response
from brace.cache import Cache
from brace.responses import StreamingResponse
from brace.testing import TestClient

calls: Counter[str] = Counter()


def make_app() -> tuple[App, Cache]:
    app = App()
    cache = Cache(app)

    @app.get("/feed", opts={"cache": 60, "cache_tags": ["feed"]})
    async def feed(page: int = 1) -> dict[str, Any]:
        calls["feed"] += 1
        return {"page": page, "n": calls["feed"]}

    @app.post("/feed")
    async def post_feed() -> str:
        calls["post"] += 1
        return "posted"

    @app.route("/both", methods=["GET", "POST"], opts={"cache": 60})
    async def both(request: Request) -> str:
        calls[request.method] += 1
        return request.method

    @app.get("/greeting", opts={"cache": 60, "cache_vary": ["Accept-Language"]})
    async def greeting(request: Request) -> str:
        calls["greeting"] += 1
        return "bonjour" if "fr" in request.headers.get("accept-language", "") else "hello"

    @app.get("/mine", opts={"cache": 60, "cache_private": True})
    async def mine(request: Request) -> str:
        calls["mine"] += 1
        return f"for {request.headers.get('authorization', 'nobody')}"

    @app.get("/cookie", opts={"cache": 60})
    async def cookie() -> Response:
        calls["cookie"] += 1
        response = Response("hi")
        response.set_cookie("seen", "1")
        return response

    @app.get("/no-store", opts={"cache": 60})
    async def no_store() -> Response:
        calls["no-store"] += 1
        return Response("secret", headers={"Cache-Control": "no-store"})

    @app.get("/missing/{id:int}", opts={"cache": 60})
    async def missing(id: int) -> Response:
        calls["missing"] += 1
        return Response("no", status_code=404)

    @app.get("/stream", opts={"cache": 60})
    async def stream() -> StreamingResponse:
        calls["stream"] += 1

        async def chunks() -> Any:
            yield b"a"
            yield b"b"

        return StreamingResponse(chunks())

    return app, cache


@pytest.fixture
def client() -> Any:
    calls.clear()
    app, _ = make_app()
    with TestClient(app) as test_client:
        yield test_client


def test_hits_etags_and_304(client: TestClient) -> None:
    first = client.get("/feed")
    second = client.get("/feed")
    assert first.json() == second.json() == {"page": 1, "n": 1}
    assert calls["feed"] == 1
    etag = second.headers["etag"]
    assert first.headers["etag"] == etag  # the first answer already carries it
    assert etag.startswith('W/"')
    not_modified = client.get("/feed", headers={"if-none-match": f'"x", {etag}'})
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert client.get("/feed", headers={"if-none-match": '"other"'}).status_code == 200
    assert client.head("/feed").status_code == 200
    assert client.get("/feed?page=2").json() == {"page": 2, "n": 2}  # another entry
    assert client.post("/feed").text == "posted" and client.post("/feed").text == "posted"
    assert calls["post"] == 2  # only GET and HEAD are cached
    assert [client.post("/both").text for _ in range(2)] == ["POST", "POST"]
    assert [client.get("/both").text for _ in range(2)] == ["GET", "GET"]
    assert calls["POST"] == 2 and calls["GET"] == 1


def test_head_first_then_get_gets_the_body(client: TestClient) -> None:
    assert client.head("/feed").content == b""
    assert client.get("/feed").json() == {"page": 1, "n": 1}
    assert calls["feed"] == 1


def test_declared_headers_make_separate_entries(client: TestClient) -> None:
    assert client.get("/greeting", headers={"accept-language": "fr"}).text == "bonjour"
    assert client.get("/greeting", headers={"accept-language": "en"}).text == "hello"
    assert client.get("/greeting", headers={"accept-language": "fr"}).text == "bonjour"
    assert calls["greeting"] == 2


def test_credentials_are_never_shared(client: TestClient) -> None:
    # A request with a cookie is someone's own: not served from nor stored in a shared entry.
    client.cookies.set("session", "abc")
    client.get("/feed")
    client.get("/feed")
    assert calls["feed"] == 2
    client.cookies.clear()
    # cache_private: an entry per credential.
    alice = {"authorization": "Bearer alice"}
    bob = {"authorization": "Bearer bob"}
    assert client.get("/mine", headers=alice).text == "for Bearer alice"
    assert client.get("/mine", headers=bob).text == "for Bearer bob"
    assert client.get("/mine", headers=alice).text == "for Bearer alice"
    assert calls["mine"] == 2


@pytest.mark.parametrize("path", ["/cookie", "/no-store", "/missing/1", "/stream"])
def test_answers_that_are_not_kept(client: TestClient, path: str) -> None:
    name = path.strip("/").split("/")[0]
    client.get(path)
    client.get(path)
    assert calls[name] == 2


def test_tags_invalidate_cached_responses() -> None:
    calls.clear()
    app, cache = make_app()

    @app.post("/publish")
    async def publish() -> str:
        await cache.invalidate("feed")
        return "ok"

    with TestClient(app) as client:
        client.get("/feed")
        client.post("/publish")
        assert client.get("/feed").json()["n"] == 2


def test_hostile_paths_and_queries(client: TestClient) -> None:
    for query in ("page=<script>", "page=1%00", "page=%ff%fe", "page=1' OR 1=1 --"):
        assert client.get(f"/feed?{query}").status_code in (200, 400, 422)
    assert client.get("/feed?page=3").json()["page"] == 3


def test_a_response_varying_on_a_header_outside_the_key_is_not_kept() -> None:
    app = App()
    Cache(app)
    hits: Counter[str] = Counter()

    @app.get("/lang", opts={"cache": 60})
    async def lang(request: Request) -> Response:
        hits["lang"] += 1
        language = request.headers.get("accept-language", "en")
        return Response(language, headers={"Vary": "Accept-Language"})

    @app.get("/declared", opts={"cache": 60, "cache_vary": ["accept-language"]})
    async def declared(request: Request) -> Response:
        hits["declared"] += 1
        language = request.headers.get("accept-language", "en")
        return Response(language, headers={"Vary": "Accept-Language"})

    with TestClient(app) as client:
        assert client.get("/lang", headers={"accept-language": "fr"}).text == "fr"
        assert client.get("/lang", headers={"accept-language": "de"}).text == "de"
        assert hits["lang"] == 2  # never served the French answer to a German reader
        for language in ("fr", "de", "fr"):
            assert client.get("/declared", headers={"accept-language": language}).text == language
        assert hits["declared"] == 2


def test_etags_and_304_on_routes_that_are_not_cached() -> None:
    app = App()
    Cache(app)
    runs: Counter[str] = Counter()

    @app.get("/report", opts={"etag": True})
    async def report(version: int = 1) -> dict[str, int]:
        runs["report"] += 1
        return {"version": version}

    @app.get("/own-tag", opts={"etag": True})
    async def own_tag() -> Response:
        return Response("v7", headers={"ETag": '"v7"'})

    with TestClient(app) as client:
        first = client.get("/report")
        etag = first.headers["etag"]
        assert first.json() == {"version": 1}
        again = client.get("/report", headers={"if-none-match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == etag
        changed = client.get("/report?version=2", headers={"if-none-match": etag})
        assert changed.status_code == 200 and changed.headers["etag"] != etag
        assert runs["report"] == 3  # the handler runs; only the bytes are saved
        assert client.get("/own-tag", headers={"if-none-match": '"v7"'}).status_code == 304
        assert client.get("/own-tag", headers={"if-none-match": "*"}).status_code == 304
        assert client.get("/own-tag").headers["etag"] == '"v7"'
        junk = client.get("/report", headers={"if-none-match": '<script>, "", ,,'})
        assert junk.status_code == 200


def test_last_modified_and_if_modified_since() -> None:
    app = App()
    Cache(app)

    @app.get("/doc", opts={"etag": True})
    async def doc() -> Response:
        return Response("v1", headers={"Last-Modified": "Wed, 02 Dec 2026 10:00:00 GMT"})

    with TestClient(app) as client:
        later = {"if-modified-since": "Thu, 03 Dec 2026 00:00:00 GMT"}
        same = {"if-modified-since": "Wed, 02 Dec 2026 10:00:00 GMT"}
        earlier = {"if-modified-since": "Tue, 01 Dec 2026 00:00:00 GMT"}
        for headers in (later, same):
            answer = client.get("/doc", headers=headers)
            assert answer.status_code == 304 and answer.content == b""
            assert answer.headers["last-modified"] == "Wed, 02 Dec 2026 10:00:00 GMT"
        assert client.get("/doc", headers=earlier).text == "v1"
        for junk in ("yesterday", "<script>", "Wed, 99 Foo 2026 99:99:99 GMT", ""):
            assert client.get("/doc", headers={"if-modified-since": junk}).status_code == 200
        # If-None-Match wins over If-Modified-Since (RFC 9110): a stale tag means 200.
        both = {**later, "if-none-match": '"stale"'}
        assert client.get("/doc", headers=both).status_code == 200
