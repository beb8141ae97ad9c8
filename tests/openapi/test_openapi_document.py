"""The OpenAPI 3.1 document: valid, complete, built from the compiled routes."""

from typing import Annotated, Any

import msgspec
import pydantic
import pytest
from openapi_spec_validator import validate

from brace import App, Body, Depends, Header, Path, Query, Router
from brace.testing import TestClient


class Item(msgspec.Struct):
    name: str
    price: Annotated[float, msgspec.Meta(ge=0)]
    tags: list[str] = []


class ItemOut(msgspec.Struct):
    id: int
    name: str


class Customer(pydantic.BaseModel):
    name: str
    email: str


def pagination(
    limit: Annotated[int, Query(ge=1, le=100, description="Page size")] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> tuple[int, int]:
    return limit, offset


def make_app() -> App:
    app = App(
        title="Shop",
        version="2.1.0",
        description="A shop API.",
        servers=[{"url": "https://api.example.com"}],
    )
    items = Router(prefix="/items", tags=["items"])

    @items.get("")
    async def list_items(page: Annotated[tuple[int, int], Depends(pagination)]) -> list[ItemOut]:
        """List items.

        Newest first.
        """
        return []

    @items.post("", status_code=201)
    async def create_item(item: Item) -> ItemOut:
        return ItemOut(1, item.name)

    @items.get("/{item_id:int}")
    async def get_item(
        item_id: Annotated[int, Path(ge=1, description="The item")],
        x_trace: Annotated[str | None, Header(deprecated=True)] = None,
    ) -> ItemOut:
        return ItemOut(item_id, "x")

    @items.delete("/{item_id:int}")
    async def delete_item(item_id: int) -> None:
        return None

    @items.put("/{item_id:int}/move")
    async def move(
        item_id: int, target: Annotated[str, Body()], position: Annotated[int, Body(ge=0)]
    ) -> dict[str, Any]:
        return {}

    app.include(items)

    @app.post("/customers", summary="Sign up", tags=["customers"])
    async def signup(customer: Customer) -> Customer:
        return customer

    @app.get("/health", deprecated=True, responses={503: "Down for maintenance"})
    async def health() -> str:
        return "ok"

    @app.get("/internal", include_in_schema=False)
    async def internal() -> str:
        return "hidden"

    @app.get("/files/{path:path}")
    async def files() -> bytes:
        return b""

    return app


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    with TestClient(make_app()) as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    return response.json()  # type: ignore[no-any-return]


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert document["info"] == {"title": "Shop", "version": "2.1.0", "description": "A shop API."}
    assert document["servers"] == [{"url": "https://api.example.com"}]
    assert sorted(t["name"] for t in document["tags"]) == ["customers", "items"]


def test_paths_and_hidden_routes(document: dict[str, Any]) -> None:
    assert set(document["paths"]) == {
        "/items",
        "/items/{item_id}",
        "/items/{item_id}/move",
        "/customers",
        "/health",
        "/files/{path}",
    }
    assert set(document["paths"]["/items/{item_id}"]) == {"get", "delete"}


def test_operations_have_unique_ids_summaries_and_tags(document: dict[str, Any]) -> None:
    operations = [op for path in document["paths"].values() for op in path.values()]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids))
    listing = document["paths"]["/items"]["get"]
    assert listing["summary"] == "List items."
    assert listing["description"] == "Newest first."
    assert listing["tags"] == ["items"]
    assert document["paths"]["/customers"]["post"]["summary"] == "Sign up"


def test_parameters_carry_constraints_from_handlers_and_dependencies(
    document: dict[str, Any],
) -> None:
    listing = document["paths"]["/items"]["get"]["parameters"]
    assert listing == [
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "description": "Page size",
            "schema": {"type": "integer", "minimum": 1, "maximum": 100, "description": "Page size"},
        },
        {
            "name": "offset",
            "in": "query",
            "required": False,
            "schema": {"type": "integer", "minimum": 0},
        },
    ]
    detail = document["paths"]["/items/{item_id}"]["get"]["parameters"]
    assert detail[0]["name"] == "item_id" and detail[0]["in"] == "path"
    assert detail[0]["required"] is True and detail[0]["schema"]["minimum"] == 1
    assert detail[1]["name"] == "X-Trace" and detail[1]["in"] == "header"
    assert detail[1]["deprecated"] is True
    unused = document["paths"]["/files/{path}"]["get"]["parameters"]
    assert unused == [
        {"name": "path", "in": "path", "required": True, "schema": {"type": "string"}}
    ]


def test_bodies_and_responses_use_shared_components(document: dict[str, Any]) -> None:
    components = document["components"]["schemas"]
    assert {"Item", "ItemOut", "Customer", "Problem", "ValidationProblem"} <= set(components)
    create = document["paths"]["/items"]["post"]
    assert create["requestBody"]["required"] is True
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Item"
    }
    assert create["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ItemOut"
    }
    assert create["responses"]["422"]["content"]["application/problem+json"]
    assert components["Item"]["properties"]["price"]["minimum"] == 0
    move = document["paths"]["/items/{item_id}/move"]["put"]["requestBody"]["content"]
    assert move["application/json"]["schema"]["required"] == ["target", "position"]
    assert document["paths"]["/items/{item_id}"]["delete"]["responses"]["204"]
    assert "content" not in document["paths"]["/items/{item_id}"]["delete"]["responses"]["204"]
    health = document["paths"]["/health"]["get"]
    assert health["responses"]["200"]["content"] == {"text/plain": {"schema": {"type": "string"}}}
    assert health["responses"]["503"]["description"] == "Down for maintenance"
    assert health["deprecated"] is True
    assert components["Customer"]["properties"]["email"]["type"] == "string"


def test_docs_pages_and_assets() -> None:
    with TestClient(make_app(), root_path="/shop") as client:
        docs = client.get("/docs")
        redoc = client.get("/redoc")
        script = client.get("/docs/assets/swagger-ui-bundle.js")
        missing = client.get("/docs/assets/../../etc/passwd")
        unknown = client.get("/docs/assets/evil.js")
    assert docs.status_code == 200
    assert 'data-openapi-url="/shop/openapi.json"' in docs.text
    assert 'src="/shop/docs/assets/swagger-ui-bundle.js"' in docs.text
    assert "<script>" not in docs.text  # no inline script: works under a strict CSP
    assert 'spec-url="/shop/openapi.json"' in redoc.text
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "max-age" in script.headers["cache-control"]
    assert missing.status_code == 404 and unknown.status_code == 404


def test_docs_can_be_moved_or_turned_off() -> None:
    app = App(openapi_url="/api/schema.json", docs_url="/api/docs", redoc_url=None)
    with TestClient(app) as client:
        assert client.get("/api/schema.json").status_code == 200
        assert 'data-openapi-url="/api/schema.json"' in client.get("/api/docs").text
        assert client.get("/redoc").status_code == 404
        assert client.get("/openapi.json").status_code == 404
    off = App(openapi_url=None)
    with TestClient(off) as client:
        assert client.get("/openapi.json").status_code == 404
        assert client.get("/docs").status_code == 404


def test_title_is_escaped_in_docs_pages() -> None:
    app = App(title="<script>alert(1)</script>")
    with TestClient(app) as client:
        page = client.get("/docs").text
    assert "<script>alert" not in page
    assert "&lt;script&gt;" in page
