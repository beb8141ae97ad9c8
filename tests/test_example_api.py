"""The typed CRUD example works end to end and documents itself."""

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from brace.testing import TestClient

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "api.py"
KEY = {"X-API-Key": "let-me-in"}


def load_app() -> Any:
    spec = importlib.util.spec_from_file_location("example_api", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["example_api"] = module
    spec.loader.exec_module(module)
    return module.app


@pytest.fixture
def client() -> Any:
    with TestClient(load_app()) as client:
        yield client


def test_crud_round_trip(client: TestClient) -> None:
    created = client.post(
        "/pets", json={"name": "Rex", "species": "dog", "tags": ["good"]}, headers=KEY
    )
    assert created.status_code == 201
    pet = created.json()
    assert pet == {"id": 1, "name": "Rex", "species": "dog", "age": 0, "tags": ["good"]}
    client.post("/pets", json={"name": "Tom", "species": "cat"}, headers=KEY)
    assert client.get("/pets/1").json() == pet
    listing = client.get("/pets?species=dog&tag=good").json()
    assert listing["total"] == 1 and listing["items"][0]["name"] == "Rex"
    assert client.get("/pets?limit=1&offset=1").json()["items"][0]["name"] == "Tom"
    replaced = client.put(
        "/pets/1", json={"name": "Rex II", "species": "dog", "age": 3}, headers=KEY
    )
    assert replaced.json()["age"] == 3
    assert client.delete("/pets/1", headers=KEY).status_code == 204
    assert client.get("/pets/1").status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status"),
    [
        ("POST", "/pets", {"name": "Rex", "species": "dog"}, {}, 401),
        ("POST", "/pets", {"name": "", "species": "dog"}, KEY, 422),
        ("POST", "/pets", {"name": "Rex", "species": "dragon"}, KEY, 422),
        ("POST", "/pets", {"name": "Rex", "species": "dog", "owner": "me"}, KEY, 422),
        ("POST", "/pets", {"name": "Rex", "species": "dog", "age": 10**30}, KEY, 422),
        ("POST", "/pets", {"name": "'; DROP TABLE pets; --", "species": "cat"}, KEY, 201),
        ("GET", "/pets/0", None, {}, 422),
        ("GET", "/pets/abc", None, {}, 422),
        ("GET", "/pets?limit=1000", None, {}, 422),
        ("DELETE", "/pets/99", None, KEY, 404),
    ],
)
def test_bad_requests_get_clear_4xx(
    client: TestClient, method: str, path: str, body: Any, headers: dict[str, str], status: int
) -> None:
    response = client.request(method, path, json=body, headers=headers)
    assert response.status_code == status, response.text


def test_the_example_documents_itself(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    validate(document)
    assert set(document["paths"]) == {"/pets", "/pets/{pet_id}"}
    assert document["paths"]["/pets"]["post"]["responses"]["201"]
    assert {"Pet", "PetIn", "Page"} <= set(document["components"]["schemas"])
