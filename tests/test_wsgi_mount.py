"""A real Flask app mounted in a brace app: routes side by side, SCRIPT_NAME and PATH_INFO
right (Flask's url_for builds links under the mount), Flask's own session cookie working,
bodies streaming both ways, and hostile paths answered by the right app."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

flask = pytest.importorskip("flask")

from brace import App  # noqa: E402
from brace.testing import TestClient  # noqa: E402
from brace.wsgi import WSGIApp  # noqa: E402


def make_flask() -> Any:
    legacy = flask.Flask("legacy")
    legacy.secret_key = "a-flask-secret-for-the-tests-only"

    @legacy.get("/hello")
    def hello() -> Any:
        return {"link": flask.url_for("hello"), "script_name": flask.request.script_root}

    @legacy.get("/visits")
    def visits() -> str:
        flask.session["n"] = flask.session.get("n", 0) + 1
        return str(flask.session["n"])

    @legacy.post("/echo")
    def echo() -> Any:
        return {"size": len(flask.request.get_data()), "form": flask.request.form.to_dict()}

    @legacy.get("/stream")
    def stream() -> Any:
        def chunks() -> Iterator[bytes]:
            for n in range(5):
                yield f"chunk {n}\n".encode()

        return flask.Response(chunks(), mimetype="text/plain")

    return legacy


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = App()

    @app.get("/")
    async def home() -> str:
        return "brace"

    @app.get("/legacy-free")
    async def beside() -> str:
        return "brace route beside the mount"

    app.mount("/legacy", WSGIApp(make_flask(), workers=4))
    with TestClient(app) as test_client:
        yield test_client


def test_both_apps_answer_side_by_side(client: TestClient) -> None:
    assert client.get("/").text == "brace"
    assert client.get("/legacy-free").text == "brace route beside the mount"
    hello = client.get("/legacy/hello").json()
    assert hello == {"link": "/legacy/hello", "script_name": "/legacy"}
    assert client.get("/legacy/nothing-here").status_code == 404  # Flask's own 404


def test_the_mounted_apps_session_keeps_working(client: TestClient) -> None:
    assert [client.get("/legacy/visits").text for _ in range(3)] == ["1", "2", "3"]
    assert "session" in client.cookies


def test_bodies_stream_both_ways(client: TestClient) -> None:
    big = b"x" * (3 * 1024 * 1024)
    answer = client.post(
        "/legacy/echo", content=big, headers={"content-type": "application/octet-stream"}
    )
    assert answer.json()["size"] == len(big)
    form = client.post("/legacy/echo", data={"name": "<script>alert(1)</script>"}).json()
    assert form["form"] == {"name": "<script>alert(1)</script>"}
    assert client.get("/legacy/stream").text == "".join(f"chunk {n}\n" for n in range(5))


def test_hostile_paths(client: TestClient) -> None:
    for path in ("/legacy/%ff%fe", "/legacy/../etc/passwd", "/legacy/%2e%2e/x", "/legacy//x"):
        assert client.get(path).status_code in (400, 404), path
    assert client.get("/legacy").status_code in (200, 308, 404)


def test_workers_must_be_positive() -> None:
    with pytest.raises(ValueError):
        WSGIApp(make_flask(), workers=0)
