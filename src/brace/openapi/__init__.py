"""OpenAPI 3.1 for brace apps: the document, and Swagger UI and ReDoc served offline.

The document is built from the compiled routes the first time it is asked for; the UI files
ship inside the package (see `static/VERSIONS`), so `/docs` works without internet access.
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import HTTPError
from ..core.file_response import FileResponse
from ..core.handlers import Operation
from ..core.plugins import Plugin
from ..core.requests import Request
from ..core.responses import HTMLResponse, Response, json_encoder
from ..core.routing import WebSocketRoute

if TYPE_CHECKING:
    from ..core.app import App

__all__ = [
    "OpenAPI",
    "add_security_scheme",
    "declare_security",
    "security_of",
]

STATIC = Path(__file__).resolve().parent / "static"
_ASSETS = {
    "swagger-ui-bundle.js": STATIC / "swagger-ui" / "swagger-ui-bundle.js",
    "swagger-ui.css": STATIC / "swagger-ui" / "swagger-ui.css",
    "swagger-init.js": STATIC / "swagger-init.js",
    "redoc.standalone.js": STATIC / "redoc" / "redoc.standalone.js",
}

_SWAGGER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - API docs</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
</head><body>
<div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/swagger-init.js"></script>
</body></html>
"""

_REDOC_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - API reference</title>
<style>body{{margin:0;padding:0}}</style>
</head><body>
<redoc spec-url="{openapi_url}"></redoc>
<script src="{assets}/redoc.standalone.js"></script>
</body></html>
"""


_SECURITY_SCHEMES = "brace.openapi.security_schemes"
_LEVELS = ("permission", "required", "optional")
_security_levels: dict[Callable[..., Any], str] = {}


def declare_security(dependency: Callable[..., Any], level: str) -> None:
    """Say how a dependency authenticates, for the operations that use it: "optional" (reads
    credentials), "required" (401 without them) or "permission" (401 or 403)."""
    if level not in _LEVELS:
        raise ValueError(f"security level must be one of {_LEVELS}, not {level!r}")
    _security_levels[dependency] = level


def add_security_scheme(app: App, name: str, scheme: dict[str, Any]) -> None:
    """Publish a security scheme (components.securitySchemes) in `app`'s document."""
    app.extensions.setdefault(_SECURITY_SCHEMES, {})[name] = scheme


def security_of(operation: Operation) -> str | None:
    """The strongest security level among the operation's dependencies, if any."""
    found = {_security_levels.get(fn) for fn in operation.dependencies}
    for level in _LEVELS:
        if level in found:
            return level
    return None


@dataclasses.dataclass
class OpenAPI(Plugin):
    """Publish the OpenAPI 3.1 document of an app's HTTP routes, Swagger UI and ReDoc pages,
    and (when the app has WebSocket routes) the AsyncAPI document. `brace.App` installs it
    from its `title=`, `openapi_url=`... options; install it yourself on a `brace.core.App`."""

    title: str = "brace API"
    version: str = "0.1.0"
    description: str | None = None
    servers: list[dict[str, Any]] | None = None
    openapi_url: str | None = "/openapi.json"
    docs_url: str | None = "/docs"
    redoc_url: str | None = "/redoc"
    asyncapi_url: str | None = "/asyncapi.json"

    def on_app_init(self, app: App) -> None:
        install(app, self)


def install(app: App, settings: OpenAPI) -> None:
    """Add the OpenAPI document and docs UI routes to `app` (called as the app is built)."""
    openapi_url = settings.openapi_url
    if openapi_url is None:
        return
    cached: list[bytes] = []

    def document_bytes() -> bytes:
        if not cached:
            from ._schema import build_document  # loaded when the document is first asked for

            document = build_document(
                app.operations,
                title=settings.title,
                version=settings.version,
                description=settings.description,
                servers=settings.servers,
                security_schemes=app.extensions.get(_SECURITY_SCHEMES),
                security_of=security_of,
            )
            cached.append(json_encoder.encode(document))
        return cached[0]

    async def openapi_document() -> Response:
        return Response(document_bytes(), media_type="application/json")

    app.add_route(openapi_url, openapi_document, name="brace.openapi", include_in_schema=False)
    asyncapi_url = settings.asyncapi_url
    routes, _, _ = app.flatten(freeze=False)
    if asyncapi_url and any(isinstance(route, WebSocketRoute) for route in routes):
        from ..asyncapi import install_asyncapi  # WebSockets are documented in AsyncAPI 3.0

        install_asyncapi(
            app,
            asyncapi_url,
            title=settings.title,
            version=settings.version,
            description=settings.description,
        )
    _install_ui(app, settings, openapi_url)


def _install_ui(app: App, settings: OpenAPI, openapi_url: str) -> None:
    ui_urls = [url for url in (settings.docs_url, settings.redoc_url) if url]
    if not ui_urls:
        return
    assets_url = f"{ui_urls[0].rstrip('/')}/assets"

    def page(template: str) -> Any:
        async def show(request: Request) -> HTMLResponse:
            root = request.scope.get("root_path", "")
            return HTMLResponse(
                template.format(
                    title=html.escape(settings.title),
                    assets=html.escape(root + assets_url, quote=True),
                    openapi_url=html.escape(root + openapi_url, quote=True),
                )
            )

        return show

    if settings.docs_url:
        app.add_route(
            settings.docs_url, page(_SWAGGER_PAGE), name="brace.docs", include_in_schema=False
        )
    if settings.redoc_url:
        app.add_route(
            settings.redoc_url, page(_REDOC_PAGE), name="brace.redoc", include_in_schema=False
        )

    async def asset(name: str) -> Response:
        path = _ASSETS.get(name)
        if path is None:
            raise HTTPError(404)
        response = FileResponse(path)
        response.headers["cache-control"] = "public, max-age=86400"
        return response

    app.add_route(assets_url + "/{name}", asset, name="brace.docs_assets", include_in_schema=False)
