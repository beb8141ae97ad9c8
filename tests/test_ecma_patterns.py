"""A `pattern=` means what the published schema says (ECMA-262), not what Python's `re`
would make of it: `\\S`, `\\d` and `\\w` accept and refuse the same strings for a client that
validates against the OpenAPI document and for brace."""

from typing import Annotated

import pytest

from brace import App, Form, Query
from brace.testing import TestClient


def make_app() -> App:
    app = App()

    @app.get("/tags")
    async def tags(
        tag: Annotated[str, Query(pattern=r"^\S+$")],
        code: Annotated[str, Query(pattern=r"^\d{3}$")] = "000",
        slug: Annotated[str, Query(pattern=r"^[\w-]+$")] = "a",
    ) -> dict[str, str]:
        return {"tag": tag, "code": code, "slug": slug}

    @app.post("/forms")
    async def forms(name: Annotated[str, Form(pattern=r"^\S+$")]) -> str:
        return name

    return app


@pytest.fixture
def client() -> TestClient:
    with TestClient(make_app()) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"tag": "ok"}, 200),
        ({"tag": "\x1c\x1f"}, 200),  # not whitespace in ECMA-262; Python's \s says it is
        ({"tag": "a b"}, 422),
        ({"tag": "\u00a0"}, 422),  # no-break space is whitespace in both
        ({"tag": "x", "code": "123"}, 200),
        ({"tag": "x", "code": "\u0661\u0662\u0663"}, 422),  # Arabic-Indic digits: not \d
        ({"tag": "x", "slug": "caf\u00e9"}, 422),  # not \w in ECMA-262
        ({"tag": "x", "slug": "<script>"}, 422),
        ({"tag": "x", "slug": "a'--"}, 422),
        ({}, 422),
    ],
)
def test_patterns_validate_as_ecma_262(
    client: TestClient, query: dict[str, str], status: int
) -> None:
    assert client.get("/tags", params=query).status_code == status


def test_form_patterns_too(client: TestClient) -> None:
    assert client.post("/forms", data={"name": "\x1c"}).status_code == 200
    assert client.post("/forms", data={"name": "a b"}).status_code == 422


def test_the_document_publishes_the_pattern_as_written(client: TestClient) -> None:
    parameters = client.get("/openapi.json").json()["paths"]["/tags"]["get"]["parameters"]
    patterns = {p["name"]: p["schema"]["pattern"] for p in parameters}
    assert patterns == {"tag": r"^\S+$", "code": r"^\d{3}$", "slug": r"^[\w-]+$"}


def test_struct_fields_agree_through_ecma_pattern() -> None:
    import msgspec

    from brace import ecma_pattern

    class Note(msgspec.Struct):
        title: Annotated[str, msgspec.Meta(max_length=20, pattern=ecma_pattern(r"\S"))]

    app = App()

    @app.post("/notes")
    async def add(note: Note) -> Note:
        return note

    with TestClient(app) as client:
        assert client.post("/notes", json={"title": "\x1c"}).status_code == 200
        assert client.post("/notes", json={"title": " \u00a0\t"}).status_code == 422
        assert client.post("/notes", json={"title": "<b>x</b>"}).status_code == 200
        schema = client.get("/openapi.json").json()["components"]["schemas"]["Note"]
    published = schema["properties"]["title"]["pattern"]
    assert published == ecma_pattern(r"\S")
    assert "\\S" not in published and "\\s" not in published  # no shorthand left to disagree on
