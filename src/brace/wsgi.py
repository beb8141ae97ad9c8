"""Mount a WSGI app (Flask, Django, anything PEP 3333) inside a brace app, to move an old
project route by route:

    app.mount("/legacy", WSGIApp(flask_app))

The adapter is a2wsgi (the maintained WSGI-to-ASGI bridge): the WSGI app runs in a bounded pool
of worker threads (`workers`, 10 by default) so it never blocks the event loop, request and
response bodies stream in both directions, and `SCRIPT_NAME` is the mount path with
`PATH_INFO` the rest, so the old app's own `url_for` builds links under the mount. WebSocket
handshakes are refused (WSGI has none); lifespan events stay brace's.

Needs the `wsgi` extra (`pip install "brace[wsgi]"`: a2wsgi).
"""

from __future__ import annotations

from typing import Any

try:
    from a2wsgi import WSGIMiddleware
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError('brace.wsgi needs a2wsgi: pip install "brace[wsgi]"') from exc

from .core.types import Receive, Scope, Send

__all__ = ["WSGIApp"]


class WSGIApp:
    """An ASGI app serving a WSGI app, for `app.mount(path, WSGIApp(wsgi_app))`."""

    def __init__(self, wsgi_app: Any, *, workers: int = 10, send_queue_size: int = 10) -> None:
        """`workers`: threads the WSGI app may use at once (requests beyond wait);
        `send_queue_size`: response chunks buffered ahead of a slow client."""
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.wsgi_app = wsgi_app
        self._bridge = WSGIMiddleware(wsgi_app, workers=workers, send_queue_size=send_queue_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return  # the brace app owns start-up and shutdown
        await self._bridge(scope, receive, send)  # type: ignore[arg-type]
