"""Dependency injection: nesting, caching, cleanup, levels, overrides, app scope, errors."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import pytest

from brace import App, Depends, Header, HTTPError, Request, Router
from brace.core.handlers import HandlerError
from brace.testing import TestClient


def cycle_a(v: "Annotated[int, Depends(cycle_b)]") -> int:
    return v


def cycle_b(v: Annotated[int, Depends(cycle_a)]) -> int:
    return v


def test_sync_async_and_nested_dependencies_with_their_own_parameters() -> None:
    app = App()

    def settings() -> dict[str, int]:
        return {"page_size": 10}

    async def pagination(
        config: Annotated[dict[str, int], Depends(settings)], page: int = 1
    ) -> dict[str, int]:
        return {"offset": (page - 1) * config["page_size"], "limit": config["page_size"]}

    async def user_agent(user_agent: Annotated[str, Header()] = "unknown") -> str:
        return user_agent

    @app.get("/items")
    async def items(
        paging: Annotated[dict[str, int], Depends(pagination)],
        agent: Annotated[str, Depends(user_agent)],
    ) -> dict[str, Any]:
        return {"paging": paging, "agent": agent}

    with TestClient(app) as client:
        response = client.get("/items?page=3", headers={"User-Agent": "tests"})
        assert response.json() == {"paging": {"offset": 20, "limit": 10}, "agent": "tests"}
        bad = client.get("/items?page=first")
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"] == "query.page"


def test_each_dependency_resolves_once_per_request_unless_told_otherwise() -> None:
    app = App()
    calls = {"cached": 0, "fresh": 0}

    def cached() -> int:
        calls["cached"] += 1
        return calls["cached"]

    def fresh() -> int:
        calls["fresh"] += 1
        return calls["fresh"]

    def uses_both(
        a: Annotated[int, Depends(cached)], b: Annotated[int, Depends(fresh, use_cache=False)]
    ) -> int:
        return a + b

    @app.get("/")
    async def index(
        a: Annotated[int, Depends(cached)],
        b: Annotated[int, Depends(fresh, use_cache=False)],
        c: Annotated[int, Depends(uses_both)],
    ) -> list[int]:
        return [a, b, c]

    with TestClient(app) as client:
        assert client.get("/").json() == [1, 1, 3]
        assert calls == {"cached": 1, "fresh": 2}
        client.get("/")
    assert calls == {"cached": 2, "fresh": 4}


def test_generator_dependencies_clean_up_after_the_response_is_sent() -> None:
    events: list[str] = []
    app = App()

    async def database() -> AsyncIterator[str]:
        events.append("open")
        try:
            yield "db"
        except ValueError:
            events.append("rollback")
            raise
        else:
            events.append("commit")
        finally:
            events.append("close")

    def sync_resource() -> Iterator[str]:
        events.append("sync open")
        yield "res"
        events.append("sync close")

    @app.get("/ok")
    async def ok(
        db: Annotated[str, Depends(database)], res: Annotated[str, Depends(sync_resource)]
    ) -> str:
        events.append("handler")
        return db + res

    @app.get("/fail")
    async def fail(db: Annotated[str, Depends(database)]) -> str:
        raise ValueError("broken")

    sent: list[str] = []

    async def call(path: str) -> None:
        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b""}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                events.append("sent")
            sent.append(message["type"])

        scope = {
            "type": "http",
            "method": "GET",
            "path": path,
            "headers": [],
            "query_string": b"",
            "root_path": "",
        }
        await app(scope, receive, send)

    asyncio.run(call("/ok"))
    assert events == ["open", "sync open", "handler", "sent", "sync close", "commit", "close"]
    events.clear()
    asyncio.run(call("/fail"))
    assert events == ["open", "sent", "rollback", "close"]


def test_route_router_and_app_level_dependencies_run_in_order() -> None:
    order: list[str] = []

    def record(name: str) -> Any:
        def dependency() -> None:
            order.append(name)

        dependency.__name__ = name
        return dependency

    async def require_key(x_key: Annotated[str | None, Header()] = None) -> None:
        if x_key != "secret":
            raise HTTPError(401, "Missing or wrong X-Key.")

    app = App(dependencies=[Depends(record("app"))])
    router = Router(prefix="/admin", dependencies=[Depends(record("router")), Depends(require_key)])

    @router.get("/", dependencies=[Depends(record("route"))])
    async def admin() -> str:
        order.append("handler")
        return "admin"

    app.include(router)
    with TestClient(app) as client:
        assert client.get("/admin/", headers={"X-Key": "secret"}).text == "admin"
        assert order == ["app", "router", "route", "handler"]
        order.clear()
        denied = client.get("/admin/")
    assert denied.status_code == 401
    assert order == ["app", "router"]


def test_overrides_replace_dependencies_for_tests() -> None:
    app = App()

    async def real_db() -> str:
        raise RuntimeError("would connect to production")

    @app.get("/")
    async def index(db: Annotated[str, Depends(real_db)], request: Request) -> str:
        return db

    def fake_db(q: str = "fake") -> str:
        return q

    app.dependency_overrides[real_db] = fake_db
    with TestClient(app) as client:
        assert client.get("/").text == "fake"
        assert client.get("/?q=other").text == "other"
        app.dependency_overrides.clear()
        assert client.get("/").status_code == 500


def test_app_scoped_dependencies_live_from_startup_to_shutdown() -> None:
    events: list[str] = []
    app = App()

    async def pool() -> AsyncIterator[dict[str, int]]:
        events.append("pool up")
        yield {"connections": 5}
        events.append("pool down")

    async def service(p: Annotated[dict[str, int], Depends(pool, scope="app")]) -> str:
        return f"service with {p['connections']}"

    @app.get("/")
    async def index(s: Annotated[str, Depends(service, scope="app")]) -> str:
        return s

    with TestClient(app) as client:
        assert events == ["pool up"]
        assert client.get("/").text == "service with 5"
        assert client.get("/").text == "service with 5"
        assert events == ["pool up"]
    assert events == ["pool up", "pool down"]


def test_resolving_outside_a_request() -> None:
    events: list[str] = []
    app = App()

    def settings() -> dict[str, str]:
        return {"dsn": "sqlite://"}

    async def connection(
        config: Annotated[dict[str, str], Depends(settings)],
    ) -> AsyncIterator[str]:
        events.append("connect")
        yield config["dsn"]
        events.append("disconnect")

    async def main() -> None:
        async with app.scope() as scope:
            assert await scope.resolve(connection) == "sqlite://"
            assert await scope.resolve(connection) == "sqlite://"  # cached in the scope
            assert events == ["connect"]
        assert events == ["connect", "disconnect"]

    asyncio.run(main())

    async def needs_request(request: Request) -> str:
        return request.path

    async def outside() -> None:
        async with app.scope() as scope:
            await scope.resolve(needs_request)

    with pytest.raises(HandlerError, match="outside"):
        asyncio.run(outside())


def test_invalid_parameters_of_a_dependency_stop_before_it_runs() -> None:
    app = App()
    called: list[int] = []

    def limited(limit: int) -> int:
        called.append(limit)
        return limit

    @app.get("/")
    async def index(limit: Annotated[int, Depends(limited)], page: int = 1) -> int:
        return limit

    with TestClient(app) as client:
        response = client.get("/?limit=x&page=y")
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["errors"]] == ["query.limit", "query.page"]
    assert called == []


def test_dependency_mistakes_fail_at_startup() -> None:
    def a(x: Annotated[int, Depends(lambda: 1)]) -> int:
        return x

    def first(y: Annotated[int, Depends(lambda: 0)]) -> int:
        return y

    def reads_request(request: Request) -> str:
        return "x"

    def app_scoped_bad(value: Annotated[str, Depends(reads_request, scope="app")]) -> str:
        return value

    def no_yield() -> Iterator[int]:
        return
        yield 1  # pragma: no cover

    cases = [
        (cycle_a, "dependency cycle"),
        (app_scoped_bad, "scope='app' but reads the request"),
    ]
    for dependency, message in cases:
        app = App()

        async def handler(v: Annotated[Any, Depends(dependency)]) -> None: ...

        app.add_route("/", handler)
        with pytest.raises(HandlerError, match=message):
            app.compile()

    app = App()

    @app.get("/")
    async def handler(v: Annotated[int, Depends(no_yield)]) -> int:
        return v

    with TestClient(app, raise_app_exceptions=False) as client:
        assert client.get("/").status_code == 500
    with pytest.raises(ValueError, match="scope"):
        Depends(a, scope="session")  # type: ignore[arg-type]
    assert "first" in repr(Depends(first))


def test_handler_scoped_dependency_exits_before_the_response() -> None:
    events: list[str] = []
    app = App()

    async def unit_of_work(request: Request) -> AsyncIterator[dict[str, str]]:
        work: dict[str, str] = {}
        try:
            yield work
        except Exception:
            events.append("rollback")
            raise
        if work.get("fail"):
            raise HTTPError(409, "commit failed")
        events.append("commit")

    async def after_response() -> AsyncIterator[None]:
        yield
        events.append("request-scoped exit")

    Work = Annotated[dict[str, str], Depends(unit_of_work, scope="handler")]

    @app.post("/ok", dependencies=[Depends(after_response)])
    async def ok(work: Work) -> str:
        events.append("handler")
        return "done"

    @app.post("/conflict")
    async def conflict(work: Work) -> str:
        work["fail"] = "yes"
        return "never sent"

    @app.post("/boom")
    async def boom(work: Work) -> str:
        raise RuntimeError("handler failed")

    with TestClient(app, raise_app_exceptions=False) as client:
        assert client.post("/ok").text == "done"
        assert events == ["handler", "commit", "request-scoped exit"]
        events.clear()
        r = client.post("/conflict")
        assert r.status_code == 409 and r.json()["detail"] == "commit failed"
        assert events == []
        assert client.post("/boom").status_code == 500
        assert events == ["rollback"]


def test_scope_must_be_known() -> None:
    with pytest.raises(ValueError, match="'request', 'handler' or 'app'"):
        Depends(lambda: None, scope="session")  # type: ignore[arg-type]


def test_a_handler_signature_is_read_once_by_one_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    from brace.core.params import dependant, model

    read: list[str] = []
    original = model.inspect_callable

    def counting(fn: Any, *args: Any, **kwargs: Any) -> Any:
        read.append(getattr(fn, "__name__", "?"))
        return original(fn, *args, **kwargs)

    monkeypatch.setattr(dependant, "inspect_callable", counting)
    app = App(openapi_url=None)  # only this test's handlers

    async def token(x_token: Annotated[str, Header()]) -> str:
        return x_token

    @app.get("/items/{item_id}")
    async def item(item_id: int, q: str, who: Annotated[str, Depends(token)]) -> dict[str, Any]:
        return {"item_id": item_id, "q": q, "who": who}

    @app.get("/plain/{item_id}")
    async def plain(item_id: int, q: str) -> dict[str, Any]:
        return {"item_id": item_id, "q": q}

    app.compile()
    assert sorted(read) == ["item", "plain", "token"]


def test_query_rules_are_the_same_with_and_without_dependencies() -> None:
    app = App()

    async def nothing() -> None:
        return None

    @app.get("/fast")
    async def fast(tag: str, n: list[int] | None = None) -> dict[str, Any]:
        return {"tag": tag, "n": n}

    @app.get("/solved", dependencies=[Depends(nothing)])
    async def solved(tag: str, n: list[int] | None = None) -> dict[str, Any]:
        return {"tag": tag, "n": n}

    with TestClient(app) as client:
        for path in ("/fast", "/solved"):
            assert client.get(path + "?tag=a&tag=b&n=1&n=2").json() == {"tag": "b", "n": [1, 2]}
            missing = client.get(path)
            assert missing.status_code == 422
            assert missing.json()["errors"] == [
                {"loc": "query.tag", "msg": "Field required", "input": "missing"}
            ]
            wrong = client.get(path + "?tag=x&n=1&n=two").json()["errors"]
            assert wrong[0]["loc"] == "query.n[1]" and wrong[0]["input"] == "str"
            assert client.get(path + "?tag=%FF").status_code == 400


def test_sync_dependencies_run_in_the_thread_pool_and_their_cleanup_too() -> None:
    import threading

    app = App()
    seen: dict[str, int] = {}

    def blocking() -> int:
        seen["call"] = threading.get_ident()
        return 1

    def resource() -> Iterator[int]:
        seen["open"] = threading.get_ident()
        yield 2
        seen["close"] = threading.get_ident()

    @app.get("/")
    async def home(
        a: Annotated[int, Depends(blocking)], b: Annotated[int, Depends(resource)]
    ) -> dict[str, int]:
        seen["handler"] = threading.get_ident()
        return {"sum": a + b}

    with TestClient(app) as client:
        assert client.get("/").json() == {"sum": 3}
    loop_thread = seen["handler"]
    assert seen["call"] != loop_thread
    assert seen["open"] != loop_thread
    assert seen["close"] != loop_thread
