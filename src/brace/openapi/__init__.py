"""OpenAPI 3.1 for brace apps: the document, and Swagger UI and ReDoc served offline.

The document is built from the compiled routes the first time it is asked for; the UI files
ship inside the package (see `static/VERSIONS`), so `/docs` works without internet access.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..asyncapi import install_asyncapi
from ..core.errors import HTTPError
from ..core.file_response import FileResponse
from ..core.requests import Request
from ..core.responses import HTMLResponse, Response, json_encoder
from ..core.routing import WebSocketRoute
from ._schema import build_document

if TYPE_CHECKING:
    from ..core.app import App

__all__ = ["build_document", "install"]

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


def install(app: App) -> None:
    """Add the OpenAPI document and docs UI routes to `app` (called as the app compiles)."""
    openapi_url = app.openapi_url
    if openapi_url is None:
        return
    cached: list[bytes] = []

    def document_bytes() -> bytes:
        if not cached:
            document = build_document(
                app.operations,
                title=app.title,
                version=app.version,
                description=app.description,
                servers=app.servers,
                security_schemes=app.security_schemes,
            )
            cached.append(json_encoder.encode(document))
        return cached[0]

    async def openapi_document() -> Response:
        return Response(document_bytes(), media_type="application/json")

    app.add_route(openapi_url, openapi_document, name="brace.openapi", include_in_schema=False)
    asyncapi_url = app.asyncapi_url
    routes, _, _ = app.flatten(freeze=False)
    if asyncapi_url and any(isinstance(route, WebSocketRoute) for route in routes):
        install_asyncapi(app, asyncapi_url)  # WebSockets are documented in AsyncAPI 3.0
    ui_urls = [url for url in (app.docs_url, app.redoc_url) if url]
    if not ui_urls:
        return
    assets_url = f"{ui_urls[0].rstrip('/')}/assets"

    def page(template: str) -> Any:
        async def show(request: Request) -> HTMLResponse:
            root = request.scope.get("root_path", "")
            return HTMLResponse(
                template.format(
                    title=html.escape(app.title),
                    assets=html.escape(root + assets_url, quote=True),
                    openapi_url=html.escape(root + openapi_url, quote=True),
                )
            )

        return show

    if app.docs_url:
        app.add_route(app.docs_url, page(_SWAGGER_PAGE), name="brace.docs", include_in_schema=False)
    if app.redoc_url:
        app.add_route(app.redoc_url, page(_REDOC_PAGE), name="brace.redoc", include_in_schema=False)

    async def asset(name: str) -> Response:
        path = _ASSETS.get(name)
        if path is None:
            raise HTTPError(404)
        response = FileResponse(path)
        response.headers["cache-control"] = "public, max-age=86400"
        return response

    app.add_route(assets_url + "/{name}", asset, name="brace.docs_assets", include_in_schema=False)
