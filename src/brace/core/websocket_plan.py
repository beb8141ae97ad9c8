"""Compile a WebSocket route once: its dependencies and parameters are read from the handshake,
then the handler runs with the connection; whatever happens, the connection ends closed and
the dependencies cleaned up."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Sequence
from typing import Any

from .errors import HTTPError, problem
from .params.dependant import Dependant, compile_dependant
from .params.dependencies import Injector, Solver
from .params.model import HandlerError, qualname
from .routing import WebSocketRoute
from .scope import PATH_VALUES
from .types import Receive, Scope, Send
from .websockets import WebSocket, WebSocketClose, WebSocketDisconnect, WebSocketState

__all__ = ["compile_websocket", "deny"]

logger = logging.getLogger("brace")


def _check_no_body(dependant: Dependant, where: str) -> None:
    if dependant.body_reader is not None or dependant.form_reader is not None:
        raise HandlerError(
            f"{where}: a WebSocket handshake has no body; receive messages with "
            "ws.receive_json() or ws.messages() instead of body or form parameters"
        )
    for _, _, sub in dependant.subs:
        _check_no_body(sub, where)


def compile_websocket(route: WebSocketRoute, injector: Injector) -> Any:
    """The plan serving `route`: `async plan(scope, receive, send, path_values)`."""
    fn = route.endpoint
    where = f"websocket handler {qualname(fn)} for {route.path!r}"
    if not inspect.iscoroutinefunction(fn):
        raise HandlerError(f"{where}: WebSocket handlers must be `async def`")
    path_params = {p.name: p for p in route.params}
    dependant = compile_dependant(fn, path_params, route.path, route.dependencies, where=where)
    _check_no_body(dependant, where)
    param_names = route.param_names
    options = {
        "max_message_size": route.max_message_size,
        "receives": route.receives,
        "on_invalid": route.on_invalid,
    }

    async def plan(scope: Scope, receive: Receive, send: Send, values: Sequence[Any]) -> None:
        if param_names:
            scope[PATH_VALUES] = (param_names, values)
        ws = WebSocket(scope, receive, send, **options)  # type: ignore[arg-type]
        solver = Solver(ws, values, injector, path_params, route.path)
        failure: BaseException | None = None
        try:
            kwargs = await solver.arguments(dependant)
            solver.raise_for_errors()
            await fn(**kwargs)
        except WebSocketDisconnect:
            pass  # the client left: nothing to answer
        except WebSocketClose as close:
            await _close_quietly(ws, close.code, close.reason)
        except HTTPError as error:
            failure = error
            if ws.client_state is WebSocketState.CONNECTING:
                await deny(ws, error)
            else:
                await _close_quietly(ws, 1008, error.detail or error.title)
        except Exception as error:
            failure = error
            logger.error("Unhandled %s in %s", type(error).__name__, where, exc_info=error)
            code = 1011 if ws.client_state is WebSocketState.CONNECTED else 1000
            await _close_quietly(ws, code, "internal error")
        finally:
            await solver.close(failure)
        if ws.client_state is WebSocketState.CONNECTED:
            await _close_quietly(ws, 1000, "")  # the handler returned: the conversation ends

    plan.__qualname__ = f"websocket_plan[{qualname(fn)}]"
    return plan


async def refuse(send: Send, exc: BaseException) -> None:
    """Refuse a handshake before any handler ran (a post-routing check, a guarded mount):
    a policy close (1008) naming why; the server turns it into a 403."""
    reason = (exc.detail or exc.title) if isinstance(exc, HTTPError) else "refused"
    await send({"type": "websocket.close", "code": 1008, "reason": reason})


async def deny(ws: WebSocket, error: HTTPError) -> None:
    """Refuse the handshake: an HTTP answer where the server supports sending one (the ASGI
    `websocket.http.response` extension), else a close, which servers turn into 403."""
    extensions = ws.scope.get("extensions") or {}
    if "websocket.http.response" in extensions:
        response = problem(error)
        try:
            await ws._send(
                {
                    "type": "websocket.http.response.start",
                    "status": response.status_code,
                    "headers": response.raw_headers,
                }
            )
            await ws._send({"type": "websocket.http.response.body", "body": response.body})
            ws.client_state = WebSocketState.CLOSED
            return
        except OSError:
            return
    await _close_quietly(ws, 1008, error.detail or error.title)


async def _close_quietly(ws: WebSocket, code: int, reason: str) -> None:
    try:
        await ws.close(code, reason)
    except (OSError, RuntimeError):
        pass  # the connection is already gone
