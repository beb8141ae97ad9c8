"""The AsyncAPI 3.0 document of an app's WebSocket routes, validated against the spec's schema."""

import gzip
import json
from pathlib import Path
from typing import Annotated, Any

import jsonschema
import msgspec

from brace import App, Query, Router
from brace.testing import TestClient
from brace.websockets import WebSocket

SCHEMA = Path(__file__).parents[1] / "fixtures" / "asyncapi-3.0.0.schema.json.gz"


class ChatIn(msgspec.Struct):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class ChatOut(msgspec.Struct):
    name: str
    text: str


def make_app() -> App:
    app = App(title="Chat", version="2.0", description="Rooms")

    @app.websocket("/rooms/{room:slug}", receives=ChatIn, sends=ChatOut, summary="A room")
    async def room(
        ws: WebSocket, room: str, name: Annotated[str, Query(max_length=40)] = "anon"
    ) -> None: ...

    @app.websocket("/echo")
    async def echo(ws: WebSocket) -> None: ...

    @app.websocket("/hidden", include_in_schema=False, receives=ChatIn)
    async def hidden(ws: WebSocket) -> None: ...

    live = Router(prefix="/live", name="live")

    @live.websocket("/ticks", sends=ChatOut)
    async def ticks(ws: WebSocket) -> None: ...

    app.include(live)

    @app.get("/")
    async def home() -> str:
        return "hi"

    return app


def document() -> dict[str, Any]:
    with TestClient(make_app()) as client:
        response = client.get("/asyncapi.json")
        assert response.headers["content-type"] == "application/json"
        return response.json()  # type: ignore[no-any-return]


def test_the_document_is_valid_asyncapi_3() -> None:
    schema = json.loads(gzip.decompress(SCHEMA.read_bytes()))
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(document()))
    assert errors == []


def test_channels_operations_and_messages() -> None:
    doc = document()
    assert doc["asyncapi"] == "3.0.0"
    assert doc["info"] == {"title": "Chat", "version": "2.0", "description": "Rooms"}
    assert set(doc["channels"]) == {"room", "echo", "live.ticks"}
    room = doc["channels"]["room"]
    assert room["address"] == "/rooms/{room}"
    assert set(room["parameters"]) == {"room"}
    query = room["bindings"]["ws"]["query"]
    assert query["properties"]["name"] == {"type": "string", "maxLength": 40}
    assert doc["operations"]["room.receive"]["action"] == "receive"
    assert doc["operations"]["room.send"]["messages"] == [
        {"$ref": "#/channels/room/messages/ChatOut"}
    ]
    chat_in = doc["components"]["schemas"]["ChatIn"]
    assert chat_in["properties"]["text"] == {"type": "string", "minLength": 1, "maxLength": 500}
    assert "live.ticks.send" in doc["operations"] and "live.ticks.receive" not in doc["operations"]


def test_apps_without_websockets_publish_no_asyncapi() -> None:
    app = App()

    @app.get("/")
    async def home() -> str:
        return "hi"

    with TestClient(app) as client:
        assert client.get("/asyncapi.json").status_code == 404
