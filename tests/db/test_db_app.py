"""brace.db through real handlers, on SQLite and PostgreSQL: sessions committed or rolled back,
models returned and documented, helpers, pagination, and hostile input."""

from collections.abc import Iterator
from typing import Annotated, Any

import msgspec
import pytest
from db_models import ApiToken, Author, Book, Product, Status
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from brace import App, HTTPError, Query
from brace.db import (
    DB,
    CursorPage,
    CursorPagination,
    Database,
    Page,
    Pagination,
    bulk_insert,
    exists_where,
    get_or_404,
)
from brace.testing import TestClient


class ProductIn(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(max_length=40)]
    price: float
    note: str | None = None


class BookOut(msgspec.Struct):
    id: int
    title: str


class AuthorWithBooks(msgspec.Struct):
    id: int
    name: str
    books: list[BookOut]


def make_app(url: str) -> tuple[App, Database]:
    app = App()
    db = Database(url, app=app)

    @app.on_startup
    async def fresh_tables() -> None:
        await db.drop_all()
        await db.create_all()

    @app.post("/products", status_code=201)
    async def create(product: ProductIn, session: DB) -> Product:
        row = Product(name=product.name, price=product.price, note=product.note)
        session.add(row)
        await session.flush()
        return row

    @app.get("/products/{id}")
    async def show(id: int, session: DB) -> Product:
        return await get_or_404(session, Product, id)

    @app.get("/products")
    async def index(session: DB, pages: Pagination) -> Page[Product]:
        return await pages.fetch(session, select(Product).order_by(Product.id))

    @app.get("/scan")
    async def scan(session: DB, pages: CursorPagination) -> CursorPage[Product]:
        return await pages.fetch(session, select(Product), Product.id)

    @app.get("/search")
    async def search(session: DB, q: Annotated[str, Query(max_length=100)]) -> list[Product]:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        found = await session.scalars(
            select(Product).where(Product.name.like(pattern, escape="\\")).order_by(Product.id)
        )
        return list(found)

    @app.post("/products/{id}/fail")
    async def change_then_fail(id: int, session: DB) -> None:
        row = await get_or_404(session, Product, id)
        row.price = -1
        await session.flush()
        raise HTTPError(418, "changed my mind")

    @app.get("/undeclared/{id}")
    async def undeclared(id: int, session: DB) -> Any:
        return await session.get(Product, id)

    @app.post("/bulk")
    async def bulk(session: DB, count: int) -> dict[str, object]:
        rows = [{"name": f"bulk-{i}", "price": i} for i in range(count)]
        inserted = await bulk_insert(session, Product, rows)
        return {"inserted": inserted, "exists": await exists_where(session, Product, name="bulk-0")}

    @app.post("/authors")
    async def author(session: DB) -> AuthorWithBooks:
        writer = Author(name="Ada", books=[Book(title="Notes"), Book(title="<b>Sketch</b>")])
        session.add(writer)
        await session.flush()
        loaded = await session.scalar(
            select(Author).where(Author.id == writer.id).options(selectinload(Author.books))
        )
        return loaded  # type: ignore[return-value]

    @app.post("/authors/plain")
    async def author_plain(session: DB) -> Author:
        writer = Author(name="Grace")
        session.add(writer)
        await session.flush()
        return writer

    @app.post("/tokens")
    async def token(session: DB) -> ApiToken:
        row = ApiToken(label="ci")
        session.add(row)
        await session.flush()
        return row

    return app, db


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    app, _ = make_app(db_url)
    with TestClient(app) as c:
        yield c


def add(client: TestClient, name: str, price: float = 1.0) -> dict[str, Any]:
    r = client.post("/products", json={"name": name, "price": price})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def test_create_and_read_a_model(client: TestClient) -> None:
    created = add(client, "lamp", 9.5)
    assert list(created) == [
        "id",
        "name",
        "price",
        "status",
        "note",
        "created_at",
        "updated_at",
    ]
    assert created["status"] == "draft" and created["note"] is None
    assert created["created_at"] is not None
    shown = client.get(f"/products/{created['id']}").json()
    assert shown["name"] == "lamp" and shown["price"] == 9.5
    assert client.get(f"/undeclared/{created['id']}").json()["name"] == "lamp"


def test_handler_error_rolls_back(client: TestClient) -> None:
    product = add(client, "chair", 20)
    assert client.post(f"/products/{product['id']}/fail").status_code == 418
    assert client.get(f"/products/{product['id']}").json()["price"] == 20


def test_failed_commit_is_the_answer_and_changes_nothing(client: TestClient) -> None:
    add(client, "unique-name")
    r = client.post("/products", json={"name": "unique-name", "price": 2})
    assert r.status_code == 409
    assert "conflicts with existing data" in r.json()["detail"]
    assert "UNIQUE" not in r.text and "duplicate key" not in r.text  # no SQL leaks
    assert client.get("/products").json()["total"] == 1


def test_missing_rows_are_404_and_odd_keys_never_500(client: TestClient) -> None:
    assert client.get("/products/12345").status_code == 404
    assert client.get(f"/products/{10**30}").status_code in (404, 422)
    assert client.get("/products/-1").status_code == 404
    assert client.get("/products/abc").status_code == 422


def test_offset_pagination_with_links(client: TestClient) -> None:
    for i in range(5):
        add(client, f"p{i}", i)
    r = client.get("/products", params={"limit": 2, "offset": 2})
    page = r.json()
    assert [p["name"] for p in page["items"]] == ["p2", "p3"]
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 2)
    assert r.headers["x-total-count"] == "5"
    links = r.headers["link"]
    assert 'offset=4>; rel="next"' in links and 'offset=0>; rel="prev"' in links
    assert 'offset=4>; rel="last"' in links
    last = client.get("/products", params={"limit": 2, "offset": 4})
    assert 'rel="next"' not in last.headers["link"]
    for bad in ({"limit": 0}, {"limit": 1000}, {"offset": -1}, {"limit": "x"}):
        assert client.get("/products", params=bad).status_code == 422


def test_keyset_pagination(client: TestClient) -> None:
    for i in range(5):
        add(client, f"k{i}")
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        r = client.get("/scan", params=params)
        page = r.json()
        seen += [p["name"] for p in page["items"]]
        if page["next_cursor"] is None:
            assert "link" not in r.headers
            break
        assert 'rel="next"' in r.headers["link"]
        params = {"limit": 2, "after": page["next_cursor"]}
    assert seen == ["k0", "k1", "k2", "k3", "k4"]
    for bad in ("zzz", "!!!", "' OR 1=1 --", "A" * 500):
        assert client.get("/scan", params={"after": bad}).status_code in (400, 422)


def test_hostile_strings_are_data_not_sql(client: TestClient) -> None:
    names = ["' OR 1=1 --", "%", "_", "a%b_c", "\\", "'; DROP TABLE product; --", "<script>"]
    for name in names:
        add(client, name)
    for name in names:
        found = client.get("/search", params={"q": name}).json()
        assert name in [p["name"] for p in found], name
    assert client.get("/search", params={"q": "%"}).json()[0]["name"] in ("%", "a%b_c")
    assert len(client.get("/search", params={"q": "zzz"}).json()) == 0
    assert client.get("/products").json()["total"] == len(names)


def test_nul_bytes_and_oversized_values_never_500(client: TestClient) -> None:
    r = client.post("/products", json={"name": "nul\u0000byte", "price": 1})
    assert r.status_code in (201, 400)  # SQLite stores it; PostgreSQL refuses text with NUL
    assert "0x00" not in r.text
    r = client.post("/products", json={"name": "x" * 41, "price": 1})
    assert r.status_code == 422  # the typed body caps it before the database sees it
    r = client.post(
        "/products",
        content=b'{"name": "big", "price": 1e400}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code in (201, 400, 422)  # inf: a float the database may or may not keep
    huge = client.post(
        "/products",
        content=b'{"name":"' + b"x" * (10 * 1024 * 1024) + b'"}',
        headers={"content-type": "application/json"},
    )
    assert huge.status_code == 413
    assert client.get("/search", params={"q": "x" * 10_000}).status_code == 422


def test_bulk_insert_and_exists(client: TestClient) -> None:
    assert client.post("/bulk", params={"count": 50}).json() == {"inserted": 50, "exists": True}
    assert client.get("/products").json()["total"] == 50


def test_relationships_only_when_declared(client: TestClient) -> None:
    declared = client.post("/authors").json()
    assert declared["name"] == "Ada"
    assert [b["title"] for b in declared["books"]] == ["Notes", "<b>Sketch</b>"]
    plain = client.post("/authors/plain").json()
    assert plain == {"id": plain["id"], "name": "Grace"}  # no `books` key


def test_uuid_primary_keys(client: TestClient) -> None:
    token = client.post("/tokens").json()
    assert len(token["id"]) == 36 and token["label"] == "ci"


def test_openapi_shows_model_schemas(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    schema = doc["components"]["schemas"]["Product"]
    assert set(schema["properties"]) == {
        "id",
        "name",
        "price",
        "status",
        "note",
        "created_at",
        "updated_at",
    }
    assert schema["properties"]["status"] == {"$ref": "#/components/schemas/Status"}
    ok = doc["paths"]["/products/{id}"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Product"}
    listing = doc["paths"]["/products"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {"limit", "offset"}
    from openapi_spec_validator import validate

    validate(doc)


def test_status_enum_round_trip(db_url: str) -> None:
    assert Status.published.value == "published"


def test_sync_handlers_get_a_working_session(db_url: str) -> None:
    from brace.db import SyncDB

    app, _ = make_app(db_url)

    @app.post("/sync/{name}", status_code=201)
    def create_sync(name: str, session: SyncDB) -> Product:
        row = Product(name=name, price=3.0)
        session.add(row)
        session.flush()
        assert session.get(Product, row.id) is row
        count = session.scalar(select(func.count()).select_from(Product))
        assert count == len(list(session.scalars(select(Product))))
        return row

    @app.post("/sync-fail/{name}")
    def fail_sync(name: str, session: SyncDB) -> None:
        session.add(Product(name=name, price=1.0))
        session.flush()
        raise HTTPError(400, "undo")

    @app.get("/misuse")
    async def misuse(session: SyncDB) -> None:
        session.flush()  # blocking call on the event loop: refused

    with TestClient(app, raise_app_exceptions=False) as client:
        made = client.post("/sync/threaded")
        assert made.status_code == 201 and made.json()["name"] == "threaded"
        assert client.post("/sync-fail/gone").status_code == 400
        names = [p["name"] for p in client.get("/products").json()["items"]]
        assert names == ["threaded"]
        assert client.get("/misuse").status_code == 500
