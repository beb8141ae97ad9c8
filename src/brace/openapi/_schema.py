"""Build the OpenAPI 3.1 document from compiled operations, once."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Sequence
from http import HTTPStatus
from typing import Any

import msgspec

from ..core.datastructures import UploadFile
from ..core.ecma_pattern import PATTERN_AS_WRITTEN
from ..core.forms import URLENCODED
from ..core.handlers import Operation
from ..core.markers import Body
from ..core.params.model import (
    ParamSpec,
    is_form_model,
    is_pydantic_model,
    is_upload,
    object_fields,
    unwrap_optional,
)
from ..core.responses import Response
from ..core.routing import OPENAPI_EXTRA
from ..core.schema_types import wire_type

__all__ = ["build_document"]

REF = "#/components/schemas/{name}"
_PARAM_IN_PATH = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)(?::[a-zA-Z_][a-zA-Z0-9_]*)?\}")

_PROBLEM = {
    "type": "object",
    "description": "An RFC 9457 problem document.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
    },
    "required": ["type", "title", "status"],
}
_VALIDATION_PROBLEM = {
    "allOf": [
        {"$ref": "#/components/schemas/Problem"},
        {
            "type": "object",
            "properties": {
                "errors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "loc": {"type": "string"},
                            "msg": {"type": "string"},
                            "input": {"type": "string"},
                        },
                        "required": ["loc", "msg"],
                    },
                }
            },
        },
    ]
}


def _schema_hook(annotation: Any) -> dict[str, Any]:
    if annotation is UploadFile:
        return {
            "type": "string",
            "format": "binary",
            "contentMediaType": "application/octet-stream",
        }
    raise NotImplementedError


class _Schemas:
    """Collects every type first, then renders them in one msgspec call so shared models
    become one component, referenced by `$ref`, with a stable name."""

    def __init__(self) -> None:
        self._types: list[Any] = []
        self.components: dict[str, Any] = {
            "Problem": _PROBLEM,
            "ValidationProblem": _VALIDATION_PROBLEM,
        }
        self._rendered: dict[int, Any] = {}

    def add(self, annotation: Any) -> int:
        self._types.append(wire_type(annotation))
        return len(self._types) - 1

    def render(self) -> None:
        plain: list[Any] = []
        positions: list[int] = []
        for index, annotation in enumerate(self._types):
            inner, optional = unwrap_optional(annotation)
            if is_pydantic_model(inner):
                schema = inner.model_json_schema(ref_template="#/components/schemas/{model}")
                for name, definition in schema.pop("$defs", {}).items():
                    self.components.setdefault(name, definition)
                self.components.setdefault(inner.__name__, schema)
                ref: Any = {"$ref": REF.format(name=inner.__name__)}
                self._rendered[index] = {"anyOf": [ref, {"type": "null"}]} if optional else ref
            else:
                try:
                    msgspec.json.schema(annotation, schema_hook=_schema_hook)
                except (TypeError, ValueError):
                    # A type msgspec cannot describe (a custom class) is documented as "any".
                    self._rendered[index] = {}
                    continue
                plain.append(annotation)
                positions.append(index)
        if plain:
            schemas, components = msgspec.json.schema_components(
                plain, ref_template=REF, schema_hook=_schema_hook
            )
            self.components.update(_published_patterns(components))
            for index, schema in zip(positions, schemas, strict=True):
                self._rendered[index] = _published_patterns(schema)

    def get(self, index: int) -> Any:
        return self._rendered[index]


def _published_patterns(schema: Any) -> Any:
    """A marker's `pattern=` as the user wrote it (ECMA-262), not the spelling brace
    validates with (see brace.core.ecma_pattern)."""
    if isinstance(schema, dict):
        written = schema.pop(PATTERN_AS_WRITTEN, None)
        if written is not None:
            schema["pattern"] = written
        for value in schema.values():
            _published_patterns(value)
    elif isinstance(schema, list):
        for item in schema:
            _published_patterns(item)
    return schema


def _doc_parts(fn: Any) -> tuple[str | None, str | None]:
    doc = inspect.getdoc(fn)
    if not doc:
        return None, None
    first, _, rest = doc.partition("\n")
    return first.strip() or None, rest.strip() or None


def _is_plain(annotation: Any, kinds: tuple[type, ...]) -> bool:
    inner, _ = unwrap_optional(annotation)
    return inner in kinds


def build_document(
    operations: Sequence[Operation],
    *,
    title: str,
    version: str,
    description: str | None = None,
    servers: Sequence[dict[str, Any]] | None = None,
    security_schemes: dict[str, dict[str, Any]] | None = None,
    security_of: Callable[[Operation], str | None] = lambda op: None,
) -> dict[str, Any]:
    """An OpenAPI 3.1 document for every route that is included in the schema;
    `security_of(op)` says how an operation authenticates ("optional", "required",
    "permission" or None)."""
    schemas = _Schemas()
    pending: list[tuple[dict[str, Any], str, int]] = []  # (object, key, schema index)
    paths: dict[str, dict[str, Any]] = {}
    operation_ids: set[str] = set()
    tags: list[str] = []

    for op in operations:
        route = op.route
        if not route.include_in_schema:
            continue
        template = _PARAM_IN_PATH.sub(r"{\1}", route.path)
        methods = sorted(route.methods)
        doc = _doc_parts(route.endpoint)
        for method in methods:
            name = route.name if len(methods) == 1 else f"{route.name}_{method.lower()}"
            operation_id = _unique_operation_id(name, operation_ids)
            entry = _operation_entry(op, operation_id, doc, schemas, pending, tags)
            _add_security(entry, security_of(op), security_schemes)
            paths.setdefault(template, {})[method.lower()] = entry

    schemas.render()
    for container, key, index in pending:
        container[key] = schemas.get(index)

    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {"schemas": dict(sorted(schemas.components.items()))},
    }
    if description:
        document["info"]["description"] = description
    if servers:
        document["servers"] = list(servers)
    if tags:
        document["tags"] = [{"name": t} for t in tags]
    if security_schemes:
        document["components"]["securitySchemes"] = dict(security_schemes)
    return document


def _unique_operation_id(name: str, taken: set[str]) -> str:
    """`name`, numbered (`name_2`, `name_3`, ...) when taken already; marks it taken."""
    operation_id, n = name, 2
    while operation_id in taken:
        operation_id, n = f"{name}_{n}", n + 1
    taken.add(operation_id)
    return operation_id


def _operation_entry(
    op: Operation,
    operation_id: str,
    doc: tuple[str | None, str | None],
    schemas: _Schemas,
    pending: list[tuple[dict[str, Any], str, int]],
    tags: list[str],
) -> dict[str, Any]:
    """One method of a route: its id, docs and tags (added to `tags`), parameters, body and
    responses, with schemas left in `pending` until every type is known."""
    route = op.route
    summary, long_description = doc
    entry: dict[str, Any] = {"operationId": operation_id}
    entry["summary"] = route.summary or summary or route.name.replace("_", " ").capitalize()
    if route.description or long_description:
        entry["description"] = route.description or long_description
    if route.deprecated:
        entry["deprecated"] = True
    if route.tags:
        entry["tags"] = list(route.tags)
        tags.extend(t for t in route.tags if t not in tags)
    parameters = _parameters(op, schemas, pending)
    if parameters:
        entry["parameters"] = parameters
    body = [s for s in op.params if s.source == "body"]
    if body:
        entry["requestBody"] = _request_body(body, schemas, pending)
    form = [s for s in op.params if s.source == "form"]
    if form:
        entry["requestBody"] = _form_body(form, schemas, pending)
    entry["responses"] = _responses(op, schemas, pending, bool(op.params))
    # Extension fields a route or a plugin adds (`opts={"openapi_extra": {"x-...": ...}}`).
    entry.update({k: v for k, v in route.opts.get(OPENAPI_EXTRA, {}).items() if k.startswith("x-")})
    return entry


def _add_security(
    entry: dict[str, Any],
    security: str | None,
    security_schemes: dict[str, dict[str, Any]] | None,
) -> None:
    """The operation's `security`, and the 401/403 answers when logging in is required."""
    if not (security and security_schemes):
        return
    requirement: list[dict[str, list[str]]] = [{name: []} for name in security_schemes]
    if security == "optional":
        requirement.append({})  # anonymous requests are served too
    else:
        entry["responses"].setdefault("401", _problem("Not authenticated"))
        if security == "permission":  # logged in is not enough here
            entry["responses"].setdefault("403", _problem("Not permitted"))
    entry["security"] = requirement


def _parameters(
    op: Operation, schemas: _Schemas, pending: list[tuple[dict[str, Any], str, int]]
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    documented: set[str] = set()
    for spec in op.params:
        if spec.source in ("body", "form"):
            continue
        marker = spec.marker
        if marker is not None and not marker.include_in_schema:
            continue
        parameter: dict[str, Any] = {
            "name": spec.key if spec.source != "header" else _header_name(spec),
            "in": spec.source,
            "required": spec.source == "path" or spec.required,
        }
        if marker is not None:
            if marker.description:
                parameter["description"] = marker.description
            if marker.deprecated:
                parameter["deprecated"] = True
            if marker.examples:
                parameter["examples"] = {
                    f"example{i + 1}": {"value": v} for i, v in enumerate(marker.examples)
                }
        pending.append((parameter, "schema", schemas.add(spec.annotation)))
        if spec.many:
            parameter["style"] = "form" if spec.source == "query" else "simple"
            parameter["explode"] = spec.source == "query"
        if spec.source == "path":
            documented.add(spec.key)
        out.append(parameter)
    for param in op.route.params:
        if param.name not in documented:
            # Path parameters the handler does not read still select the route.
            unused: dict[str, Any] = {"name": param.name, "in": "path", "required": True}
            pending.append((unused, "schema", schemas.add(param.converter.python_type)))
            out.append(unused)
    return out


def _header_name(spec: ParamSpec) -> str:
    return "-".join(part.capitalize() for part in spec.key.split("-"))


def _request_body(
    body: list[ParamSpec], schemas: _Schemas, pending: list[tuple[dict[str, Any], str, int]]
) -> dict[str, Any]:
    embedded = len(body) > 1 or any(isinstance(s.marker, Body) and s.marker.embed for s in body)
    media: dict[str, Any] = {}
    if embedded:
        properties: dict[str, Any] = {}
        for spec in body:
            pending.append((properties, spec.key, schemas.add(spec.annotation)))
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        required = [s.key for s in body if s.required]
        if required:
            schema["required"] = required
        media["schema"] = schema
    else:
        pending.append((media, "schema", schemas.add(body[0].annotation)))
    return {
        "required": any(s.required for s in body),
        "content": {"application/json": media},
    }


def _form_body(
    form: list[ParamSpec], schemas: _Schemas, pending: list[tuple[dict[str, Any], str, int]]
) -> dict[str, Any]:
    """Forms with files are multipart; the others urlencoded (multipart accepted too)."""
    media: dict[str, Any] = {}
    if len(form) == 1 and is_form_model(form[0].annotation):
        pending.append((media, "schema", schemas.add(form[0].annotation)))
        uploads = _has_upload(form[0].annotation)
    else:
        properties: dict[str, Any] = {}
        for spec in form:
            pending.append((properties, spec.key, schemas.add(spec.annotation)))
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        required = [s.key for s in form if s.required]
        if required:
            schema["required"] = required
        media["schema"] = schema
        uploads = any(is_upload(s.annotation) for s in form)
    kinds = ["multipart/form-data"] if uploads else [URLENCODED, "multipart/form-data"]
    return {
        "required": any(s.required for s in form),
        "content": {kind: media for kind in kinds},
    }


def _has_upload(annotation: Any) -> bool:
    if is_upload(annotation):
        return True
    if is_form_model(annotation):
        inner = unwrap_optional(annotation)[0]
        if is_pydantic_model(inner):
            return any(_has_upload(f.annotation) for f in inner.model_fields.values())
        return any(_has_upload(t) for _, _, t in object_fields(inner)[0])
    return False


def _responses(
    op: Operation,
    schemas: _Schemas,
    pending: list[tuple[dict[str, Any], str, int]],
    validates: bool,
) -> dict[str, Any]:
    route = op.route
    declared = op.response_type
    status = route.status_code or 200
    responses: dict[str, Any] = {}
    inner, _ = unwrap_optional(declared)
    if declared is type(None):
        responses["204"] = {"description": "No Content"}
    elif (
        declared is None
        or declared is inspect.Parameter.empty
        or (isinstance(inner, type) and issubclass(inner, Response))
    ):
        responses[str(status)] = {"description": HTTPStatus(status).phrase}
    elif _is_plain(declared, (str,)):
        responses[str(status)] = {
            "description": HTTPStatus(status).phrase,
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    elif _is_plain(declared, (bytes,)):
        responses[str(status)] = {
            "description": HTTPStatus(status).phrase,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    else:
        media: dict[str, Any] = {}
        pending.append((media, "schema", schemas.add(declared)))
        responses[str(status)] = {
            "description": HTTPStatus(status).phrase,
            "content": {"application/json": media},
        }
    sources = {spec.source for spec in op.params}
    if "form" in sources:
        responses["400"] = _problem("Malformed form body")
        responses["413"] = _problem("Form body, field or file too large")
        responses["415"] = _problem("Unsupported Content-Type: send a form")
    elif "body" in sources:
        responses["400"] = _problem("Malformed JSON body")
        responses["413"] = _problem("Request body too large")
        responses["415"] = _problem("Unsupported Content-Type: send application/json")
    elif "query" in sources:
        responses["400"] = _problem("Malformed query string")
    if validates:
        responses["422"] = {
            "description": "The request is not valid",
            "content": {
                "application/problem+json": {
                    "schema": {"$ref": "#/components/schemas/ValidationProblem"}
                }
            },
        }
    for code, spec in route.responses.items():
        declared_entry = _declared(code, spec, schemas, pending)
        known = responses.get(str(code))
        if known is not None and "content" in known and "content" in declared_entry:
            # Both can be answered (a form endpoint's own error format, and brace's
            # problem+json for a malformed body): document both media types.
            declared_entry["content"] = {**known["content"], **declared_entry["content"]}
        responses[str(code)] = declared_entry
    return responses


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }


def _declared(
    code: int,
    spec: Any,
    schemas: _Schemas,
    pending: list[tuple[dict[str, Any], str, int]],
) -> dict[str, Any]:
    """One entry of a route's `responses=`: a description, or a dict with a model."""
    if isinstance(spec, str):
        spec = {"description": spec}
    description = spec.get("description") or HTTPStatus(code).phrase
    model = spec.get("model")
    if model is not None:
        media: dict[str, Any] = {}
        pending.append((media, "schema", schemas.add(model)))
        return {"description": description, "content": {"application/json": media}}
    if code >= 400:
        return _problem(description)
    return {"description": description}
