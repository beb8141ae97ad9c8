"""The request cycle seen from a client: handlers, return values, HEAD/OPTIONS/405/404."""

import dataclasses
import threading
import uuid

import msgspec
import pytest

from brace import App, HTMLResponse, Request, Response
from brace.testing import TestClient


class Point(msgspec.Struct):
    x: int
    y: int


@dataclasses.dataclass
class Pair:
    left: str
    right: str


@pytest.fixture
def app() -> App:
    app = App()

    @app.get("/text")
    async def text() -> str:
        return "héllo"

    @app.get("/dict")
    async def as_dict() -> dict[str, object]:
        return {"a": 1, "b": [1, 2]}

    @app.get("/list")
    async def as_list() -> list[int]:
        return [1, 2, 3]

    @app.get("/struct")
    async def struct() -> Point:
        return Point(1, 2)

    @app.get("/dataclass")
    async def dc() -> Pair:
        return Pair("l", "r")

    @app.get("/bytes")
    async def raw() -> bytes:
        return b"\x00\x01"

    @app.get("/none")
    async def nothing() -> None:
        return None

    @app.get("/response")
    async def response() -> Response:
        return HTMLResponse("<b>hi</b>", status_code=202, headers={"X-Extra": "1"})

    @app.post("/created", status_code=201)
    async def created() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/unserializable")
    async def unserializable() -> object:
        return object()

    return app


@pytest.mark.parametrize(
    ("path", "status", "content_type", "body"),
    [
        ("/text", 200, "text/plain; charset=utf-8", "héllo".encode()),
        ("/dict", 200, "application/json", b'{"a":1,"b":[1,2]}'),
        ("/list", 200, "application/json", b"[1,2,3]"),
        ("/struct", 200, "application/json", b'{"x":1,"y":2}'),
        ("/dataclass", 200, "application/json", b'{"left":"l","right":"r"}'),
        ("/bytes", 200, "application/octet-stream", b"\x00\x01"),
        ("/response", 202, "text/html; charset=utf-8", b"<b>hi</b>"),
    ],
)
def test_return_values_are_rendered_by_type(
    app: App, path: str, status: int, content_type: str, body: bytes
) -> None:
    with TestClient(app) as client:
        response = client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"] == content_type
    assert response.content == body
    assert response.headers["content-length"] == str(len(body))


def test_none_is_204_without_body(app: App) -> None:
    with TestClient(app) as client:
        response = client.get("/none")
    assert response.status_code == 204
    assert response.content == b""
    assert "content-length" not in response.headers


def test_status_code_option_and_response_headers(app: App) -> None:
    with TestClient(app) as client:
        assert client.post("/created").status_code == 201
        assert client.get("/response").headers["x-extra"] == "1"


def test_unserializable_return_value_is_a_500_problem(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    with TestClient(app) as client:
        response = client.get("/unserializable")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "object" not in response.text  # nothing internal leaks without debug
    assert "Unhandled TypeError in GET /unserializable" in caplog.text


def test_automatic_head_sends_headers_without_body(app: App) -> None:
    with TestClient(app) as client:
        response = client.head("/dict")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len(b'{"a":1,"b":[1,2]}'))


def test_automatic_options_lists_allowed_methods(app: App) -> None:
    with TestClient(app) as client:
        response = client.options("/created")
    assert response.status_code == 204
    assert response.headers["allow"] == "OPTIONS, POST"


def test_wrong_method_is_405_with_allow(app: App) -> None:
    with TestClient(app) as client:
        response = client.delete("/text")
        unknown = client.request("BREW", "/text")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"
    assert response.json()["status"] == 405
    assert unknown.status_code == 405


def test_unknown_path_is_404_problem(app: App) -> None:
    with TestClient(app) as client:
        response = client.get("/missing")
    assert response.status_code == 404
    assert response.json() == {"type": "about:blank", "title": "Not Found", "status": 404}


def test_trailing_slash_redirects_keep_the_query_and_use_308_for_unsafe_methods(
    app: App,
) -> None:
    with TestClient(app) as client:
        get = client.get("/text/?a=1")
        post = client.post("/created/")
    assert get.status_code == 301
    assert get.headers["location"] == "/text?a=1"
    assert post.status_code == 308
    assert post.headers["location"] == "/created"


def test_trailing_slash_redirect_can_be_turned_off() -> None:
    app = App(redirect_slashes=False)

    @app.get("/a")
    async def a() -> str:
        return "a"

    with TestClient(app) as client:
        assert client.get("/a/").status_code == 404


def test_slash_redirect_never_produces_a_scheme_relative_location() -> None:
    app = App()

    @app.get("/{host}/")
    async def catch(host: str) -> str:
        return host

    with TestClient(app) as client:
        # "//evil.example" would send the browser to another site: it must not be used.
        response = client.get("https://testserver//evil.example")
    assert response.status_code == 404
    assert "location" not in response.headers


def test_path_params_arrive_converted_and_by_name() -> None:
    app = App()
    seen: dict[str, object] = {}

    @app.get("/t/{n:int}/{f:float}/{u:uuid}/{s:slug}/{rest:path}")
    async def typed(n: int, f: float, u: uuid.UUID, s: str, rest: str) -> str:
        seen.update(n=n, f=f, u=u, s=s, rest=rest)
        return "ok"

    value = uuid.uuid4()
    with TestClient(app) as client:
        assert client.get(f"/t/1/2.5/{value}/a-b/x/y.txt").text == "ok"
    assert seen == {"n": 1, "f": 2.5, "u": value, "s": "a-b", "rest": "x/y.txt"}


def test_str_path_param_annotated_int_is_validated() -> None:
    app = App()

    @app.get("/n/{n}")
    async def number(n: int) -> dict[str, int]:
        return {"n": n}

    with TestClient(app) as client:
        assert client.get("/n/5").json() == {"n": 5}
        bad = client.get("/n/five")
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"] == "path.n"


def test_sync_handlers_run_in_a_worker_thread() -> None:
    app = App()
    threads: list[int] = []

    @app.get("/sync")
    def sync(request: Request) -> str:
        threads.append(threading.get_ident())
        return request.method

    with TestClient(app) as client:
        assert client.get("/sync").text == "GET"
    assert threads and threads[0] != threading.get_ident()


def test_query_scalars_are_converted_with_defaults_and_422_on_bad_values() -> None:
    app = App()

    @app.get("/q")
    async def query(
        limit: int = 10, name: str | None = None, tags: list[str] | None = None
    ) -> dict[str, object]:
        return {"limit": limit, "name": name, "tags": tags}

    @app.get("/required")
    async def required(token: str) -> str:
        return token

    with TestClient(app) as client:
        assert client.get("/q").json() == {"limit": 10, "name": None, "tags": None}
        assert client.get("/q?limit=3&name=x&tags=a&tags=b").json() == {
            "limit": 3,
            "name": "x",
            "tags": ["a", "b"],
        }
        bad = client.get("/q?limit=ten")
        missing = client.get("/required")
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["errors"] == [
        {"loc": "query.limit", "msg": "Expected `int`, got `str`", "input": "str"}
    ]
    assert missing.status_code == 422
    assert missing.json()["errors"] == [
        {"loc": "query.token", "msg": "Field required", "input": "missing"}
    ]


def test_app_is_reachable_from_the_request_and_state_is_shared() -> None:
    app = App()
    app.state.greeting = "hi"

    @app.get("/")
    async def index(request: Request) -> str:
        request.state.seen = True
        return request.app.state.greeting + str(request.state.seen)

    @app.get("/p/{a}/{b:int}")
    async def params(request: Request) -> dict[str, object]:
        return request.path_params

    with TestClient(app) as client:
        assert client.get("/").text == "hiTrue"
        assert client.get("/p/x/2").json() == {"a": "x", "b": 2}
