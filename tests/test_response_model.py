"""The declared response type filters what is sent: undeclared fields never leak."""

import dataclasses
from typing import Any, TypedDict

import msgspec
import pydantic
import pytest

from brace import App, JSONResponse
from brace.testing import TestClient


class PublicUser(msgspec.Struct):
    id: int
    name: str


class UserWithSecret(PublicUser):
    password_hash: str = "argon2id$..."


@dataclasses.dataclass
class Row:
    id: int
    name: str
    password_hash: str


class Summary(TypedDict):
    id: int


class PydanticUser(pydantic.BaseModel):
    id: int
    name: str


def make_app() -> App:
    app = App()

    @app.get("/dict")
    async def from_dict() -> PublicUser:
        return {"id": 1, "name": "ada", "password_hash": "x"}  # type: ignore[return-value]

    @app.get("/subclass")
    async def from_subclass() -> PublicUser:
        return UserWithSecret(2, "grace")

    @app.get("/orm")
    def from_object() -> PublicUser:
        return Row(3, "alan", "x")  # type: ignore[return-value]

    @app.get("/list")
    async def many() -> list[PublicUser]:
        return [{"id": i, "name": "n", "password_hash": "x"} for i in range(2)]  # type: ignore[misc]

    @app.get("/typeddict")
    async def typed_dict() -> Summary:
        return {"id": 4, "secret": True}  # type: ignore[typeddict-unknown-key]

    @app.get("/model", response_model=PublicUser)
    async def explicit() -> dict[str, Any]:
        return {"id": 5, "name": "linus", "token": "t"}

    @app.get("/pydantic")
    async def with_pydantic() -> PydanticUser:
        return {"id": 6, "name": "guido", "password_hash": "x"}  # type: ignore[return-value]

    @app.get("/pydantic-exact")
    async def pydantic_exact() -> PydanticUser:
        return PydanticUser(id=7, name="barbara")

    @app.get("/mismatch")
    async def mismatch() -> PublicUser:
        return {"id": "not a number"}  # type: ignore[return-value]

    @app.get("/response")
    async def response() -> PublicUser:
        return JSONResponse({"anything": True}, status_code=202)  # type: ignore[return-value]

    @app.get("/none")
    async def nothing() -> PublicUser | None:
        return None

    return app


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/dict", {"id": 1, "name": "ada"}),
        ("/subclass", {"id": 2, "name": "grace"}),
        ("/orm", {"id": 3, "name": "alan"}),
        ("/list", [{"id": 0, "name": "n"}, {"id": 1, "name": "n"}]),
        ("/typeddict", {"id": 4}),
        ("/model", {"id": 5, "name": "linus"}),
        ("/pydantic", {"id": 6, "name": "guido"}),
        ("/pydantic-exact", {"id": 7, "name": "barbara"}),
    ],
)
def test_only_declared_fields_are_sent(path: str, body: Any) -> None:
    with TestClient(make_app()) as client:
        response = client.get(path)
    assert response.status_code == 200
    assert response.json() == body
    assert "password" not in response.text and "secret" not in response.text


def test_a_value_that_does_not_match_the_declared_type_is_a_logged_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with TestClient(make_app()) as client:
        response = client.get("/mismatch")
    assert response.status_code == 500
    assert "not a number" not in response.text
    assert "does not match its declared response type" in caplog.text


def test_responses_and_none_pass_through() -> None:
    with TestClient(make_app()) as client:
        assert client.get("/response").status_code == 202
        assert client.get("/none").status_code == 204


def test_a_response_parameter_adds_headers_cookies_and_status_to_plain_data() -> None:
    from typing import Annotated

    from brace import Depends, Response

    app = App()

    def remember_visit(response: Response) -> None:
        response.set_cookie("visited", "1")

    @app.post("/things", dependencies=[Depends(remember_visit)])
    async def create(response: Response) -> PublicUser:
        response.headers["Location"] = "/things/1"
        response.headers["X-Rate-Remaining"] = "9"
        response.status_code = 201
        return PublicUser(1, "thing")

    @app.get("/explicit")
    async def explicit(response: Response, flag: Annotated[bool, Depends(lambda: True)]) -> Any:
        response.headers["X-Ignored"] = "1"
        return JSONResponse({"explicit": flag})

    with TestClient(app) as client:
        created = client.post("/things")
        explicit_response = client.get("/explicit")
    assert created.status_code == 201
    assert created.json() == {"id": 1, "name": "thing"}
    assert created.headers["location"] == "/things/1"
    assert created.headers["x-rate-remaining"] == "9"
    assert "visited=1" in created.headers["set-cookie"]
    assert created.headers["content-type"] == "application/json"
    assert explicit_response.json() == {"explicit": True}
    assert "x-ignored" not in explicit_response.headers
    with TestClient(app) as client:
        document = client.get("/openapi.json").json()
    assert "parameters" not in document["paths"]["/things"]["post"]
