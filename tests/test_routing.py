"""Declaring routes: decorators, routers, prefixes, mounts, url_for and start-up errors."""

import pytest

from brace import App, Request, Router
from brace.core.handlers import HandlerError
from brace.core.matcher import RouteConflict
from brace.testing import TestClient


def test_every_method_decorator_registers_its_method() -> None:
    app = App()

    @app.get("/r")
    async def get() -> str:
        return "get"

    @app.post("/r")
    async def post() -> str:
        return "post"

    @app.put("/r")
    async def put() -> str:
        return "put"

    @app.patch("/r")
    async def patch() -> str:
        return "patch"

    @app.delete("/r")
    async def delete() -> str:
        return "delete"

    @app.route("/multi", methods=["GET", "POST"])
    async def multi(request: Request) -> str:
        return request.method

    with TestClient(app) as client:
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            assert client.request(method, "/r").text == method.lower()
        assert client.post("/multi").text == "POST"
        assert client.get("/multi").text == "GET"


def test_explicit_head_and_options_handlers_replace_the_automatic_ones() -> None:
    app = App()

    @app.get("/x")
    async def x() -> str:
        return "x"

    @app.head("/x")
    async def x_head() -> str:
        return ""

    @app.options("/x")
    async def x_options() -> str:
        return "custom options"

    with TestClient(app) as client:
        assert client.options("/x").text == "custom options"
        assert client.head("/x").status_code == 200


def test_routers_nest_with_prefixes_tags_and_names() -> None:
    api = Router(prefix="/api", name="api")
    users = Router(prefix="/users", tags=["users"], name="users")

    @users.get("/{id:int}")
    async def show(id: int) -> dict[str, int]:
        return {"id": id}

    api.include(users)
    app = App()
    app.include(api, prefix="/v1")

    with TestClient(app) as client:
        assert client.get("/v1/api/users/7").json() == {"id": 7}
    assert app.url_for("api.users.show", id=7) == "/v1/api/users/7"
    assert app.url_for(show, id=8) == "/v1/api/users/8"
    (route,) = [r for r in app.all_routes if r.name == "api.users.show"]
    assert route.tags == ("users",)


def test_url_for_percent_encodes_and_puts_extra_params_in_the_query() -> None:
    app = App()

    @app.get("/search/{term}")
    async def search(term: str) -> str:
        return term

    assert app.url_for("search", term="a b/c?&") == "/search/a%20b%2Fc%3F%26"
    assert app.url_for("search", term="x", page=2, tag=["a", "b"]) == "/search/x?page=2&tag=a&tag=b"
    assert app.url_for(search, term="<script>") == "/search/%3Cscript%3E"
    with TestClient(app) as client:
        # The encoded URL round-trips to the same parameter value.
        assert client.get(app.url_for(search, term="a b?&")).text == "a b?&"


def test_url_for_errors_are_clear() -> None:
    app = App()

    @app.get("/u/{id:int}")
    async def user(id: int) -> str:
        return ""

    async def not_a_route() -> None: ...

    with pytest.raises(LookupError, match="no route named 'nope'"):
        app.url_for("nope")
    with pytest.raises(LookupError, match="missing the path parameter 'id'"):
        app.url_for("user")
    with pytest.raises(LookupError, match="does not fit 'int'"):
        app.url_for("user", id="abc")
    with pytest.raises(LookupError, match="not a route handler"):
        app.url_for(not_a_route)


def test_request_url_for_includes_the_mount_root_path() -> None:
    inner = App()

    @inner.get("/page/{n:int}")
    async def page(n: int, request: Request) -> str:
        return request.url_for("page", n=n + 1)

    outer = App()
    outer.mount("/sub", inner)
    with TestClient(outer) as client:
        response = client.get("/sub/page/1")
    assert response.text == "/sub/page/2"


def test_conflicting_routes_fail_at_startup_naming_both() -> None:
    app = App()

    @app.get("/items/{id:int}")
    async def first(id: int) -> str:
        return ""

    @app.get("/items/{item_id:int}")
    async def second(item_id: int) -> str:
        return ""

    with pytest.raises(RouteConflict, match="first") as info:
        app.compile()
    assert "second" in str(info.value)


def test_a_route_hidden_by_a_mount_fails_at_startup() -> None:
    app = App()
    app.mount("/static", App())

    @app.get("/static/x")
    async def x() -> str:
        return ""

    with pytest.raises(RouteConflict, match="hidden by the app mounted at '/static'"):
        app.compile()


def test_duplicate_route_names_fail_at_startup() -> None:
    app = App()

    async def a() -> str:
        return ""

    async def b() -> str:
        return ""

    app.add_route("/a", a, name="same")
    app.add_route("/b", b, name="same")
    with pytest.raises(RouteConflict, match="route name 'same'"):
        app.compile()


def test_unservable_handler_signatures_fail_at_startup_naming_the_parameter() -> None:
    app = App()

    @app.get("/x")
    async def x(mystery) -> str:  # type: ignore[no-untyped-def]
        return ""

    with pytest.raises(HandlerError, match="'mystery'") as info:
        app.compile()
    assert "x" in str(info.value)


def test_routes_cannot_be_added_after_the_app_started() -> None:
    app = App()
    router = Router()
    app.include(router)
    app.compile()
    with pytest.raises(RuntimeError, match="already started"):
        app.add_route("/late", lambda: None)
    with pytest.raises(RuntimeError, match="already started"):

        @router.get("/late")
        async def late() -> None: ...


def test_bad_method_names_and_prefixes_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown HTTP method"):
        Router().add_route("/x", lambda: None, methods=["FETCH"])
    with pytest.raises(ValueError, match="prefix"):
        Router(prefix="api/")
    with pytest.raises(ValueError, match="mount path"):
        App().mount("/static/", App())
    router = Router()
    with pytest.raises(ValueError, match="itself"):
        router.include(router)


def test_mounted_apps_see_their_root_path_and_the_full_path() -> None:
    seen = {}

    async def raw(scope, receive, send):  # type: ignore[no-untyped-def]
        seen.update(path=scope["path"], root_path=scope["root_path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"raw"})

    app = App()
    app.mount("/legacy", raw)
    with TestClient(app) as client:
        assert client.get("/legacy/a/b?x=1").text == "raw"
        assert client.get("/legacyx").status_code == 404
    assert seen == {"path": "/legacy/a/b", "root_path": "/legacy"}


def test_many_routes_still_route_correctly() -> None:
    app = App()
    for i in range(1000):

        async def handler(id: int, i: int = i) -> dict[str, int]:
            return {"route": i, "id": id}

        app.add_route(f"/r{i}/{{id:int}}/items", handler, name=f"r{i}")
    with TestClient(app) as client:
        assert client.get("/r999/5/items").json() == {"route": 999, "id": 5}
        assert client.get("/r0/1/items").json() == {"route": 0, "id": 1}


def test_empty_path_names_the_router_prefix() -> None:
    items = Router(prefix="/items")

    @items.get("")
    async def listing() -> str:
        return "all items"

    app = App()
    app.include(items)
    with TestClient(app) as client:
        assert client.get("/items").text == "all items"
    bare = App()
    bare.add_route("", listing)
    with pytest.raises(ValueError, match="only works in a router with a prefix"):
        bare.compile()
