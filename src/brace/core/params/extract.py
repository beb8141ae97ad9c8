"""Turn a handler's parameters into extractors, once, at start-up.

Requests then run a flat loop over prepared functions: no signature inspection and no
type-hint resolution on the hot path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from ..connection import HTTPConnection
from ..errors import HTTPError
from ..markers import Body
from ..requests import Request, raw_header
from .model import (
    HandlerError,
    ParamSpec,
    is_form_model,
    is_pydantic_model,
    unwrap_optional,
)
from .validation import (
    MISSING,
    body_errors,
    error_item,
    json_kind,
    missing_item,
    raw_json,
)

# -- extraction ----------------------------------------------------------------------------


class Missing(Exception):
    """A required value is absent (raised only on the error path)."""


Extract = Callable[[HTTPConnection, Sequence[Any]], Any]


def pick(
    raw: Any, many: bool, required: bool, default: Any, convert: Callable[[Any], Any] | None
) -> Any:
    """The one rule for a query, header or cookie value: what the request carried (None, or
    an empty list for a repeated key), else the default, else `Missing`; converted to the
    parameter's type."""
    if raw is None or (many and not raw):
        if required:
            raise Missing
        return default
    return raw if convert is None else convert(raw)


def record_error(errors: list[dict[str, Any]], location: str, many: bool, exc: Exception) -> None:
    """The problem item for a value that failed: missing, or not of its type."""
    if isinstance(exc, Missing):
        errors.append(missing_item(location))
        return
    assert isinstance(exc, msgspec.ValidationError)
    # Path, query, header and cookie values arrive as text (a list of texts for repeated
    # keys), whatever the handler asked for.
    item = error_item(location, exc)
    item["input"] = "array" if many and item["loc"] == location else "str"
    errors.append(item)


def converter(spec: ParamSpec) -> Callable[[Any], Any] | None:
    """None when the raw value is already right (plain `str`), else a msgspec conversion."""
    annotation = spec.annotation
    if annotation is str or annotation == (str | None) or annotation is Any:
        return None
    return lambda raw: msgspec.convert(raw, annotation, strict=False)


def extractor(spec: ParamSpec, path_index: dict[str, int], path_types: dict[str, type]) -> Extract:
    convert = converter(spec)
    key = spec.key
    default = spec.default
    required = spec.required
    source = spec.source

    if source == "request":
        return lambda request, values: request

    if source == "path":
        index = path_index[key]
        if spec.annotation is path_types[key] or spec.annotation is Any:
            return lambda request, values: values[index]
        annotation = spec.annotation

        def path_value(request: HTTPConnection, values: Sequence[Any]) -> Any:
            # The segment was converted by the route's converter; re-read it as the handler's type.
            return msgspec.convert(str(values[index]), annotation, strict=False)

        return path_value

    if source in ("query", "header"):
        many = spec.many

        def from_multi(request: HTTPConnection, values: Sequence[Any]) -> Any:
            container = request.query_params if source == "query" else request.headers
            raw = container.getall(key) if many else container.get(key)
            return pick(raw, many, required, default, convert)

        return from_multi

    if source == "cookie":

        def from_cookie(request: HTTPConnection, values: Sequence[Any]) -> Any:
            return pick(request.cookies.get(key), False, required, default, convert)

        return from_cookie

    raise AssertionError(source)  # pragma: no cover - bodies are handled by BodyReader


Plain = list[tuple[str, str, bool, Extract]]


def run_extractors(
    plain: Plain,
    request: HTTPConnection,
    values: Sequence[Any],
    kwargs: dict[str, Any],
    errors: list[dict[str, Any]],
) -> None:
    """Fill `kwargs` from path/query/header/cookie extractors, collecting every error."""
    for name, location, many, extract in plain:
        try:
            kwargs[name] = extract(request, values)
        except (msgspec.ValidationError, Missing) as exc:
            record_error(errors, location, many, exc)


class BodyReader:
    """Decodes and validates the JSON body once for every body parameter of a handler."""

    def __init__(self, specs: list[ParamSpec], where: str) -> None:
        self.specs = specs
        embedded = len(specs) > 1 or any(
            isinstance(s.marker, Body) and s.marker.embed for s in specs
        )
        self.embedded = embedded
        self.required = any(s.required for s in specs)
        if embedded:
            fields = [
                (s.key, s.annotation) if s.required else (s.key, s.annotation, s.default)
                for s in specs
            ]
            target: Any = msgspec.defstruct(f"Body_{where}", fields, forbid_unknown_fields=False)
        else:
            target = specs[0].annotation
        self.pydantic = not embedded and is_pydantic_model(unwrap_optional(target)[0])
        # Lax like pydantic: 94.0 is an integer in JSON Schema, "3" a fine number in a form.
        self.decoder = None if self.pydantic else msgspec.json.Decoder(target, strict=False)
        self.target = target

    def read(self, body: bytes, kwargs: dict[str, Any], errors: list[dict[str, Any]]) -> None:
        if not body:
            if self.required:
                errors.append(missing_item("body"))
            else:
                for spec in self.specs:
                    kwargs[spec.name] = spec.default
            return
        if self.pydantic:
            self._read_pydantic(body, kwargs, errors)
            return
        assert self.decoder is not None
        try:
            value = self.decoder.decode(body)
        except msgspec.ValidationError as exc:
            # msgspec stops at the first problem; walk the document to report all of them.
            raw = raw_json(body)
            first = error_item("body", exc, raw)
            found: list[dict[str, Any]] = []
            if raw is not MISSING:
                body_errors(raw, self.target, "body", found, first)
            errors.extend(found or [first])
            return
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise HTTPError(400, f"Malformed JSON: {exc}") from None
        except RecursionError:
            raise HTTPError(400, "Malformed JSON: nested too deeply.") from None
        if self.embedded:
            for spec in self.specs:
                kwargs[spec.name] = getattr(value, spec.key)
        else:
            kwargs[self.specs[0].name] = value

    def _read_pydantic(
        self, body: bytes, kwargs: dict[str, Any], errors: list[dict[str, Any]]
    ) -> None:
        from pydantic import ValidationError

        model = unwrap_optional(self.target)[0]
        try:
            kwargs[self.specs[0].name] = model.model_validate_json(body)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                if error["type"] == "json_invalid":
                    raise HTTPError(400, f"Malformed JSON: {error['msg']}") from None
                location = "body" + "".join(
                    f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"]
                )
                item = {"loc": location, "msg": error["msg"]}
                if error["type"] == "missing":
                    item["input"] = "missing"
                elif "input" in error:
                    item["input"] = json_kind(error["input"])
                errors.append(item)


def check_json_content_type(request: Request) -> None:
    content_type = raw_header(request.scope, b"content-type")
    if content_type is None:
        return  # curl and many clients omit it; the body is still parsed strictly as JSON
    media = content_type.partition(b";")[0].strip().lower()
    if media != b"application/json" and not media.endswith(b"+json"):
        shown = media.decode("latin-1")
        raise HTTPError(415, f"Expected a JSON body, got Content-Type {shown!r}.")


def check_one_body(bodies: list[ParamSpec], forms: list[ParamSpec], where: str) -> None:
    """A request has one body: JSON or a form, and a form model stands for the whole form."""
    if bodies and forms:
        raise HandlerError(
            f"{where}: reads both a JSON body ({bodies[0].name!r}) and a form "
            f"({forms[0].name!r}); a request carries one body"
        )
    models = [s for s in forms if is_form_model(s.annotation)]
    if models and len(forms) > 1:
        others = ", ".join(repr(s.name) for s in forms if s is not models[0])
        raise HandlerError(
            f"{where}: {models[0].name!r} takes the whole form, so {others} cannot also read "
            "form fields; put them in the model"
        )
