"""`brace.App`: the core App with the batteries every app gets unless it opts out.

`brace.core.App` knows nothing of OpenAPI or logging. This subclass installs the plugins a
user of `from brace import App` expects: the OpenAPI document and docs pages (configured by
the same keyword arguments as before), the AsyncAPI document, and the access log; and it
adds `app.health(...)`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Unpack

from .config import current_env
from .core.app import App as CoreApp
from .core.app import AppOptions
from .health import Check, install_health
from .logging import AccessLog
from .openapi import OpenAPI

__all__ = ["App"]


class _OpenAPISetting:
    """An app attribute that reads and writes the same field of the app's OpenAPI plugin."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, app: App | None, owner: type | None = None) -> Any:
        return self if app is None else getattr(app.openapi, self.name)

    def __set__(self, app: App, value: Any) -> None:
        setattr(app.openapi, self.name, value)


class App(CoreApp):
    """A brace application: declare routes on it and serve it with any ASGI server."""

    def __init__(
        self,
        *,
        title: str = "brace API",
        version: str = "0.1.0",
        description: str | None = None,
        servers: Sequence[dict[str, Any]] | None = None,
        openapi_url: str | None = "/openapi.json",
        docs_url: str | None = "/docs",
        redoc_url: str | None = "/redoc",
        asyncapi_url: str | None = "/asyncapi.json",
        **options: Unpack[AppOptions],
    ) -> None:
        # Set openapi_url=None to publish no document (and no docs UI).
        self.openapi = OpenAPI(
            title=title,
            version=version,
            description=description,
            servers=list(servers) if servers else None,
            openapi_url=openapi_url,
            docs_url=docs_url if openapi_url else None,
            redoc_url=redoc_url if openapi_url else None,
            asyncapi_url=asyncapi_url if openapi_url else None,
        )
        """The OpenAPI plugin: its fields (`title`, `docs_url`...) can change until start-up."""
        options["plugins"] = [self.openapi, AccessLog(), *options.get("plugins", ())]
        super().__init__(**options)
        self.on_startup(self._refuse_debug_in_production)

    def _refuse_debug_in_production(self) -> None:
        """A start-up hook: production refuses debug mode (`brace check` still loads such
        an app, to report it)."""
        if self.debug and current_env() == "prod":
            raise RuntimeError(
                "App(debug=True) is refused when BRACE_ENV=prod: debug pages show source code "
                "and tracebacks to anyone"
            )

    def health(
        self,
        checks: Mapping[str, Check] | None = None,
        *,
        liveness: str | None = "/healthz",
        readiness: str | None = "/readyz",
        timeout: float = 5.0,
    ) -> None:
        """Serve liveness and readiness probes for load balancers (see brace.health)."""
        install_health(self, checks, liveness=liveness, readiness=readiness, timeout=timeout)

    # The OpenAPI settings, readable and settable on the app as they always were.
    title = _OpenAPISetting()
    version = _OpenAPISetting()
    description = _OpenAPISetting()
    openapi_url = _OpenAPISetting()
    docs_url = _OpenAPISetting()
    redoc_url = _OpenAPISetting()
    asyncapi_url = _OpenAPISetting()
