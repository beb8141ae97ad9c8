"""Forms in the core: limits, urlencoded bodies, the typed `FormResult`, and a slot for
the multipart parser.

Multipart parsing needs python-multipart, a battery dependency, so it lives in `brace.forms`,
which registers itself here when imported (`import brace` does). `request.form()` on a
multipart body without it is a server error naming the fix.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .datastructures import FormData, parse_query
from .errors import HTTPError
from .schema_types import schema_of

if TYPE_CHECKING:
    from .requests import Request

__all__ = [
    "FormLimits",
    "FormResult",
    "MultipartParser",
    "human_message",
    "is_form_media",
    "parse_form",
    "use_multipart_parser",
]

_MiB = 1024 * 1024
URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


@dataclasses.dataclass(frozen=True, slots=True)
class FormLimits:
    """Bounds on what one form submission may hold; `App(form_limits=FormLimits(...))`.

    Urlencoded forms are also bounded by the app's `max_body_size`, like JSON bodies;
    multipart bodies (which carry files) by `max_body_size` here.
    """

    max_fields: int = 1000
    max_files: int = 100
    max_field_size: int = _MiB
    max_file_size: int = 10 * _MiB
    max_body_size: int = 32 * _MiB
    spool_size: int = _MiB
    """Files bigger than this move from memory to an anonymous temporary file."""
    max_memory_size: int = 4 * _MiB
    """The most one multipart form holds in memory: its text fields plus the files not yet
    on disk. Past it, files move to disk at once and more text answers 413, so concurrent
    large posts cannot exhaust the server's memory."""


DEFAULT_LIMITS = FormLimits()

MultipartParser = Callable[["Request", str, FormLimits], Awaitable[FormData]]
"""Reads a multipart body: `parser(request, content_type, limits)`."""
_multipart: MultipartParser | None = None


def use_multipart_parser(parser: MultipartParser) -> None:
    """Install the parser `request.form()` uses for multipart bodies (brace.forms does)."""
    global _multipart
    _multipart = parser


def is_form_media(content_type: str) -> bool:
    media = content_type.partition(";")[0].strip().lower()
    return media in (URLENCODED, MULTIPART)


async def parse_form(request: Request, limits: FormLimits) -> FormData:
    """The request's form; 415 for a body that is not a form, 400/413 when it breaks a rule."""
    content_type = request.headers.get("content-type", "")
    media = content_type.partition(";")[0].strip().lower()
    if media == MULTIPART:
        if _multipart is None:
            raise RuntimeError(
                "multipart forms need brace.forms (import brace) and python-multipart: "
                'pip install "brace[forms]"'
            )
        return await _multipart(request, content_type, limits)
    if media == URLENCODED or (not media and request.method in ("GET", "HEAD")):
        return _parse_urlencoded(await request.body(), limits)
    if not media:
        body = await request.body()
        if not body:
            return FormData()
    raise HTTPError(415, f"Expected a form (urlencoded or multipart), got Content-Type {media!r}.")


def _parse_urlencoded(body: bytes, limits: FormLimits) -> FormData:
    if body.count(b"&") >= limits.max_fields:
        raise HTTPError(400, f"The form has more than {limits.max_fields} fields.")
    try:
        pairs = parse_query(body)
    except (UnicodeDecodeError, ValueError):
        raise HTTPError(400, "The form is not valid UTF-8.") from None
    if len(pairs) > limits.max_fields:
        raise HTTPError(400, f"The form has more than {limits.max_fields} fields.")
    for name, value in pairs:
        if len(value) > limits.max_field_size:
            raise HTTPError(
                413, f"Form field {name[:100]!r} is larger than {limits.max_field_size} bytes."
            )
    return FormData(pairs)


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

    @classmethod
    def from_object(cls, obj: Any, fields: Iterable[str] | None = None) -> FormResult[Any]:
        """A form filled in from an existing object, for an edit page's first GET: `data`
        holds its values as a browser would send them back (text; "on" for true, "" for
        false or None), with no errors. `fields` defaults to the object's own: a Struct's,
        a dataclass's, a mapping's keys, or the wire type of an ORM model."""
        if fields is None:
            fields = _field_names(obj)

        def read(name: str) -> Any:
            return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)

        return cls(None, {name: _as_form_text(read(name)) for name in fields})

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


def _field_names(obj: Any) -> list[str]:
    if isinstance(obj, Mapping):
        return [str(key) for key in obj]
    kind = schema_of(type(obj)) or type(obj)
    names = getattr(kind, "__struct_fields__", None)
    if names is None and dataclasses.is_dataclass(kind):
        names = tuple(field.name for field in dataclasses.fields(kind))
    if names is None:
        raise TypeError(f"cannot tell the fields of {type(obj).__name__}: pass fields=[...]")
    return list(names)


def _as_form_text(value: Any) -> str:
    if value is None or value is False:
        return ""
    if value is True:
        return "on"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return str(value)


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
