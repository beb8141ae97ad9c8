"""AsyncAPI 3.0 for an app's WebSocket routes, served at `/asyncapi.json`.

OpenAPI cannot describe WebSockets; AsyncAPI can: each WebSocket route is a channel (its path,
path parameters and query parameters), with a `receive` operation for the messages clients send
(`receives=`) and a `send` operation for those the app sends (`sends=`), their payload schemas
derived from the same types that validate them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from .core.params.model import inspect_callable
from .core.responses import Response, json_encoder
from .core.routing import WebSocketRoute

if TYPE_CHECKING:
    from .core.app import App

__all__ = ["build_asyncapi", "install_asyncapi"]

REF = "#/components/schemas/{name}"
_PARAM = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)(?::[a-zA-Z_][a-zA-Z0-9_]*)?\}")


def _channel_id(route: WebSocketRoute) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", route.name)


def _message_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or re.sub(r"\W+", "_", repr(annotation))


def build_asyncapi(
    routes: Sequence[WebSocketRoute],
    *,
    title: str,
    version: str,
    description: str | None = None,
) -> dict[str, Any]:
    """The AsyncAPI 3.0 document for these WebSocket routes."""
    types = _message_types(routes)
    rendered: Sequence[Any] = ()
    components: dict[str, Any] = {}
    if types:
        rendered, components = msgspec.json.schema_components(types, ref_template=REF)
    payloads = dict(zip((id(t) for t in types), rendered, strict=True))
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for route in routes:
        if not route.include_in_schema:
            continue
        channel_id = _channel_id(route)
        channel = _channel(route)
        for action, annotation in (("receive", route.receives), ("send", route.sends)):
            if annotation is None:
                continue
            name = _message_name(annotation)
            messages[name] = {"name": name, "payload": payloads[id(annotation)]}
            channel["messages"][name] = {"$ref": f"#/components/messages/{name}"}
            operations[f"{channel_id}.{action}"] = {
                "action": action,
                "channel": {"$ref": f"#/channels/{channel_id}"},
                "messages": [{"$ref": f"#/channels/{channel_id}/messages/{name}"}],
            }
        channels[channel_id] = channel
    document: dict[str, Any] = {
        "asyncapi": "3.0.0",
        "info": {"title": title, "version": version},
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": components},
    }
    if description:
        document["info"]["description"] = description
    return document


def _message_types(routes: Sequence[WebSocketRoute]) -> list[Any]:
    """Every distinct message type, in order, so one msgspec call renders them all."""
    types: list[Any] = []
    for route in routes:
        for annotation in (route.receives, route.sends):
            if annotation is not None and annotation not in types:
                types.append(annotation)
    return types


def _channel(route: WebSocketRoute) -> dict[str, Any]:
    """A route's channel without its messages: address, description, parameters, query."""
    channel: dict[str, Any] = {"address": _PARAM.sub(r"{\1}", route.path), "messages": {}}
    if route.summary or route.description:
        channel["description"] = route.description or route.summary
    params = [p.name for p in route.params]
    if params:
        channel["parameters"] = {
            name: {"description": f"path segment {{{name}}}"} for name in params
        }
    query = _query_schema(route)
    if query is not None:
        channel["bindings"] = {"ws": {"query": query, "bindingVersion": "0.1.0"}}
    return channel


def _query_schema(route: WebSocketRoute) -> dict[str, Any] | None:
    """The handshake's query parameters, as one object schema (the ws binding's `query`)."""
    path_params = {p.name: p for p in route.params}
    try:
        specs = inspect_callable(route.endpoint, route.path, path_params, route.path)
    except TypeError:
        return None
    properties: dict[str, Any] = {}
    required: list[str] = []
    for spec in specs:
        if spec.source != "query":
            continue
        try:
            properties[spec.key] = msgspec.json.schema(spec.annotation)
        except (TypeError, ValueError):
            properties[spec.key] = {}
        if spec.required:
            required.append(spec.key)
    if not properties:
        return None
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def install_asyncapi(
    app: App,
    url: str = "/asyncapi.json",
    *,
    title: str = "brace API",
    version: str = "0.1.0",
    description: str | None = None,
) -> None:
    """Serve the document at `url` (built once, on first request)."""
    cached: list[bytes] = []

    async def asyncapi_document() -> Response:
        if not cached:
            routes = [r for r in app.all_routes if isinstance(r, WebSocketRoute)]
            document = build_asyncapi(routes, title=title, version=version, description=description)
            cached.append(json_encoder.encode(document))
        return Response(cached[0], media_type="application/json")

    app.add_route(url, asyncapi_document, name="brace.asyncapi", include_in_schema=False)
