"""Chat: rooms over WebSockets plus a server-sent activity feed, on one small page.

Run it (one process, rooms live in memory):

    .venv/bin/uvicorn --app-dir examples/chat app:app

Or with several workers (or hosts) sharing rooms through Redis pub/sub:

    CHAT_CHANNELS=redis://127.0.0.1:6379/0 .venv/bin/uvicorn --app-dir examples/chat app:app \
        --workers 2

Every member of a room holds a WebSocket to /ws/rooms/{room}?name=...; what one says is
published to the channels group "room:<room>" and relayed to every member, in this process
and (with Redis) in every other. Joins, departures and messages are also published to the
group "activity", which GET /activity streams as server-sent events to the home page.
See README.md next to this file.
"""

from __future__ import annotations

import os
import re
import time
from collections import deque
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

import msgspec

from brace import App, HTTPError, Query, RedirectResponse, Request, Response, ecma_pattern
from brace.channels import Channels
from brace.middleware.security_headers import SecurityHeadersMiddleware
from brace.sse import Event, EventStream
from brace.templating import Templates
from brace.websockets import WebSocket

HERE = Path(__file__).resolve().parent
MAX_ROOM = 40
MAX_NAME = 30
MAX_TEXT = 500
SUGGESTED_ROOMS = ("lobby", "python", "random")
ACTIVITY = "activity"
# Each member may send this many messages per window (seconds); more get an error frame.
RATE_LIMIT = (10, 5.0)
# Scripts, styles and connections (fetch, EventSource, WebSocket) to this site only: the
# pages carry no inline script or style. CSP Level 3 lets connect-src 'self' cover ws://
# and wss:// to the same host.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)

# The characters a slug keeps when a visitor types a room name on the home page.
_NOT_SLUG = re.compile(r"[^a-z0-9_-]+")


class ChatIn(msgspec.Struct):
    """What a member sends over the WebSocket: `{"text": "..."}`."""

    # `\S`: at least one character that is not a space (msgspec searches, unanchored).
    text: Annotated[
        str, msgspec.Meta(min_length=1, max_length=MAX_TEXT, pattern=ecma_pattern(r"\S"))
    ]


class RoomEvent(msgspec.Struct, omit_defaults=True, kw_only=True):
    """What the server sends to a room's members and to the activity feed."""

    type: Literal["joined", "left", "message"]
    room: str
    name: str
    at: datetime  # the server's clock, UTC (RFC 3339 in JSON)
    text: str | None = None


# The sender's name, from the handshake's query string: 1..30 characters, not only spaces.
UserName = Annotated[str, Query(min_length=1, max_length=MAX_NAME, pattern=r"\S")]


def valid_room(room: str) -> str:
    """`{room:slug}` already keeps to letters, digits, `-` and `_`; this adds the length."""
    if len(room) > MAX_ROOM:
        raise HTTPError(404, f"Room names have at most {MAX_ROOM} characters.")
    return room


def slugify(text: str) -> str:
    """A room name from what was typed: "Python Help!" -> "python-help"."""
    return _NOT_SLUG.sub("-", text.strip().lower()).strip("-")[:MAX_ROOM].strip("-")


def clean_name(name: str) -> str:
    """Spaces trimmed and runs of whitespace (line breaks included) made one space."""
    return " ".join(name.split())


class RateLimit:
    """At most `count` events in any `window` seconds (one member's messages)."""

    def __init__(self, count: int, window: float) -> None:
        self.count = count
        self.window = window
        self.times: deque[float] = deque()

    def allow(self) -> bool:
        now = time.monotonic()
        while self.times and now - self.times[0] >= self.window:
            self.times.popleft()
        if len(self.times) >= self.count:
            return False
        self.times.append(now)
        return True


def create_app(
    channels_url: str | None = None,
    *,
    heartbeat: float = 15.0,
    rate_limit: tuple[int, float] = RATE_LIMIT,
) -> App:
    """Build the chat. `channels_url`: "memory://" (one process) or "redis://..." (every
    process sharing that Redis); by default CHAT_CHANNELS from the environment, else memory.
    `heartbeat`: seconds of silence before the activity feed sends a keep-alive comment."""
    url = channels_url or os.environ.get("CHAT_CHANNELS") or "memory://"
    app = App(openapi_url=None)  # pages and sockets for people, not an API
    app.add_middleware(SecurityHeadersMiddleware, content_security_policy=CSP)
    app.static("/static", HERE / "static")
    templates = Templates(HERE / "templates")
    channels = Channels(url, app=app)
    app.state.channels = channels

    async def announce(event: RoomEvent) -> None:
        """To the room's members and to the activity feed."""
        await channels.publish(f"room:{event.room}", event)
        await channels.publish(ACTIVITY, event)

    @app.get("/")
    async def index(request: Request) -> Response:
        context = {"rooms": SUGGESTED_ROOMS, "max_room": MAX_ROOM, "error": None}
        return templates.render(request, "index.html", context)

    @app.get("/go")
    async def go(request: Request, room: Annotated[str, Query(max_length=200)] = "") -> Response:
        """The home page's "open a room" form: any typed name becomes a slug."""
        slug = slugify(room)
        if not slug:
            context = {
                "rooms": SUGGESTED_ROOMS,
                "max_room": MAX_ROOM,
                "error": "Type a room name with at least one letter or digit.",
                "typed": room,
            }
            return templates.render(request, "index.html", context, status=422)
        return RedirectResponse(request.url_for("room_page", room=slug), 303)

    @app.get("/rooms/{room:slug}")
    async def room_page(request: Request, room: str) -> Response:
        context = {"room": valid_room(room), "max_name": MAX_NAME, "max_text": MAX_TEXT}
        return templates.render(request, "room.html", context)

    @app.websocket("/ws/rooms/{room:slug}", receives=ChatIn, max_message_size=16 * 1024)
    async def room_socket(ws: WebSocket, room: str, name: UserName) -> None:
        room = valid_room(room)  # before accept(): an HTTPError refuses the handshake
        name = clean_name(name)
        group = f"room:{room}"
        limit = RateLimit(*rate_limit)
        await ws.accept()
        async with channels.subscribe(group) as members, ws.relaying(members):
            # Subscribed first, so the member sees its own "joined" and knows it is in.
            await announce(RoomEvent(type="joined", room=room, name=name, at=now()))
            try:
                # Until the client leaves: the room goes to the member (relayed from each
                # publish), and what the member says goes to the room.
                async for message in ws.messages():  # validated ChatIn objects
                    if not limit.allow():
                        await ws.send_json(slow_down())
                        continue
                    event = RoomEvent(
                        type="message", room=room, name=name, at=now(), text=message.text
                    )
                    await announce(event)
            finally:
                await announce(RoomEvent(type="left", room=room, name=name, at=now()))

    @app.get("/activity")
    async def activity() -> EventStream:
        """Joins, departures and messages in every room, as server-sent events."""

        async def events() -> AsyncIterator[Event]:
            async with channels.subscribe(ACTIVITY) as feed:
                # Once subscribed: nothing published from now on is missed.
                yield Event({"listening": True}, event="ready")
                async for item in feed:
                    kind = item.get("type") if isinstance(item, dict) else None
                    if kind in ("joined", "left", "message"):
                        yield Event(item, event=kind)

        # `retry` is sent at once, so the browser sees the stream open before any event.
        return EventStream(events(), heartbeat=heartbeat, retry=3000)

    return app


def now() -> datetime:
    return datetime.now(UTC)


def slow_down() -> dict[str, object]:
    """An error frame like brace's own for invalid messages."""
    return {
        "type": "error",
        "errors": [{"loc": "message", "msg": "Too many messages: wait a moment."}],
    }


app = create_app()
