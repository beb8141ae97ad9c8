"""Property tests: whatever arrives in the query or the body, validated handlers answer 2xx/4xx."""

import string
from typing import Annotated, Any
from urllib.parse import quote

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from brace import App, Body, Header, Query
from brace.testing import TestClient


class Line(msgspec.Struct):
    sku: Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
    quantity: Annotated[int, msgspec.Meta(ge=1, le=1000)]
    price: Annotated[float, msgspec.Meta(ge=0)]


class Order(msgspec.Struct):
    lines: list[Line]
    coupon: str | None = None


def make_app() -> App:
    app = App()

    @app.get("/search")
    async def search(
        q: Annotated[str, Query(max_length=50)] = "",
        limit: Annotated[int, Query(ge=1, le=100)] = 10,
        ratio: float | None = None,
        flags: list[bool] | None = None,
        x_tenant: Annotated[str | None, Header()] = None,
    ) -> dict[str, Any]:
        return {"q": q, "limit": limit}

    @app.post("/orders")
    async def orders(order: Order, note: Annotated[str, Body()] = "") -> dict[str, int]:
        return {"lines": len(order.lines)}

    @app.post("/order")
    async def order(order: Order) -> dict[str, int]:
        return {"lines": len(order.lines)}

    return app


@pytest.fixture(scope="module")
def client() -> Any:
    with TestClient(make_app()) as client:
        yield client


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(["lines", "sku", "quantity", "price", "coupon", "note", "order", "x"])
            | st.text(max_size=5),
            children,
            max_size=5,
        )
    ),
    max_leaves=30,
)
query_keys = st.sampled_from(["q", "limit", "ratio", "flags", "other"])
query_values = st.text(alphabet=string.printable + "é€\x00", max_size=30)

FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(st.lists(st.tuples(query_keys, query_values), max_size=6))
def test_random_query_strings_never_500(client: TestClient, pairs: list[tuple[str, str]]) -> None:
    query = "&".join(f"{quote(k)}={quote(v)}" for k, v in pairs)
    response = client.get(f"/search?{query}")
    assert response.status_code in (200, 400, 422), response.text


@FUZZ
@given(st.binary(max_size=40))
def test_raw_query_bytes_never_500(client: TestClient, raw: bytes) -> None:
    query = quote(raw, safe="=&")
    response = client.get(f"/search?{query}")
    assert response.status_code in (200, 400, 422), response.text


@FUZZ
@given(json_values)
def test_random_json_bodies_never_500(client: TestClient, value: Any) -> None:
    body = msgspec.json.encode(value)
    for path in ("/orders", "/order"):
        response = client.post(path, content=body, headers={"content-type": "application/json"})
        assert response.status_code in (200, 400, 422), response.text


@FUZZ
@given(st.binary(max_size=200))
def test_random_bytes_as_json_never_500(client: TestClient, body: bytes) -> None:
    response = client.post("/order", content=body, headers={"content-type": "application/json"})
    assert response.status_code in (200, 400, 422), response.text
