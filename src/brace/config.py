"""Settings from the environment and a `.env` file, typed and checked once at start-up.

    class MySettings(Settings):
        env_prefix = "APP_"
        database_url: str = "sqlite+aiosqlite:///./app.db"
        port: int = 8000

    settings = MySettings()   # APP_PORT=eighty -> "APP_PORT: expected an integer, got 'eighty'"

A value comes from, in order: a keyword argument, the environment, the `.env` file, the
default. With `BRACE_ENV=prod` a missing or weak secret key, debug on, or no allowed hosts
stops start-up, so an unsafe configuration never serves traffic.
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import os
import re
import types
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path, PurePath
from typing import (
    Annotated,
    Any,
    ClassVar,
    Literal,
    Union,
    get_args,
    get_origin,
    get_type_hints,
)

import msgspec

__all__ = [
    "ENVIRONMENTS",
    "EnvVar",
    "Settings",
    "SettingsError",
    "current_env",
    "production_problems",
    "read_env_file",
    "secret_key_problem",
]

ENVIRONMENTS = ("dev", "test", "prod")
"""The values of BRACE_ENV: development, the test suite, production."""

_MISSING: Any = object()
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SECRET_NAME = re.compile(r"secret|password|passwd|token|api_?key|private_?key|credential", re.I)
# scheme://user:password@host: the password part is hidden wherever a value is shown.
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)[^@/\s]+(?=@)")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}
_PLACEHOLDER_WORDS = (
    "change-me",
    "changeme",
    "change_me",
    "replace-me",
    "replaceme",
    "insecure",
    "placeholder",
    "your-secret",
    "your_secret",
    "example",
    "not-secret",
    "notsecret",
)
_PLACEHOLDERS = frozenset(
    {"secret", "secret-key", "secret_key", "secretkey", "password", "dev", "test", "default"}
)
MIN_SECRET_LENGTH = 32

# Turned off by `brace check`, which reports unsafe production settings instead of refusing
# to import the app that creates them.
_enforce_production: ContextVar[bool] = ContextVar("brace.config.enforce", default=True)
_created: ContextVar[list[Settings] | None] = ContextVar("brace.config.created", default=None)


class SettingsError(ValueError):
    """Settings that cannot be used; each line names the variable and what is wrong with it."""

    def __init__(self, title: str, problems: list[str]) -> None:
        self.title = title
        self.problems = problems
        super().__init__(title + "".join(f"\n  {problem}" for problem in problems))


@dataclasses.dataclass(frozen=True, slots=True)
class EnvVar:
    """Read a field from this exact variable, prefix or not:
    `database_url: Annotated[str, EnvVar("DATABASE_URL")]`."""

    name: str

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"EnvVar({self.name!r}) is not an environment variable name")


@dataclasses.dataclass(frozen=True, slots=True)
class _Field:
    name: str
    annotation: Any
    inner: Any  # the type without Annotated and without `| None`
    optional: bool
    env_name: str
    default: Any
    secret: bool


# -- .env files ---------------------------------------------------------------------------


def read_env_file(path: str | os.PathLike[str]) -> dict[str, str]:
    """The KEY=VALUE pairs of a `.env` file ({} when there is none), failing on bad lines.

    Lines may start with `export `; `#` starts a comment (inside an unquoted value only after
    a space). Single quotes keep everything literally, double quotes understand `\\n`, `\\t`,
    `\\"` and `\\\\`; both may span lines. There is no `${VAR}` interpolation."""
    return {key: value for key, (value, _) in _read_env_file(Path(path)).items()}


class _BadEnvLine(Exception):
    """A problem with one entry of a `.env` file; all of them are reported together."""


def _read_env_file(path: Path) -> dict[str, tuple[str, int]]:
    text = _env_file_text(path)
    if text is None:
        return {}
    values: dict[str, tuple[str, int]] = {}
    problems: list[str] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        number = index + 1
        line = lines[index].strip()
        index += 1
        if not line or line.startswith("#"):
            continue
        try:
            key, rest = _env_assignment(line, number)
            if rest[:1] in ("'", '"'):
                body, end, index = _quoted_body(rest[0], rest[1:], lines, index)
                value = _quoted_value(key, rest[0], body, end, number)
            else:
                value = re.split(r"\s#", rest, maxsplit=1)[0].strip()
        except _BadEnvLine as exc:
            problems.append(str(exc))
            continue
        values[key] = (value, number)
    if problems:
        raise SettingsError(f"{path} has lines that are not KEY=VALUE:", problems)
    return values


def _env_file_text(path: Path) -> str | None:
    """The text of a `.env` file, None when there is none; unreadable files are errors."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise SettingsError(
            f"cannot read {path}:", ["it is a directory, not a .env file"]
        ) from None
    except OSError as exc:
        raise SettingsError(f"cannot read {path}:", [exc.strerror or str(exc)]) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = data[: exc.start].count(b"\n") + 1
        raise SettingsError(f"cannot read {path}:", [f"line {bad}: not UTF-8 text"]) from None


def _env_assignment(line: str, number: int) -> tuple[str, str]:
    """The key and the raw value of a `[export ]KEY=VALUE` line."""
    if "\0" in line:
        raise _BadEnvLine(f"line {number}: contains a NUL character")
    if line.startswith("export ") or line.startswith("export\t"):
        line = line[7:].lstrip()
    key, equals, rest = line.partition("=")
    key = key.strip()
    # The line itself is never echoed: a malformed line may well be a secret.
    if not equals:
        raise _BadEnvLine(f"line {number}: expected KEY=VALUE")
    if not _NAME.fullmatch(key):
        raise _BadEnvLine(
            f"line {number}: {key[:40]!r} is not a variable name (letters, digits, _)"
        )
    return key, rest.lstrip()


def _quoted_body(
    quote: str, body: str, lines: list[str], index: int
) -> tuple[str, int | None, int]:
    """A quoted value may span lines: (its text, where its quote closes, the next line index)."""
    while True:
        end = _closing_quote(body, quote)
        if end is not None or index >= len(lines):
            return body, end, index
        body += "\n" + lines[index]
        index += 1


def _quoted_value(key: str, quote: str, body: str, end: int | None, number: int) -> str:
    """The value between the quotes, with the escapes of double quotes applied."""
    if end is None:
        raise _BadEnvLine(f"line {number}: {key}: the {quote} quote is never closed")
    trailing = body[end + 1 :].strip()
    if trailing and not trailing.startswith("#"):
        raise _BadEnvLine(f"line {number}: {key}: unexpected text after the closing quote")
    value = body[:end]
    if quote == '"':
        value = re.sub(r"\\(.)", lambda m: _ESCAPES.get(m[1], m[0]), value)
    return value


def _closing_quote(body: str, quote: str) -> int | None:
    position = 0
    while True:
        found = body.find(quote, position)
        if found == -1:
            return None
        if quote == '"':
            backslashes = len(body[:found]) - len(body[:found].rstrip("\\"))
            if backslashes % 2:
                position = found + 1
                continue
        return found


# -- checks shared with `brace check --deploy` ----------------------------------------------


def secret_key_problem(value: str | None) -> str | None:
    """What makes a secret key unfit for production, or None when it looks random enough."""
    if not value:
        return "is missing"
    lowered = value.lower()
    if lowered in _PLACEHOLDERS or any(word in lowered for word in _PLACEHOLDER_WORDS):
        return "is a placeholder, not a secret"
    if len(value) < MIN_SECRET_LENGTH:
        return f"is too short ({len(value)} characters; use at least {MIN_SECRET_LENGTH})"
    if len(set(value)) < 10:
        return "repeats too few characters to be random"
    return None


SECRET_KEY_FIX = (
    "set it to a long random value, made with: "
    'python -c "import secrets; print(secrets.token_urlsafe(50))"'
)


def production_problems(settings: Settings) -> list[tuple[str, str]]:
    """(variable, problem and fix) for each production safeguard these settings fail."""
    names = {f.name: f.env_name for f in type(settings).fields()}
    problems: list[tuple[str, str]] = []
    secret = secret_key_problem(getattr(settings, "secret_key", None))
    if secret is not None:
        problems.append((names.get("secret_key", "SECRET_KEY"), f"{secret}; {SECRET_KEY_FIX}"))
    if getattr(settings, "debug", False):
        debug = names.get("debug", "DEBUG")
        problems.append(
            (debug, f"is on: tracebacks and internals would reach visitors; set {debug}=false")
        )
    if not getattr(settings, "allowed_hosts", None):
        hosts = names.get("allowed_hosts", "ALLOWED_HOSTS")
        problems.append(
            (
                hosts,
                "is empty: list the host names this site answers to, "
                f"e.g. {hosts}=example.com,www.example.com",
            )
        )
    return problems


@contextmanager
def collect_settings() -> Iterator[list[Settings]]:
    """Record every Settings created in the block, with the production safeguards reported
    rather than raised (used by `brace check`, which lists them all)."""
    created: list[Settings] = []
    enforce = _enforce_production.set(False)
    collect = _created.set(created)
    try:
        yield created
    finally:
        _created.reset(collect)
        _enforce_production.reset(enforce)


def current_env(
    environ: Mapping[str, str] | None = None, env_file: str | os.PathLike[str] | None = ".env"
) -> str:
    """BRACE_ENV from the environment, else from `.env`, else "dev"; checked."""
    source = os.environ if environ is None else environ
    value = source.get("BRACE_ENV")
    where = "the environment"
    if value is None and env_file is not None:
        value = read_env_file(env_file).get("BRACE_ENV")
        where = str(env_file)
    if value is None or value == "":
        return "dev"
    if value not in ENVIRONMENTS:
        raise SettingsError(
            "invalid BRACE_ENV:",
            [f"BRACE_ENV: expected one of 'dev', 'test', 'prod', got {_show(value)} ({where})"],
        )
    return value


# -- the Settings class ---------------------------------------------------------------------


class Settings:
    """Typed settings: declare annotated fields with defaults, like a msgspec Struct.

    Each field `name` is read from `{env_prefix}NAME` (or the name an `EnvVar` gives). The
    built-in fields are what production needs to be safe: `env` (BRACE_ENV), `debug`,
    `secret_key` and `allowed_hosts`."""

    env_prefix: ClassVar[str] = ""
    """Prefix of the variable names: "APP_" reads `port` from APP_PORT."""
    env_file: ClassVar[str | os.PathLike[str] | None] = ".env"
    """The .env file, relative to the working directory; None reads none."""
    secret_fields: ClassVar[frozenset[str]] = frozenset()
    """More fields to hide in repr(), besides names with secret/password/token/key in them."""

    env: Annotated[Literal["dev", "test", "prod"], EnvVar("BRACE_ENV")] = "dev"
    debug: bool = False
    secret_key: str = ""
    allowed_hosts: list[str] = []  # noqa: RUF012 - copied for each instance

    _brace_fields: ClassVar[tuple[_Field, ...]]

    def __init__(
        self,
        *,
        _env_file: str | os.PathLike[str] | None = _MISSING,
        _environ: Mapping[str, str] | None = None,
        **values: Any,
    ) -> None:
        """Read and check every field; raises SettingsError listing every bad value.
        Keyword arguments win over the environment (handy in tests)."""
        cls = type(self)
        fields = cls.fields()
        known = {f.name for f in fields}
        unknown = sorted(set(values) - known)
        if unknown:
            raise TypeError(f"{cls.__name__} has no field(s) {', '.join(unknown)}")
        environ = os.environ if _environ is None else _environ
        env_file = cls.env_file if _env_file is _MISSING else _env_file
        from_file = _read_env_file(Path(env_file)) if env_file is not None else {}
        problems: list[str] = []
        for f in fields:
            if f.name in values:
                raw: Any = values[f.name]
                where = "passed in code"
            elif f.env_name in environ:
                raw = environ[f.env_name]
                where = "from the environment"
            elif f.env_name in from_file:
                raw, line = from_file[f.env_name]
                where = f"from {env_file}, line {line}"
            elif f.default is not _MISSING:
                setattr(self, f.name, copy.deepcopy(f.default))
                continue
            else:
                problems.append(f"{f.env_name}: required, but not set (in the environment or .env)")
                continue
            try:
                value = _parse(raw, f) if isinstance(raw, str) else _check(raw, f)
            except _Invalid as exc:
                problems.append(f"{f.env_name}: {exc} ({where})")
                continue
            setattr(self, f.name, value)
        if problems:
            raise SettingsError(f"invalid settings for {cls.__name__}:", problems)
        if self.env == "prod" and _enforce_production.get():
            unsafe = production_problems(self)
            if unsafe:
                raise SettingsError(
                    "BRACE_ENV=prod refuses to start with unsafe settings:",
                    [f"{name}: {problem}" for name, problem in unsafe],
                )
        created = _created.get()
        if created is not None:
            created.append(self)

    @classmethod
    def fields(cls) -> tuple[_Field, ...]:
        """The fields, base classes' first, read once per class."""
        cached = cls.__dict__.get("_brace_fields")
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        try:
            hints = get_type_hints(cls, include_extras=True)
        except NameError as exc:
            raise TypeError(
                f"{cls.__name__}: cannot resolve a field type ({exc}); define the types it "
                "uses at module level"
            ) from None
        names: list[str] = []
        for klass in reversed(cls.__mro__):
            for name in vars(klass).get("__annotations__", {}):
                if name not in names:
                    names.append(name)
        fields: list[_Field] = []
        for name in names:
            annotation = hints.get(name)
            if name.startswith("_") or get_origin(annotation) is ClassVar:
                continue
            if name in ("env_prefix", "env_file", "secret_fields"):
                continue
            inner, optional, env_var = _unwrap(annotation)
            default = getattr(cls, name, _MISSING)
            fields.append(
                _Field(
                    name=name,
                    annotation=annotation,
                    inner=inner,
                    optional=optional,
                    env_name=env_var or f"{cls.env_prefix}{name.upper()}",
                    default=default,
                    secret=bool(_SECRET_NAME.search(name)) or name in cls.secret_fields,
                )
            )
        result = tuple(fields)
        cls._brace_fields = result
        return result

    def __repr__(self) -> str:
        shown = []
        for f in type(self).fields():
            value = getattr(self, f.name, _MISSING)
            if f.secret and value:
                text = "'***'"
            else:
                text = _URL_PASSWORD.sub(r"\g<head>***", repr(value))
            shown.append(f"{f.name}={text}")
        return f"{type(self).__name__}({', '.join(shown)})"

    __str__ = __repr__


# -- parsing ---------------------------------------------------------------------------------


class _Invalid(Exception):
    """One value that does not fit its field; the message goes after the variable name."""


def _unwrap(annotation: Any) -> tuple[Any, bool, str | None]:
    env_var: str | None = None
    if get_origin(annotation) is Annotated:
        args = get_args(annotation)
        annotation = args[0]
        for extra in args[1:]:
            if isinstance(extra, EnvVar):
                env_var = extra.name
    optional = False
    if get_origin(annotation) in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        optional = len(members) < len(get_args(annotation))
        if optional and len(members) == 1:
            annotation = members[0]
        elif optional:
            annotation = Union[tuple(members)]  # noqa: UP007 - built at run time
    return annotation, optional, env_var


def _is_sequence(tp: Any) -> bool:
    return (get_origin(tp) or tp) in (list, set, frozenset, tuple)


def _is_json(tp: Any) -> bool:
    origin = get_origin(tp) or tp
    if origin is dict:
        return True
    return isinstance(origin, type) and (
        issubclass(origin, msgspec.Struct) or dataclasses.is_dataclass(origin)
    )


def _parse(raw: str, f: _Field) -> Any:
    """Turn the text of an environment variable into the field's type."""
    tp = f.inner
    if f.optional and raw.strip() == "":
        return None
    if tp is str or tp is Any:
        return raw
    if tp is bool:
        lowered = raw.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise _Invalid(f"expected true or false (or 1/0, yes/no, on/off), got {_shown(raw, f)}")
    if isinstance(tp, type) and issubclass(tp, PurePath):
        if not raw.strip():
            raise _Invalid("expected a path, got an empty value")
        return tp(raw.strip())
    text = raw.strip()
    value: Any = text
    structured = _is_sequence(tp) or _is_json(tp)
    if _is_sequence(tp) and not text.startswith("["):
        value = [item.strip() for item in text.split(",") if item.strip()]
    elif structured:
        try:
            value = msgspec.json.decode(text)
        except msgspec.DecodeError as exc:
            raise _Invalid(
                f"expected {_expected(tp)}, got {_shown(raw, f)}: not valid JSON ({exc})"
            ) from None
    try:
        return msgspec.convert(value, tp, strict=False)
    except msgspec.ValidationError as exc:
        detail = f": {exc}" if structured else ""
        raise _Invalid(f"expected {_expected(tp)}, got {_shown(raw, f)}{detail}") from None


def _check(value: Any, f: _Field) -> Any:
    """A value given in Python: it must already have the field's type."""
    if value is None and f.optional:
        return None
    if isinstance(f.inner, type) and issubclass(f.inner, PurePath) and isinstance(value, PurePath):
        return f.inner(value)
    try:
        return msgspec.convert(value, f.inner)
    except (msgspec.ValidationError, TypeError) as exc:
        raise _Invalid(f"expected {_expected(f.inner)}, got {_shown(value, f)}: {exc}") from None


def _expected(tp: Any) -> str:
    origin = get_origin(tp) or tp
    if tp is int:
        return "an integer"
    if tp is float:
        return "a number"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    if isinstance(origin, type) and issubclass(origin, enum.Enum):
        return "one of " + ", ".join(repr(m.value) for m in origin)
    if origin in (list, set, frozenset, tuple):
        return "a list (comma-separated or JSON)"
    if origin is dict:
        return "a JSON object"
    return f"a {getattr(tp, '__name__', None) or tp}"


def _show(value: object, limit: int = 60) -> str:
    """A value for an error message: quoted, escaped, and cut short when huge."""
    if not isinstance(value, str):
        text = repr(value)
        return text if len(text) <= limit else text[:limit] + "..."
    if len(value) > limit:
        return f"{value[:limit]!r}... ({len(value)} characters)"
    return repr(value)


def _shown(value: object, f: _Field) -> str:
    if f.secret:
        return "a hidden value"
    return _show(value)
