"""The chat example (examples/chat): rooms over WebSockets and the SSE activity feed, in-process."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from brace import App
from brace.channels import Channels
from brace.testing import TestClient, WebSocketClosed, WebSocketDenied, WebSocketTestSession
from support_examples import load_example
from support_sse import FeedReader

XSS_NAME = '<img src=x onerror="alert(1)">'
XSS_TEXT = "</script><script>alert(2)</script>\n\nevent: joined\ndata: forged"


def load_chat() -> ModuleType:
    return load_example("chat")


chat = load_chat()


@pytest.fixture
def app() -> App:
    made: App = chat.create_app("memory://", heartbeat=0.05)
    return made


@pytest.fixture
def client(app: App) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def join(client: TestClient, room: str, name: str) -> WebSocketTestSession:
    return client.websocket_connect(f"/ws/rooms/{room}?name={name}")


def joined(ws: WebSocketTestSession, name: str, room: str = "lobby") -> dict[str, Any]:
    """The next frame, which must say that `name` joined `room`."""
    event: dict[str, Any] = ws.receive_json()
    assert (event["type"], event["name"], event["room"]) == ("joined", name, room)
    return event


def groups(app: App) -> set[str]:
    """The channels groups somebody in this process still listens to."""
    channels: Channels = app.state.channels
    return set(channels._groups)


# -- pages -----------------------------------------------------------------------------------


def test_home_page_lists_rooms_and_loads_the_feed_script(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    text = page.text
    for room in ("lobby", "python", "random"):
        assert f'<a href="/rooms/{room}">#{room}</a>' in text
    assert 'data-source="/activity"' in text
    assert 'data-room-url="/rooms/__room__"' in text
    assert '<script src="/static/chat.js" defer></script>' in text
    assert 'name="viewport"' in text
    # No inline script or style anywhere: the CSP allows neither.
    assert re.findall(r"<script(?![^>]*\ssrc=)", text) == []
    assert " style=" not in text and "<style" not in text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"


def test_room_page_carries_the_socket_path(client: TestClient) -> None:
    page = client.get("/rooms/book-club_2")
    assert page.status_code == 200
    assert "<title>#book-club_2 · Chat</title>" in page.text
    assert 'data-socket="/ws/rooms/book-club_2"' in page.text
    assert 'maxlength="30"' in page.text and 'maxlength="500"' in page.text


def test_static_assets_are_served_and_the_script_never_writes_html(client: TestClient) -> None:
    script = client.get("/static/chat.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    code = script.text
    assert "textContent" in code
    for sink in (".innerHTML", ".outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in code
    style = client.get("/static/chat.css")
    assert style.headers["content-type"] == "text/css; charset=utf-8"


@pytest.mark.parametrize(
    "path",
    [
        "/rooms/" + "a" * 41,  # too long
        "/rooms/a.b",
        "/rooms/a%20b",
        "/rooms/%3Cscript%3E",
        "/rooms/caf%C3%A9",  # slugs are ASCII
        "/rooms/",
    ],
)
def test_invalid_room_names_are_not_found(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert "<script>" not in response.text


def test_a_forty_character_room_is_fine(client: TestClient) -> None:
    assert client.get("/rooms/" + "a" * 40).status_code == 200


@pytest.mark.parametrize(
    ("typed", "slug"),
    [
        ("Python Help!", "python-help"),
        ("  lobby ", "lobby"),
        ("<script>alert(1)</script>", "script-alert-1-script"),
        ("x" * 60, "x" * 40),
    ],
)
def test_open_a_room_by_typing_its_name(client: TestClient, typed: str, slug: str) -> None:
    response = client.get("/go", params={"room": typed})
    assert response.status_code == 303
    assert response.headers["location"] == f"/rooms/{slug}"


def test_a_typed_name_without_letters_comes_back_escaped(client: TestClient) -> None:
    response = client.get("/go", params={"room": "<>\"' !?"})
    assert response.status_code == 422
    assert 'value="&lt;&gt;&#34;&#39; !?"' in response.text
    assert 'role="alert">Type a room name with at least one letter or digit.' in response.text
    assert "<>" not in response.text


# -- rooms -----------------------------------------------------------------------------------


def test_two_members_see_each_others_messages(client: TestClient) -> None:
    with join(client, "lobby", "Ada") as ada:
        joined(ada, "Ada")
        with join(client, "lobby", "Bob") as bob, join(client, "elsewhere", "Eve") as eve:
            joined(bob, "Bob")
            joined(ada, "Bob")
            joined(eve, "Eve", room="elsewhere")
            ada.send_json({"text": "Hello, Bob!"})
            for ws in (ada, bob):  # the sender gets its own message back, like everyone
                message = ws.receive_json()
                assert message["type"] == "message"
                assert (message["name"], message["text"]) == ("Ada", "Hello, Bob!")
            bob.send_json({"text": "Hi Ada"})
            assert ada.receive_json()["text"] == "Hi Ada"
            assert bob.receive_json()["text"] == "Hi Ada"
            eve.send_json({"text": "anyone?"})
            assert eve.receive_json()["text"] == "anyone?"  # other rooms heard nothing:
        left = ada.receive_json()  # Ada's next frame is Bob leaving, not Eve's message
        assert (left["type"], left["name"]) == ("left", "Bob")


def test_messages_carry_a_server_timestamp(client: TestClient) -> None:
    from datetime import UTC, datetime

    before = datetime.now(UTC)
    with join(client, "lobby", "Ada") as ada:
        joined(ada, "Ada")
        ada.send_json({"text": "what time is it?", "at": "1999-01-01T00:00:00Z"})
        message = ada.receive_json()
    at = datetime.fromisoformat(message["at"])
    assert before <= at <= datetime.now(UTC)  # the server's clock, not the client's claim
    assert message["at"].endswith("Z")


@pytest.mark.parametrize(
    ("frame", "loc"),
    [
        ('{"text": ""}', "message.text"),
        ('{"text": "   \\n "}', "message.text"),  # only spaces
        ('{"text": 42}', "message.text"),
        ('{"message": "hi"}', "message.text"),
        ("[1, 2]", "message"),
        ("not json", "message"),
        ('{"text": "' + "x" * 501 + '"}', "message.text"),
    ],
)
def test_invalid_messages_get_an_error_frame_and_the_member_stays(
    client: TestClient, frame: str, loc: str
) -> None:
    with join(client, "lobby", "Ada") as ada, join(client, "lobby", "Bob") as bob:
        joined(ada, "Ada")
        joined(ada, "Bob")
        joined(bob, "Bob")
        ada.send_text(frame)
        error = ada.receive_json()
        assert error["type"] == "error"
        assert error["errors"][0]["loc"] == loc
        ada.send_json({"text": "still here"})
        assert ada.receive_json()["text"] == "still here"
        assert bob.receive_json()["text"] == "still here"  # the invalid one never reached Bob


def test_five_hundred_characters_pass_and_five_hundred_and_one_do_not(
    client: TestClient,
) -> None:
    with join(client, "lobby", "Ada") as ada:
        joined(ada, "Ada")
        for text in ("x" * 500, "é" * 500, "🙂" * 500):  # characters, not bytes
            ada.send_json({"text": text})
            assert ada.receive_json()["text"] == text
        ada.send_json({"text": "x" * 501})
        error = ada.receive_json()
        assert error["errors"][0]["msg"] == "Expected `str` of length <= 500"


def test_an_oversized_frame_closes_the_connection(client: TestClient) -> None:
    with join(client, "lobby", "Ada") as ada:
        joined(ada, "Ada")
        ada.send_text('{"text": "' + "x" * 20_000 + '"}')
        with pytest.raises(WebSocketClosed) as closed:
            ada.receive()
        assert closed.value.code == 1009


@pytest.mark.parametrize(
    "query",
    ["", "?name=", "?name=%20%20", "?name=" + "x" * 31],
)
def test_a_name_is_required_and_limited(client: TestClient, query: str) -> None:
    with pytest.raises(WebSocketDenied) as denied:
        with client.websocket_connect("/ws/rooms/lobby" + query):
            pass
    assert denied.value.status == 422
    assert json.loads(denied.value.body)["errors"][0]["loc"] == "query.name"


def test_names_are_trimmed_and_thirty_characters_are_fine(client: TestClient) -> None:
    with join(client, "lobby", "%20Ada%0A%20Lovelace%20") as ada:
        joined(ada, "Ada Lovelace")
    with join(client, "lobby", "n" * 30) as long:
        joined(long, "n" * 30)


@pytest.mark.parametrize("room", ["a" * 41, "a.b", "%3Cscript%3E"])
def test_sockets_to_invalid_rooms_are_refused(client: TestClient, room: str) -> None:
    with pytest.raises(WebSocketDenied) as denied:
        with join(client, room, "Ada"):
            pass
    assert denied.value.status in (403, 404)  # a 404 when the server can send a body


def test_markup_is_delivered_as_data(client: TestClient) -> None:
    with join(client, "lobby", XSS_NAME) as evil, join(client, "lobby", "Bob") as bob:
        joined(evil, XSS_NAME)
        joined(evil, "Bob")
        joined(bob, "Bob")
        evil.send_json({"text": XSS_TEXT})
        raw = bob.receive_text()
        message = json.loads(raw)
        assert (message["name"], message["text"]) == (XSS_NAME, XSS_TEXT)
        assert "\n" not in raw  # one JSON document; the client renders it with textContent


def test_a_member_who_floods_is_slowed_down() -> None:
    app: App = chat.create_app("memory://", rate_limit=(3, 60.0))
    with TestClient(app) as client, join(client, "lobby", "Ada") as ada:
        joined(ada, "Ada")
        for n in range(3):
            ada.send_json({"text": f"message {n}"})
            assert ada.receive_json()["text"] == f"message {n}"
        ada.send_json({"text": "one too many"})
        error = ada.receive_json()
        assert error == {
            "type": "error",
            "errors": [{"loc": "message", "msg": "Too many messages: wait a moment."}],
        }


def test_handlers_end_with_their_clients(client: TestClient, app: App) -> None:
    with join(client, "lobby", "Ada") as ada:
        joined(ada, "Ada")
        with join(client, "lobby", "Bob") as bob:
            joined(bob, "Bob")
            joined(ada, "Bob")
            assert groups(app) == {"room:lobby"}
        assert ada.receive_json()["type"] == "left"  # Bob's handler ended with Bob
    deadline = time.monotonic() + 2
    while groups(app) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert groups(app) == set()  # every subscription was released


def test_channels_url_comes_from_the_argument_or_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHAT_CHANNELS", "memory://from-env")
    assert chat.create_app().state.channels.url == "memory://from-env"
    assert chat.create_app("memory://given").state.channels.url == "memory://given"
    monkeypatch.delenv("CHAT_CHANNELS")
    assert chat.create_app().state.channels.url == "memory://"
    assert isinstance(chat.app, App)


def test_slugify_and_clean_name() -> None:
    assert chat.slugify("  Hello, World  ") == "hello-world"
    assert chat.slugify("---") == ""
    assert chat.slugify("a" * 39 + " b") == "a" * 39  # cut at 40, no trailing dash
    assert chat.clean_name(" Ada \t\r\n Lovelace ") == "Ada Lovelace"


# -- the activity feed -----------------------------------------------------------------------


def test_the_activity_feed_streams_joins_messages_and_departures(
    client: TestClient, app: App
) -> None:
    with FeedReader(client, "/activity") as feed:
        assert feed.status == 200
        assert feed.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert feed.headers["cache-control"] == "no-cache"
        assert feed.body.startswith(b"retry: 3000\n\n")
        with join(client, "lobby", "Ada") as ada:
            joined(ada, "Ada")
            ada.send_json({"text": "hello feed"})
            ada.receive_json()
        (hello,) = feed.wait_for("joined")
        assert (hello["room"], hello["name"]) == ("lobby", "Ada")
        (message,) = feed.wait_for("message")
        assert (message["name"], message["text"]) == ("Ada", "hello feed")
        (bye,) = feed.wait_for("left")
        assert bye["name"] == "Ada"
        assert [k for k, _ in feed.events() if k] == ["ready", "joined", "message", "left"]
        assert groups(app) == {"activity"}
    deadline = time.monotonic() + 2
    while groups(app) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert groups(app) == set()  # the feed unsubscribed when its client left


def test_the_activity_feed_sends_heartbeats(client: TestClient) -> None:
    with FeedReader(client, "/activity") as feed:
        feed.wait_for("", count=2)  # heartbeat=0.05 s in these tests
        assert b": keep-alive\n\n" in feed.body


def test_markup_and_line_breaks_cannot_forge_feed_events(client: TestClient) -> None:
    with FeedReader(client, "/activity") as feed:
        with join(client, "lobby", XSS_NAME) as evil:
            joined(evil, XSS_NAME)
            evil.send_json({"text": XSS_TEXT})
            evil.receive_json()
        (message,) = feed.wait_for("message")
        assert (message["name"], message["text"]) == (XSS_NAME, XSS_TEXT)
        feed.wait_for("left")
        assert [k for k, _ in feed.events() if k] == ["ready", "joined", "message", "left"]
        assert b"\ndata: forged" not in feed.body  # the line breaks stayed inside the JSON
