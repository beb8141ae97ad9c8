"""Logging for brace apps: text or JSON lines, the request id on every record, an access log.

    import brace.logging
    brace.logging.configure(format="json", level="INFO")   # access log: on when BRACE_ENV=dev

The access log is one ASGI layer added when the app compiles, and only when it is wanted
(or when a RequestIdFilter asks for request ids): an app that logs nothing pays nothing.
`brace run` sets all of this up in every worker (`--log-format`, `--access-log`).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any, Literal

import msgspec

from .core.error_handling import printable
from .core.plugins import Plugin
from .core.scope import ACCESS_LOGGED, request_id_of
from .core.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "ACCESS_LOGGER",
    "AccessLog",
    "AccessLogMiddleware",
    "JSONFormatter",
    "RequestIdFilter",
    "TextFormatter",
    "access_log_enabled",
    "configure",
    "dict_config",
    "reset",
    "with_access_log",
]

ACCESS_LOGGER = "brace.access"
"""The logger access lines go to: raise its level to WARNING to silence them."""
ACCESS_LOG_ENV = "BRACE_ACCESS_LOG"
"""1/0: whether apps started in this process log each request (set by `brace run`)."""

LogFormat = Literal["text", "json"]
_FORMATS = ("text", "json")
_TRUE = frozenset({"1", "true", "yes", "on"})
# The request being served, read lazily by RequestIdFilter: the RequestID middleware may set
# the id after this layer has run, and the record should carry the id the response carries.
_current_scope: ContextVar[Scope | None] = ContextVar("brace.logging.scope", default=None)
# Attributes every LogRecord has; anything else was passed with `extra=` and is data to keep.
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "request_id", "taskName", "color_message"}
)
_access = logging.getLogger(ACCESS_LOGGER)


class _State:
    """What configure() set up, process-wide like the logging module itself."""

    access_log: bool | None = None
    request_ids = False
    handler: logging.Handler | None = None
    root_level: int | None = None


_state = _State()


# -- records ----------------------------------------------------------------------------------


class RequestIdFilter(logging.Filter):
    """Gives every record a `request_id` ("-" outside a request); put it on your handlers.

    Creating one also asks apps compiled afterwards to track the current request."""

    def __init__(self, name: str = "") -> None:
        super().__init__(name)
        _state.request_ids = True

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            scope = _current_scope.get()
            record.request_id = request_id_of(scope) if scope is not None else "-"
        return True


class TextFormatter(logging.Formatter):
    """`2024-05-01 12:00:00,123 INFO    brace.access [3f2a...] GET / 200 1.2ms`."""

    def __init__(self, fmt: str | None = None, datefmt: str | None = None) -> None:
        super().__init__(
            fmt or "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s", datefmt
        )

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = "-"
        return super().format(record)


class JSONFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id and any `extra=`."""

    def __init__(self) -> None:
        super().__init__()
        # Values passed with extra= may be anything: what JSON cannot hold is sent as str().
        self._encoder = msgspec.json.Encoder(enc_hook=str)

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id and request_id != "-":
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        try:
            return self._encoder.encode(entry).decode()
        except (TypeError, ValueError):
            # Lone surrogates (from undecodable bytes) cannot be UTF-8: escape them, and
            # anything else odd, rather than lose the record.
            safe = {k: _safe_text(v) for k, v in entry.items()}
            return self._encoder.encode(safe).decode()


def _safe_text(value: object) -> str | int | float | bool | None:
    if value is None or isinstance(value, int | float | bool):
        return value
    text = value if isinstance(value, str) else str(value)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


# -- set-up --------------------------------------------------------------------------------


def _level(level: int | str) -> int:
    if isinstance(level, int):
        return level
    levels = logging.getLevelNamesMapping()
    if level.upper() not in levels:
        known = ", ".join(
            name.lower() for name in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
        )
        raise ValueError(f"unknown log level {level!r}: use one of {known}")
    return levels[level.upper()]


def _formatter(format: str) -> logging.Formatter:
    if format not in _FORMATS:
        raise ValueError(f"unknown log format {format!r}: use 'text' or 'json'")
    return JSONFormatter() if format == "json" else TextFormatter()


def configure(
    format: LogFormat = "text",
    level: int | str = "INFO",
    *,
    access_log: bool | None = None,
    stream: IO[str] | None = None,
) -> logging.Handler:
    """Send log records to stderr (or `stream`) as text or JSON lines, with request ids.

    `access_log=None` turns the access log on when BRACE_ENV is dev and off otherwise.
    Calling it again replaces the previous set-up; call it before the app starts."""
    formatter = _formatter(format)
    numeric = _level(level)
    if access_log is None:
        from .config import current_env

        access_log = current_env() == "dev"
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(formatter)
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    if _state.handler is not None:
        root.removeHandler(_state.handler)
    else:
        _state.root_level = root.level
    root.addHandler(handler)
    root.setLevel(numeric)
    _state.handler = handler
    _state.access_log = access_log
    return handler


def reset() -> None:
    """Undo configure(): remove its handler and restore the root level (for tests)."""
    root = logging.getLogger()
    if _state.handler is not None:
        root.removeHandler(_state.handler)
        if _state.root_level is not None:
            root.setLevel(_state.root_level)
    _state.handler = None
    _state.root_level = None
    _state.access_log = None
    _state.request_ids = False


def dict_config(format: LogFormat = "text", level: int | str = "INFO") -> dict[str, Any]:
    """A `logging.config.dictConfig` dict doing what configure() does, for servers that
    set up logging in each worker process (uvicorn's `log_config`)."""
    _formatter(format)
    name = logging.getLevelName(_level(level))
    formatter = "JSONFormatter" if format == "json" else "TextFormatter"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "brace.logging.RequestIdFilter"}},
        "formatters": {"brace": {"()": f"brace.logging.{formatter}"}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "brace",
                "filters": ["request_id"],
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            # uvicorn's own handlers are replaced by the root one, so its lines look the same.
            "uvicorn": {"handlers": [], "propagate": True, "level": name},
            "uvicorn.error": {"handlers": [], "propagate": True, "level": name},
            "uvicorn.access": {"handlers": [], "propagate": False},
        },
        "root": {"handlers": ["default"], "level": name},
    }


def access_log_enabled() -> bool:
    """Whether apps compiled now get an access log: configure()'s choice, else
    BRACE_ACCESS_LOG, else off."""
    if _state.access_log is not None:
        return _state.access_log
    return os.environ.get(ACCESS_LOG_ENV, "").strip().lower() in _TRUE


# -- the layer ------------------------------------------------------------------------------


def with_access_log(app: ASGIApp) -> ASGIApp:
    """`app` wrapped in the access log layer when logging asks for it, else `app` itself."""
    enabled = access_log_enabled()
    if not enabled and not _state.request_ids:
        return app
    return AccessLogMiddleware(app, access_log=enabled)


class AccessLog(Plugin):
    """The plugin that adds the access log layer outermost when the app's middleware stack is
    built (`brace.App` installs it): a request id on every record and, when logging asks for
    it, one line per request."""

    def wrap_asgi(self, app: ASGIApp) -> ASGIApp:
        return with_access_log(app)


class AccessLogMiddleware:
    """Logs `METHOD path status duration` per HTTP request, and tracks the current request
    so that records logged while serving it carry its id."""

    def __init__(self, app: ASGIApp, *, access_log: bool = True) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or ACCESS_LOGGED in scope:
            # Not a request, or a brace app mounted in another that already logs it.
            await self.app(scope, receive, send)
            return
        scope[ACCESS_LOGGED] = True
        token = _current_scope.set(scope)
        if not self.access_log:
            try:
                await self.app(scope, receive, send)
            finally:
                _current_scope.reset(token)
            return
        start = time.perf_counter()
        status = 0

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        except BaseException:
            status = status or 500
            raise
        finally:
            _current_scope.reset(token)
            if _access.isEnabledFor(logging.INFO):
                duration = (time.perf_counter() - start) * 1000
                method = scope["method"]
                path = printable(scope["path"])
                request_id = request_id_of(scope)
                _access.info(
                    "%s %s %s %.1fms",
                    method,
                    path,
                    status or "-",
                    duration,
                    extra={
                        "method": method,
                        "path": path,
                        "status": status or None,
                        "duration_ms": round(duration, 3),
                        "request_id": request_id,
                    },
                )
