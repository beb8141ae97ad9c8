"""Class-based views: one class per resource, a method per verb with typed parameters, guards
declared once, a fresh instance per request, OpenAPI and url_for as for functions."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
import pytest

from brace import App, Depends, Header, HTTPError, View
from brace.testing import TestClient

store: dict[int, str] = {}


async def staff_only(x_staff: Annotated[str | None, Header()] = None) -> None:
    if x_staff != "yes":
        raise HTTPError(403, "Staff only.")


class ArticleIn(msgspec.Struct):
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]


class ArticleView(View):
    dependencies = (Depends(staff_only),)

    async def get(self, id: int, loud: bool = False) -> dict[str, Any]:
        """Read one article."""
        self.seen = getattr(self, "seen", 0) + 1  # a new instance each request: always 1
        title = store.get(id)
        if title is None:
            raise HTTPError(404, "No such article.")
        return {"id": id, "title": title.upper() if loud else title, "seen": self.seen}

    async def put(self, id: int, data: ArticleIn) -> dict[str, Any]:
        """Replace an article."""
        store[id] = data.title
        return {"id": id, "title": data.title}

    def delete(self, id: int) -> None:  # a plain def runs in a worker thread
        store.pop(id, None)


@pytest.fixture
def client() -> Any:
    store.clear()
    app = App()
    app.add_view("/articles/{id:int}", ArticleView, tags=["articles"])

    @app.get("/link")
    async def link() -> str:
        return app.url_for("ArticleView", id=7)

    with TestClient(app) as test_client:
        yield test_client


STAFF = {"x-staff": "yes"}


def test_each_verb_with_typed_parameters(client: TestClient) -> None:
    assert client.put("/articles/1", json={"title": "Hello"}, headers=STAFF).status_code == 200
    assert client.get("/articles/1", headers=STAFF).json() == {
        "id": 1,
        "title": "Hello",
        "seen": 1,
    }
    assert client.get("/articles/1?loud=true", headers=STAFF).json()["title"] == "HELLO"
    assert client.get("/articles/1", headers=STAFF).json()["seen"] == 1  # fresh instance
    assert client.delete("/articles/1", headers=STAFF).status_code == 204
    assert client.get("/articles/1", headers=STAFF).status_code == 404


def test_guards_and_bad_input(client: TestClient) -> None:
    assert client.get("/articles/1").status_code == 403  # the class's dependency
    assert client.put("/articles/1", json={"title": ""}, headers=STAFF).status_code == 422
    hostile = {"title": "<script>x</script>'; --"}
    assert (
        client.put("/articles/2", json=hostile, headers=STAFF).json()["title"] == hostile["title"]
    )
    assert client.put("/articles/x", json=hostile, headers=STAFF).status_code == 404
    assert client.post("/articles/1", headers=STAFF).status_code == 405
    assert client.put("/articles/1", content=b"{", headers=STAFF).status_code in (400, 415)


def test_openapi_and_url_for(client: TestClient) -> None:
    assert client.get("/link").text == "/articles/7"
    paths = client.get("/openapi.json").json()["paths"]["/articles/{id}"]
    assert set(paths) == {"get", "put", "delete"}
    assert paths["get"]["summary"] == "Read one article."
    assert paths["put"]["tags"] == ["articles"]
    names = {p["name"] for p in paths["get"]["parameters"]}
    assert names == {"id", "loud", "X-Staff"}  # the class's guard is documented too


def test_what_is_not_a_view() -> None:
    app = App()

    class Empty(View):
        pass

    with pytest.raises(TypeError, match="defines none of"):
        app.add_view("/empty", Empty)
    with pytest.raises(TypeError, match="not a View"):
        app.add_view("/x", dict)
