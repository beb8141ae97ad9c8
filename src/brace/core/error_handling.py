"""The app's error policy: every exception from a handler, a plugin or a middleware becomes
one response, chosen by the app's exception handlers or else by the client (HTML page or
problem+json); unexpected errors are logged with the request id and leak nothing."""

from __future__ import annotations

import inspect
import logging
import traceback
from collections.abc import Callable, Collection
from typing import Any

from .connection import raw_header
from .errors import ClientDisconnect, HTTPError, debug_page, error_page, problem, wants_html
from .requests import Request
from .responses import Response
from .scope import REQUEST_ID, RESPONSE_STARTED, request_id_of
from .sending import render, send_problem
from .types import Receive, Scope, Send

__all__ = ["ErrorHandling", "ExceptionHandler", "printable"]

logger = logging.getLogger("brace")

ExceptionHandler = Callable[[Request, Any], Any]


def printable(path: str) -> str:
    # A decoded path can hold CR/LF and other controls: escaped, they cannot forge log lines.
    return path if path.isprintable() else path.encode("unicode_escape").decode("ascii")


class ErrorHandling:
    """Turns exceptions into responses for one app."""

    def __init__(
        self, handlers: dict[type[BaseException] | int, ExceptionHandler], debug: bool
    ) -> None:
        self.handlers = handlers
        self.debug = debug

    def find_handler(
        self, exc: BaseException, tried: Collection[ExceptionHandler] = ()
    ) -> ExceptionHandler | None:
        """The handler for `exc`: its status's, else its class's nearest in the MRO, else
        the 500 handler for non-HTTP errors; handlers in `tried` are passed over."""
        handlers = self.handlers
        if not handlers:
            return None
        candidates: list[ExceptionHandler | None] = []
        if isinstance(exc, HTTPError):
            candidates.append(handlers.get(exc.status_code))
        candidates.extend(handlers.get(cls) for cls in type(exc).__mro__)
        if not isinstance(exc, HTTPError):
            candidates.append(handlers.get(500))
        for handler in candidates:
            if handler is not None and handler not in tried:
                return handler
        return None

    async def handle(self, exc: Exception, scope: Scope, receive: Receive, send: Send) -> None:
        """Turn any exception from a handler or middleware into the right response."""
        if isinstance(exc, ClientDisconnect):
            return  # nobody is listening; nothing to send, nothing went wrong on our side
        if scope.get(RESPONSE_STARTED):
            self.log_unhandled(exc, scope)
            return
        tried: list[ExceptionHandler] = []
        while (handler := self.find_handler(exc, tried)) is not None:
            tried.append(handler)
            try:
                result = handler(Request(scope, receive), exc)
                if inspect.isawaitable(result):
                    result = await result
            except Exception as raised:
                declined = raised is exc
                exc = raised
                if declined or isinstance(raised, HTTPError):
                    # Declined (re-raised) or translated into an HTTP error (a database
                    # conflict into a 409): the next handler, up to `HTTPError`'s, sees it.
                    continue
                break
            status = exc.status_code if isinstance(exc, HTTPError) else 500
            await render(result, status, scope, receive, send, self.fallback)
            return
        await self.fallback(exc, scope, receive, send)

    async def fallback(self, exc: Exception, scope: Scope, receive: Receive, send: Send) -> None:
        """The default answer, when no exception handler took the error (or one failed)."""
        try:
            if isinstance(exc, HTTPError) and not self.wants_html(scope):
                # The usual API error (invalid input): sent without building a Response.
                await send_problem(send, exc)
                return
            await self.response_for(exc, scope)(scope, receive, send)
        except Exception:  # pragma: no cover - the client or a middleware broke the channel
            logger.debug("could not send the error response", exc_info=True)

    def response_for(self, exc: Exception, scope: Scope) -> Response:
        """The default answer for an exception, chosen for the client (HTML or problem+json)."""
        html = self.wants_html(scope)
        if isinstance(exc, HTTPError):
            if html:
                return error_page(exc, scope.get(REQUEST_ID))
            return problem(exc, instance=None)
        rid = self.log_unhandled(exc, scope)
        if self.debug and html:
            return debug_page(exc, scope.get("method", ""), scope.get("path", ""), rid)
        error = HTTPError(500, extra={"request_id": rid})
        if self.debug:
            error.detail = f"{type(exc).__name__}: {exc}"
            error.extra["traceback"] = traceback.format_exception(exc)
        if html:
            return error_page(error, rid)
        return problem(error)

    @staticmethod
    def wants_html(scope: Scope) -> bool:
        accept = raw_header(scope, b"accept")
        if accept is None or b"html" not in accept.lower():
            return False  # API clients and curl (*/*): no parsing needed
        return wants_html(accept.decode("latin-1"))

    @staticmethod
    def log_unhandled(exc: BaseException, scope: Scope) -> str:
        rid = request_id_of(scope)
        logger.error(
            "Unhandled %s in %s %s (request id %s)",
            type(exc).__name__,
            scope.get("method", "?"),
            printable(str(scope.get("path", "?"))),
            rid,
            exc_info=exc,
        )
        return rid
