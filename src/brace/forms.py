"""Typed HTML forms: a model validated from the submitted fields, and a result a page can
re-render with the user's input and one message per field.

    @app.post("/sign")
    async def sign(request: Request, form: FormResult[Entry]) -> Response:
        if not form.ok:
            return templates.render(request, "index.html", {"form": form}, status=422)
        save(form.value)
        return RedirectResponse("/", 303)

`Annotated[Entry, Form()]` validates the same way but answers 422 problem+json on failure,
like a JSON body (the API style).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from .core.datastructures import FormData, UploadFile
from .core.formparser import FormLimits

__all__ = ["FormData", "FormLimits", "FormResult", "UploadFile", "human_message"]

T = TypeVar("T")


class FormResult(Generic[T]):
    """The outcome of validating a form: `value` when `ok`, otherwise `errors` per field.
    `data` holds what the user typed (files left out), to fill the form again."""

    __slots__ = ("data", "error_list", "errors", "value")

    def __init__(
        self,
        value: T | None,
        data: Mapping[str, Any],
        error_list: list[dict[str, Any]] | None = None,
    ) -> None:
        self.value = value
        self.data = dict(data)
        self.error_list = list(error_list or [])
        """The errors as problem+json items (`loc`, `msg`, `input`)."""
        errors: dict[str, str] = {}
        for item in self.error_list:
            field = item["loc"].removeprefix("form").lstrip(".") or "__all__"
            errors.setdefault(field, human_message(item["msg"]))
        self.errors = errors
        """One readable message per field name (`"__all__"` for the form as a whole)."""

    @classmethod
    def empty(cls) -> FormResult[Any]:
        """A form nobody has filled in yet (for the page's first GET)."""
        return cls(None, {})

    @property
    def ok(self) -> bool:
        return not self.error_list and self.value is not None

    def add_error(self, field: str, message: str) -> None:
        """Report a check the model cannot express (a name already taken, a file type);
        `ok` turns false. `field="__all__"` is about the form as a whole."""
        location = "form" if field == "__all__" else f"form.{field}"
        self.error_list.append({"loc": location, "msg": message})
        self.errors.setdefault(field, message)

    def get(self, field: str, default: Any = "") -> Any:
        """What the user entered for `field` (for `value="{{ form.get('name') }}"`)."""
        return self.data.get(field, default)

    def __repr__(self) -> str:
        state = "ok" if self.ok else f"errors={self.errors!r}"
        return f"FormResult({state})"


_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^Field required$|^Object missing required field"), "This field is required."),
    (re.compile(r"^Expected `str` of length >= (\d+)"), "Enter at least {0} characters."),
    (re.compile(r"^Expected `str` of length <= (\d+)"), "Enter at most {0} characters."),
    (re.compile(r"^Expected `array` of length >= (\d+)"), "Choose at least {0}."),
    (re.compile(r"^Expected `array` of length <= (\d+)"), "Choose at most {0}."),
    (re.compile(r"^Expected `\w+` >= (\S+)"), "Enter a value of at least {0}."),
    (re.compile(r"^Expected `\w+` > (\S+)"), "Enter a value greater than {0}."),
    (re.compile(r"^Expected `\w+` <= (\S+)"), "Enter a value of at most {0}."),
    (re.compile(r"^Expected `\w+` < (\S+)"), "Enter a value less than {0}."),
    (re.compile(r"^Expected `int( \| null)?`, got"), "Enter a whole number."),
    (re.compile(r"^Expected `(float|decimal|number)( \| null)?`, got"), "Enter a number."),
    (re.compile(r"^Expected `bool( \| null)?`, got"), "Choose yes or no."),
    (re.compile(r"^Expected `str` matching regex"), "Enter a value in the expected format."),
    (re.compile(r"^Invalid enum value"), "Select a valid choice."),
    (re.compile(r"^Invalid RFC3339 encoded datetime"), "Enter a valid date and time."),
    (re.compile(r"^Invalid RFC3339 encoded date"), "Enter a valid date."),
    (re.compile(r"^Expected `UploadFile`"), "Choose a file."),
]


def human_message(message: str) -> str:
    """A validation message rewritten for the person filling the form."""
    for pattern, text in _RULES:
        match = pattern.search(message)
        if match:
            return text.format(*match.groups())
    return message
