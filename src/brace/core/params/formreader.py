"""Fill form parameters (`Form()` fields, `UploadFile`s, form models, `FormResult`) from the
parsed form, validating them like a JSON body and reporting every error as `form.<field>`."""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Any

import msgspec

from ..datastructures import FormData, UploadFile
from ..forms import FormResult
from .model import SEQUENCES, ParamSpec, bare, is_form_model, is_pydantic_model, object_fields
from .validation import body_errors, error_item, json_kind

__all__ = ["FormReader"]

_TRUE = {"on": True, "true": True, "yes": True, "1": True}
_FALSE = {"off": False, "false": False, "no": False, "0": False}


def _field_kind(annotation: Any) -> str:
    inner = bare(annotation)
    if typing.get_origin(inner) in (list, *SEQUENCES) or inner in (list, tuple, set, frozenset):
        return "many"
    if inner is bool:
        return "bool"
    return "one"


def _model_fields(model: Any) -> list[tuple[str, str]]:
    """(form field name, kind) for each field of a model."""
    model = bare(model)
    if is_pydantic_model(model):
        return [
            (info.alias or name, _field_kind(info.annotation))
            for name, info in model.model_fields.items()
        ]
    fields, _ = object_fields(model)
    return [(key, _field_kind(annotation)) for key, _, annotation in fields]


def _blank(value: Any) -> bool:
    """An empty input: browsers send blank text boxes and empty file inputs all the same."""
    if isinstance(value, UploadFile):
        return not value.raw_filename and value.size == 0
    return isinstance(value, str) and not value


def _collect(form: FormData, fields: list[tuple[str, str]]) -> dict[str, Any]:
    """The form as a document for the validator: repeated keys for list fields, checkbox
    words for booleans, and blank inputs left out (so defaults and "required" apply)."""
    data: dict[str, Any] = {}
    for key, kind in fields:
        if kind == "many":
            values = [v for v in form.getall(key) if not _blank(v)]
            if values:
                data[key] = values
            continue
        value = form.get(key)
        if value is None or _blank(value):
            continue
        if kind == "bool" and isinstance(value, str):
            lowered = value.strip().lower()
            data[key] = _TRUE.get(lowered, _FALSE.get(lowered, value))
        else:
            data[key] = value
    return data


class FormReader:
    """Validates the form once for every form parameter of a handler or dependency."""

    def __init__(self, specs: list[ParamSpec], where: str) -> None:
        self.specs = specs
        models = [s for s in specs if is_form_model(s.annotation)]
        self.model = models[0] if models else None
        if self.model is not None:
            target: Any = self.model.annotation
        else:
            fields = [
                (s.key, s.annotation) if s.required else (s.key, s.annotation, s.default)
                for s in specs
            ]
            target = msgspec.defstruct(f"Form_{where}", fields, forbid_unknown_fields=False)
        self.target = target
        self.fields = _model_fields(target)
        self.pydantic = is_pydantic_model(bare(target))
        self.validate: Callable[[dict[str, Any]], Any] = self._pick_validator()

    def _pick_validator(self) -> Callable[[dict[str, Any]], Any]:
        target = self.target
        if self.pydantic:
            model = bare(target)
            return lambda data: model.model_validate(data)
        return lambda data: msgspec.convert(data, target, strict=False)

    def read(
        self,
        form: FormData,
        kwargs: dict[str, Any],
        errors: list[dict[str, Any]],
        method: str = "POST",
    ) -> None:
        model = self.model
        if model is not None and model.result and method in ("GET", "HEAD") and not form:
            # One handler for GET and POST (Flask's way): the first visit shows a form nobody
            # has filled in, not "This field is required." on every field.
            kwargs[model.name] = FormResult.empty()
            return
        data = _collect(form, self.fields)
        found: list[dict[str, Any]] = []
        value = self._validated(data, found)
        if model is not None and model.result:
            typed = {k: v for k, v in form.items() if isinstance(v, str)}
            kwargs[model.name] = FormResult(None if found else value, typed, found)
            return
        if found:
            errors.extend(found)
            return
        if model is not None:
            kwargs[model.name] = value
        else:
            for spec in self.specs:
                kwargs[spec.name] = getattr(value, spec.key)

    def _validated(self, data: dict[str, Any], found: list[dict[str, Any]]) -> Any:
        if self.pydantic:
            from pydantic import ValidationError

            try:
                return self.validate(data)
            except ValidationError as exc:
                for error in exc.errors(include_url=False):
                    location = "form" + "".join(
                        f"[{part}]" if isinstance(part, int) else f".{part}"
                        for part in error["loc"]
                    )
                    item = {"loc": location, "msg": error["msg"]}
                    if error["type"] == "missing":
                        item["input"] = "missing"
                    elif "input" in error:
                        item["input"] = json_kind(error["input"])
                    found.append(item)
                return None
        try:
            return self.validate(data)
        except msgspec.ValidationError as exc:
            body_errors(data, self.target, "form", found)
            if not found:
                found.append(error_item("form", exc, data))
            return None
