"""Typed parameters: sources, markers, constraints, JSON bodies and 422 problem details."""

import dataclasses
import uuid
from datetime import date
from enum import Enum
from typing import Annotated, Any, Literal, TypedDict

import msgspec
import pydantic
import pytest

from brace import App, Body, Cookie, Header, Path, Query, Request
from brace.core.handlers import HandlerError
from brace.testing import TestClient


class Color(Enum):
    RED = "red"
    BLUE = "blue"


class Item(msgspec.Struct):
    name: str
    price: Annotated[float, msgspec.Meta(ge=0)]
    tags: list[str] = []


class Node(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    children: "list[Node]" = []


class Order(msgspec.Struct):
    items: list[Item]
    note: str | None = None


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Movie(TypedDict):
    title: str
    year: int


class User(pydantic.BaseModel):
    name: str
    age: int = pydantic.Field(ge=0)


def make_app() -> App:
    app = App()

    @app.get("/search")
    async def search(
        q: Annotated[str, Query(min_length=2, max_length=20)],
        limit: Annotated[int, Query(ge=1, le=100)] = 10,
        page_size: Annotated[int | None, Query(alias="page-size", gt=0)] = None,
        tags: list[str] | None = None,
        ids: Annotated[list[int], Query(alias="id")] = [],  # noqa: B006
        color: Color = Color.RED,
        mode: Literal["fast", "exact"] = "fast",
        strict: bool = False,
        since: date | None = None,
        token: uuid.UUID | None = None,
        code: Annotated[str, Query(pattern=r"^[A-Z]{3}$")] = "AAA",
    ) -> dict[str, Any]:
        return {
            "q": q,
            "limit": limit,
            "page_size": page_size,
            "tags": tags,
            "ids": ids,
            "color": color,
            "mode": mode,
            "strict": strict,
            "since": since,
            "token": token,
            "code": code,
        }

    @app.get("/headers")
    async def headers(
        x_token: Annotated[str, Header()],
        user_agent: Annotated[str | None, Header()] = None,
        accept_language: Annotated[list[str], Header()] = [],  # noqa: B006
        raw: Annotated[str | None, Header(alias="X-Raw_Name")] = None,
        session: Annotated[str | None, Cookie()] = None,
        count: Annotated[int, Cookie()] = 0,
    ) -> dict[str, Any]:
        return {
            "x_token": x_token,
            "user_agent": user_agent,
            "languages": accept_language,
            "raw": raw,
            "session": session,
            "count": count,
        }

    @app.get("/items/{item_id}")
    async def item(item_id: Annotated[int, Path(ge=1)]) -> dict[str, int]:
        return {"item_id": item_id}

    @app.post("/orders", status_code=201)
    async def create_order(order: Order) -> Order:
        return order

    @app.post("/points")
    async def points(point: Point) -> dict[str, int]:
        return {"sum": point.x + point.y}

    @app.post("/movies")
    async def movies(movie: Movie) -> Movie:
        return movie

    @app.post("/users")
    async def users(user: User) -> dict[str, Any]:
        return user.model_dump()

    @app.post("/batch")
    async def batch(items: list[Item]) -> dict[str, int]:
        return {"count": len(items)}

    @app.post("/embedded")
    async def embedded(
        item: Item, quantity: Annotated[int, Body(ge=1)], note: Annotated[str, Body()] = ""
    ) -> dict[str, Any]:
        return {"name": item.name, "quantity": quantity, "note": note}

    @app.post("/free-form")
    async def free_form(payload: dict[str, Any]) -> dict[str, int]:
        return {"keys": len(payload)}

    @app.post("/optional")
    async def optional(point: Point | None = None) -> dict[str, bool]:
        return {"given": point is not None}

    @app.post("/mixed/{n:int}")
    async def mixed(n: int, request: Request, item: Item, verbose: bool = False) -> dict[str, Any]:
        return {"n": n, "name": item.name, "verbose": verbose, "method": request.method}

    return app


@pytest.fixture(scope="module")
def client() -> Any:
    with TestClient(make_app()) as client:
        yield client


def test_query_parameters_with_markers_and_types(client: TestClient) -> None:
    token = uuid.uuid4()
    data = client.get(
        "/search",
        params=[
            ("q", "shoes"),
            ("limit", "5"),
            ("page-size", "20"),
            ("tags", "a"),
            ("tags", "b"),
            ("id", "1"),
            ("id", "2"),
            ("color", "blue"),
            ("mode", "exact"),
            ("strict", "true"),
            ("since", "2026-01-31"),
            ("token", str(token)),
            ("code", "XYZ"),
        ],
    ).json()
    assert data == {
        "q": "shoes",
        "limit": 5,
        "page_size": 20,
        "tags": ["a", "b"],
        "ids": [1, 2],
        "color": "blue",
        "mode": "exact",
        "strict": True,
        "since": "2026-01-31",
        "token": str(token),
        "code": "XYZ",
    }
    defaults = client.get("/search?q=ok").json()
    assert defaults["limit"] == 10 and defaults["tags"] is None and defaults["ids"] == []


@pytest.mark.parametrize(
    ("query", "location", "message"),
    [
        ("", "query.q", "Field required"),
        ("q=a", "query.q", "Expected `str` of length >= 2"),
        ("q=" + "x" * 21, "query.q", "Expected `str` of length <= 20"),
        ("q=ok&limit=0", "query.limit", "Expected `int` >= 1"),
        ("q=ok&limit=101", "query.limit", "Expected `int` <= 100"),
        ("q=ok&limit=ten", "query.limit", "Expected `int`, got `str`"),
        ("q=ok&limit=1.5", "query.limit", "Expected `int`, got `str`"),
        ("q=ok&limit=99999999999999999999999999", "query.limit", "Expected `int` <= 100"),
        ("q=ok&page-size=0", "query.page-size", "Expected `int` >= 1"),
        ("q=ok&id=1&id=x", "query.id[1]", "Expected `int`, got `str`"),
        ("q=ok&color=green", "query.color", "Invalid enum value 'green'"),
        ("q=ok&mode=slow", "query.mode", "Invalid enum value 'slow'"),
        ("q=ok&strict=maybe", "query.strict", "Expected `bool`, got `str`"),
        ("q=ok&since=yesterday", "query.since", "Invalid RFC3339"),
        ("q=ok&token=1234", "query.token", "Invalid UUID"),
        ("q=ok&code=xyz", "query.code", "Expected `str` matching regex"),
        ("q=ok&code=%27%20OR%201%3D1%20--", "query.code", "Expected `str` matching regex"),
    ],
)
def test_bad_query_values_are_422_with_location(
    client: TestClient, query: str, location: str, message: str
) -> None:
    response = client.get("/search?" + query)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert errors[0]["loc"] == location
    assert errors[0]["msg"].startswith(message)


def test_every_bad_parameter_is_listed_at_once(client: TestClient) -> None:
    response = client.get("/search?q=a&limit=0&mode=slow")
    assert [e["loc"] for e in response.json()["errors"]] == ["query.q", "query.limit", "query.mode"]


def test_headers_and_cookies(client: TestClient) -> None:
    response = client.get(
        "/headers",
        headers=[
            ("X-Token", "abc"),
            ("User-Agent", "tests"),
            ("Accept-Language", "en"),
            ("Accept-Language", "fr"),
            ("X-Raw_Name", "kept"),
            ("Cookie", "session=s1; count=3"),
        ],
    )
    assert response.json() == {
        "x_token": "abc",
        "user_agent": "tests",
        "languages": ["en", "fr"],
        "raw": "kept",
        "session": "s1",
        "count": 3,
    }
    missing = client.get("/headers")
    assert missing.status_code == 422
    assert missing.json()["errors"] == [
        {"loc": "header.x-token", "msg": "Field required", "input": "missing"}
    ]
    bad_cookie = client.get("/headers", headers={"X-Token": "a", "Cookie": "count=lots"})
    assert bad_cookie.json()["errors"][0]["loc"] == "cookie.count"


def test_path_marker_constraints(client: TestClient) -> None:
    assert client.get("/items/3").json() == {"item_id": 3}
    assert client.get("/items/0").json()["errors"][0]["loc"] == "path.item_id"
    assert client.get("/items/abc").status_code == 422


def test_struct_body_round_trip(client: TestClient) -> None:
    order = {"items": [{"name": "a", "price": 1.5, "tags": ["x"]}], "note": None}
    response = client.post("/orders", json=order)
    assert response.status_code == 201
    assert response.json() == order


@pytest.mark.parametrize(
    ("body", "location", "message", "kind"),
    [
        (
            {
                "items": [
                    {"name": "a", "price": 1},
                    {"name": "b", "price": 2},
                    {"name": "c", "price": "x"},
                ]
            },
            "body.items[2].price",
            "Expected `float`, got `str`",
            "str",
        ),
        (
            {"items": [{"name": "a", "price": -1}]},
            "body.items[0].price",
            "Expected `float` >= 0.0",
            "int",
        ),
        ({"items": [{"price": 1}]}, "body.items[0].name", "Field required", "missing"),
        ({"items": "nope"}, "body.items", "Expected `array`, got `str`", "str"),
        ([1, 2], "body", "Expected `object`, got `array`", "array"),
        ({"items": [{"name": "a", "price": 1e308 * 10}]}, "body.items[0].price", "", None),
        (
            {"items": [{"name": "<script>", "price": True}]},
            "body.items[0].price",
            "Expected `float`, got `bool`",
            "bool",
        ),
    ],
)
def test_body_validation_errors_point_at_the_field(
    client: TestClient, body: Any, location: str, message: str, kind: str | None
) -> None:
    response = client.post(
        "/orders",
        content=msgspec.json.encode(body)
        if body != {"items": [{"name": "a", "price": 1e308 * 10}]}
        else b'{"items":[{"name":"a","price":1e400}]}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422, response.text
    error = response.json()["errors"][0]
    assert error["loc"] == location
    assert error["msg"].startswith(message)
    if kind is not None:
        assert error["input"] == kind


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b'{"items": [', "application/json", 400),
        (b'{"items": NaN}', "application/json", 400),
        (b"[" * 10000 + b"]" * 10000, "application/json", 422),
        (b"[" * 200_000 + b"]" * 200_000, "application/json", 422),
        (b'{"items": [], "items": [{"name": "a", "price": 1}]}', "application/json", 201),
        (b'{"items": []}', "text/plain", 415),
        (b'{"items": []}', "application/vnd.api+json", 201),
        (b'{"items": [], "unknown": 1}', "application/json", 201),
        (b"\xff\xfe", "application/json", 400),
        (b"", "application/json", 422),
        (b'{"items": []}' + b" " * (1024 * 1024), "application/json", 413),
    ],
)
def test_hostile_bodies_never_500(
    client: TestClient, content: bytes, content_type: str, status: int
) -> None:
    response = client.post("/orders", content=content, headers={"content-type": content_type})
    assert response.status_code == status, response.text


def test_free_form_bodies_survive_absurd_nesting(client: TestClient) -> None:
    deep = b'{"a": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    response = client.post("/free-form", content=deep, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]
    assert client.post("/free-form", json={"a": 1, "b": [1]}).json() == {"keys": 2}


def test_body_without_content_type_is_parsed_as_json(client: TestClient) -> None:
    response = client.post("/points", content=b'{"x": 1, "y": 2}')
    assert response.json() == {"sum": 3}


def test_dataclass_typeddict_pydantic_and_list_bodies(client: TestClient) -> None:
    assert client.post("/points", json={"x": 1, "y": 2}).json() == {"sum": 3}
    assert client.post("/movies", json={"title": "M", "year": 1931}).json() == {
        "title": "M",
        "year": 1931,
    }
    assert client.post("/users", json={"name": "ada", "age": 36}).json() == {
        "name": "ada",
        "age": 36,
    }
    assert client.post("/batch", json=[{"name": "a", "price": 1}] * 3).json() == {"count": 3}
    bad_movie = client.post("/movies", json={"title": "M", "year": "old"})
    assert bad_movie.json()["errors"][0]["loc"] == "body.year"
    bad_user = client.post("/users", json={"name": "ada", "age": -1})
    assert bad_user.status_code == 422
    assert bad_user.json()["errors"][0]["loc"] == "body.age"
    assert bad_user.json()["errors"][0]["input"] == "int"
    missing_user = client.post("/users", json={"age": 3})
    assert missing_user.json()["errors"][0] == {
        "loc": "body.name",
        "msg": "Field required",
        "input": "missing",
    }
    assert (
        client.post(
            "/users", content=b"{", headers={"content-type": "application/json"}
        ).status_code
        == 400
    )


def test_embedded_and_multiple_body_parameters(client: TestClient) -> None:
    response = client.post(
        "/embedded", json={"item": {"name": "a", "price": 1}, "quantity": 2, "note": "hi"}
    )
    assert response.json() == {"name": "a", "quantity": 2, "note": "hi"}
    bad = client.post("/embedded", json={"item": {"name": "a", "price": 1}, "quantity": 0})
    assert bad.json()["errors"][0]["loc"] == "body.quantity"


def test_optional_body(client: TestClient) -> None:
    assert client.post("/optional").json() == {"given": False}
    assert client.post("/optional", json={"x": 1, "y": 1}).json() == {"given": True}


def test_mixed_sources_and_errors_from_several_sources(client: TestClient) -> None:
    ok = client.post("/mixed/4?verbose=1", json={"name": "a", "price": 1})
    assert ok.json() == {"n": 4, "name": "a", "verbose": True, "method": "POST"}
    bad = client.post("/mixed/4?verbose=perhaps", json={"name": "a"})
    assert [e["loc"] for e in bad.json()["errors"]] == ["query.verbose", "body.price"]


def test_every_error_in_a_body_is_listed(client: TestClient) -> None:
    order = {
        "items": [
            {"name": "ok", "price": 1},
            {"name": "", "price": -1, "tags": "x"},
            {"price": "free"},
        ],
        "note": 5,
    }
    response = client.post("/orders", json=order)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"loc": "body.items[1].price", "msg": "Expected `float` >= 0.0", "input": "int"},
        {"loc": "body.items[1].tags", "msg": "Expected `array`, got `str`", "input": "str"},
        {"loc": "body.items[2].name", "msg": "Field required", "input": "missing"},
        {"loc": "body.items[2].price", "msg": "Expected `float`, got `str`", "input": "str"},
        {"loc": "body.note", "msg": "Expected `str | null`, got `int`", "input": "int"},
    ]


def _compile(handler: Any, path: str = "/x") -> None:
    app = App()
    app.add_route(path, handler, methods=["POST"])
    app.compile()


def test_startup_errors_name_the_parameter() -> None:
    async def two_markers(a: Annotated[int, Query(), Header()]) -> None: ...

    async def marker_as_default(a: int = Query()) -> None:  # type: ignore[assignment]
        ...

    async def missing_path(a: Annotated[int, Path()]) -> None: ...

    async def structured_header(a: Annotated[Point, Header()]) -> None: ...

    async def unknown(a: object) -> None: ...

    async def bad_constraint(a: Annotated[str, Query(ge=1)]) -> None: ...

    for handler, message in [
        (two_markers, "more than one source marker"),
        (marker_as_default, "put markers in Annotated"),
        (missing_path, "has no path parameter {a}"),
        (structured_header, "must be a scalar"),
        (unknown, "cannot tell where"),
        (bad_constraint, "Can only set `ge` on a numeric type"),
    ]:
        with pytest.raises(HandlerError, match=message) as info:
            _compile(handler)
        assert "parameter 'a'" in str(info.value)
        assert handler.__name__ in str(info.value)


def test_errors_in_recursive_models_are_all_listed() -> None:
    app = App()

    @app.post("/tree")
    async def tree(root: Node) -> int:
        return len(root.children)

    document = {"name": 1, "children": [{"name": "ok"}, {"name": 2, "colour": "red"}]}
    with TestClient(app) as client:
        response = client.post("/tree", json=document)
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["errors"]] == [
        "body.name",
        "body.children[1].name",
        "body.children[1].colour",
    ]
