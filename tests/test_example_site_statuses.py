"""Every status the showcase's API answers is in that operation's OpenAPI entry: a walk over
the document's operations with hostile and ordinary requests (no credentials, a token, bad
JSON, wrong types, numbers past 64 bits, junk path values)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from brace import App
from brace.testing import TestClient
from test_example_site import EMAIL, PASSWORD, showcase_settings, site

JUNK_PATH_VALUES = ["0", "x", "9223372036854775808", "%EF%BF%BD", "..%2F..", "<script>"]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    database = tmp_path_factory.mktemp("statuses") / "site.db"
    app: App = site.create_app(showcase_settings(database, feed_heartbeat=0.05))
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


def bearer(client: TestClient) -> dict[str, str]:
    page = client.get("/auth/signup").text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    form = {"email": EMAIL, "password": PASSWORD, "confirm": PASSWORD, "csrf_token": token}
    client.post("/auth/signup", data=form)
    client.cookies.clear()
    answer = client.post("/auth/token", data={"username": EMAIL, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"authorization": f"Bearer {answer.json()['access_token']}"}


def requests_for(path: str, operation: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(url, request options) pairs: plain, with junk in each path value, with overflowing
    and ill-typed query values, and with malformed or ill-typed bodies."""
    names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
    urls = [path.replace("{" + name + "}", "1") for name in names] if names else [path]
    for junk in JUNK_PATH_VALUES if names else []:
        url = path
        for name in names:
            url = url.replace("{" + name + "}", junk)
        urls.append(url)
    queries = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
    bodies: list[dict[str, Any]] = [{}]
    if "requestBody" in operation:
        content = operation["requestBody"]["content"]
        if "application/json" in content:
            bodies += [
                {"json": {}},
                {"json": []},
                {"content": b"{not json", "headers": {"content-type": "application/json"}},
                {"content": b'{"a": "\xff"}', "headers": {"content-type": "application/json"}},
                {"content": b"x=1", "headers": {"content-type": "text/plain"}},
            ]
        else:
            bodies += [{"data": {}}, {"data": {"username": "<script>", "password": "'; --"}}]
    for url in urls:
        for body in bodies:
            yield url, body
        for name in queries:
            for value in ("9223372036854775808", "-1", "abc", ""):
                yield f"{url}?{name}={value}", {}


def test_every_answer_is_documented(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    token = bearer(client)
    undocumented: list[str] = []
    walked = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            documented = set(operation["responses"])
            for url, options in requests_for(path, operation):
                for headers in ({}, token):
                    merged = {**options, "headers": {**options.get("headers", {}), **headers}}
                    answer = client.request(method.upper(), url, **merged)
                    walked += 1
                    status = str(answer.status_code)
                    if status not in documented and "default" not in documented:
                        undocumented.append(f"{method.upper()} {url} -> {status}")
    assert walked > 40
    assert not undocumented, "\n".join(sorted(set(undocumented)))


def test_the_token_endpoint_documents_its_throttle(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    documented = set(document["paths"]["/auth/token"]["post"]["responses"])
    statuses = set()
    for _ in range(12):  # past the login throttle's limit for one account
        wrong = {"username": "nobody@example.com", "password": "not the password"}
        statuses.add(str(client.post("/auth/token", data=wrong).status_code))
    assert statuses == {"400", "429"}
    assert statuses <= documented


def test_the_api_is_rate_limited_per_client(tmp_path: Path) -> None:
    settings = showcase_settings(tmp_path / "limited.db", api_rate_limit="5/minute")
    with TestClient(site.create_app(settings)) as limited:
        answers = [limited.get("/api/posts").status_code for _ in range(5)]
        answers.append(limited.get("/api/posts/1").status_code)  # the same budget
        assert answers == [200] * 5 + [429]
        refused = limited.get("/api/me")
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert limited.get("/").status_code == 200  # pages are not limited


def test_the_public_listing_is_cached_and_dropped_on_publish(tmp_path: Path) -> None:
    with TestClient(site.create_app(showcase_settings(tmp_path / "cached.db"))) as client:
        token = bearer(client)
        first = client.get("/api/posts")
        assert first.headers["etag"] == client.get("/api/posts").headers["etag"]
        made = client.post("/api/posts", json={"text": "fresh news"}, headers=token)
        assert made.status_code == 201
        listing = client.get("/api/posts").json()
        assert listing["items"][0]["text"] == "fresh news"  # not the cached page
        # A reader with a token is someone's own: never answered from the shared entry.
        assert "etag" not in client.get("/api/posts", headers=token).headers
