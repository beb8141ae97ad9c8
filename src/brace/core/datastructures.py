"""Small request/response containers: URL, Headers, QueryParams, FormData, UploadFile, State."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, overload
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

__all__ = [
    "URL",
    "FormData",
    "Headers",
    "MutableHeaders",
    "QueryParams",
    "State",
    "UploadFile",
    "safe_filename",
]


class URL:
    """An absolute or relative URL split into its parts once, on demand."""

    __slots__ = ("_parts", "_url")

    def __init__(self, url: str = "") -> None:
        self._url = url
        self._parts: Any = None

    @classmethod
    def from_scope(cls, scope: Mapping[str, Any]) -> URL:
        """Rebuild the URL the client asked for from an ASGI scope."""
        scheme = scope.get("scheme", "http")
        root_path = scope.get("root_path", "")
        path = scope["path"]
        if root_path and not path.startswith(root_path):
            # ASGI servers differ on whether `path` already includes `root_path`.
            path = root_path + path
        host = None
        for key, value in scope.get("headers", ()):
            if key == b"host":
                host = value.decode("latin-1")
                break
        if host is None:
            server = scope.get("server")
            if server:
                name, port = server[0], server[1]
                default = {"http": 80, "https": 443, "ws": 80, "wss": 443}.get(scheme)
                host = name if port in (None, default) else f"{name}:{port}"
            else:
                host = "localhost"
        query = scope.get("query_string", b"").decode("latin-1")
        url = f"{scheme}://{host}{path}"
        if query:
            url += "?" + query
        return cls(url)

    def _split(self) -> Any:
        if self._parts is None:
            self._parts = urlsplit(self._url)
        return self._parts

    @property
    def scheme(self) -> str:
        return str(self._split().scheme)

    @property
    def netloc(self) -> str:
        return str(self._split().netloc)

    @property
    def hostname(self) -> str | None:
        return self._split().hostname  # type: ignore[no-any-return]

    @property
    def port(self) -> int | None:
        return self._split().port  # type: ignore[no-any-return]

    @property
    def path(self) -> str:
        return str(self._split().path)

    @property
    def query(self) -> str:
        return str(self._split().query)

    @property
    def fragment(self) -> str:
        return str(self._split().fragment)

    @property
    def is_secure(self) -> bool:
        return self.scheme in ("https", "wss")

    def replace(self, **parts: str) -> URL:
        """Return a copy with some of scheme, netloc, path, query, fragment changed."""
        return URL(self._split()._replace(**parts).geturl())

    def include_query_params(self, **params: Any) -> URL:
        """Return a copy with the given query parameters set (replacing existing ones)."""
        query = dict(parse_qsl(self.query, keep_blank_values=True))
        query.update({k: str(v) for k, v in params.items()})
        return self.replace(query=urlencode(query))

    def __str__(self) -> str:
        return self._url

    def __repr__(self) -> str:
        return f"URL({self._url!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, (URL, str)) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(self._url)


class Headers(Mapping[str, str]):
    """Read-only, case-insensitive, multi-valued HTTP headers over the raw ASGI list."""

    __slots__ = ("_list", "_raw")

    def __init__(
        self,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        *,
        raw: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        if raw is not None:
            self._raw = raw
        elif headers is None:
            self._raw = []
        else:
            items = headers.items() if isinstance(headers, Mapping) else headers
            self._raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in items]
        self._list: list[tuple[str, str]] | None = None

    @property
    def raw(self) -> list[tuple[bytes, bytes]]:
        return self._raw

    def _decoded(self) -> list[tuple[str, str]]:
        if self._list is None:
            self._list = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in self._raw]
        return self._list

    def __getitem__(self, key: str) -> str:
        key = key.lower()
        for k, v in self._decoded():
            if k == key:
                return v
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        key = key.lower()
        return any(k == key for k, _ in self._decoded())

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for k, _ in self._decoded():
            if k not in seen:
                seen.add(k)
                yield k

    def __len__(self) -> int:
        return len({k for k, _ in self._decoded()})

    def getall(self, key: str) -> list[str]:
        """Every value sent for this header, in order."""
        key = key.lower()
        return [v for k, v in self._decoded() if k == key]

    def multi_items(self) -> list[tuple[str, str]]:
        return list(self._decoded())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.multi_items()!r})"


class MutableHeaders(Headers):
    """Response headers: set, append and delete while keeping the raw ASGI list in sync."""

    __slots__ = ()

    def __setitem__(self, key: str, value: str) -> None:
        """Replace every existing value of this header with one value."""
        raw_key = key.lower().encode("latin-1")
        raw_value = value.encode("latin-1")
        kept = [(k, v) for k, v in self._raw if k != raw_key]
        kept.append((raw_key, raw_value))
        self._raw[:] = kept
        self._list = None

    def __delitem__(self, key: str) -> None:
        raw_key = key.lower().encode("latin-1")
        before = len(self._raw)
        self._raw[:] = [(k, v) for k, v in self._raw if k != raw_key]
        self._list = None
        if len(self._raw) == before:
            raise KeyError(key)

    def append(self, key: str, value: str) -> None:
        """Add one more value, keeping the ones already there (Set-Cookie, Vary...)."""
        self._raw.append((key.lower().encode("latin-1"), value.encode("latin-1")))
        self._list = None

    def setdefault(self, key: str, value: str) -> str:
        if key in self:
            return self[key]
        self.append(key, value)
        return value

    def update(self, other: Mapping[str, str]) -> None:
        for key, value in other.items():
            self[key] = value

    def add_vary(self, value: str) -> None:
        """Add a token to Vary without duplicating it."""
        existing = [v.strip() for v in ",".join(self.getall("vary")).split(",") if v.strip()]
        if value.lower() not in (v.lower() for v in existing):
            existing.append(value)
            self["vary"] = ", ".join(existing)


def parse_query(query: str | bytes) -> list[tuple[str, str]]:
    """Split a query string into (name, value) pairs, keeping blanks and order.

    Invalid UTF-8, raw or percent-encoded, raises UnicodeDecodeError (the request layer
    answers 400) instead of being silently replaced.
    """
    if not query:
        return []
    text = query.decode("utf-8") if isinstance(query, bytes) else query
    pairs: list[tuple[str, str]] = []
    if "%" not in text and "+" not in text:
        # The common case needs no unescaping: plain splitting is several times faster.
        for part in text.split("&"):
            if part:
                name, _, value = part.partition("=")
                pairs.append((name, value))
        return pairs
    for part in text.split("&"):
        if part:
            name, _, value = part.partition("=")
            pairs.append(
                (
                    unquote(name.replace("+", " "), errors="strict"),
                    unquote(value.replace("+", " "), errors="strict"),
                )
            )
    return pairs


class QueryParams(Mapping[str, str]):
    """Parsed query string; `params[key]` is the last value, `getall(key)` every value."""

    __slots__ = ("_dict", "_list")

    def __init__(
        self, query: str | bytes | Sequence[tuple[str, str]] | Mapping[str, str] = ""
    ) -> None:
        if isinstance(query, (str, bytes)):
            self._list = parse_query(query)
        elif isinstance(query, Mapping):
            self._list = list(query.items())
        else:
            self._list = list(query)
        self._dict = dict(self._list)

    def __getitem__(self, key: str) -> str:
        return self._dict[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self._dict.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._dict

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def getall(self, key: str) -> list[str]:
        """Every value given for `key`, in order (`?tag=a&tag=b`)."""
        return [v for k, v in self._list if k == key]

    getlist = getall

    def multi_items(self) -> list[tuple[str, str]]:
        return list(self._list)

    def __str__(self) -> str:
        return urlencode(self._list)

    def __repr__(self) -> str:
        return f"QueryParams({str(self)!r})"


def safe_filename(raw: str | None) -> str:
    """A client-sent file name reduced to a harmless base name: no directories (`../`,
    `C:\\`), no control characters or NUL bytes, no leading or trailing dots or spaces,
    at most 255 bytes."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.strip(" .")  # nothing hidden, no "..", no Windows-trailing dots or spaces
    if len(name.encode()) > 255:
        stem, dot, ext = name.rpartition(".")
        if not dot or len(ext) > 16:
            stem, dot, ext = name, "", ""
        room = 255 - len(f"{dot}{ext}".encode())
        name = (stem.encode()[:room].decode(errors="ignore") + dot + ext).strip(" .")
    return name or "upload"


class UploadFile:
    """A file sent in a multipart form: small ones stay in memory, bigger ones are spooled
    to an anonymous temporary file that disappears when closed (or when the process dies)."""

    __slots__ = (
        "content_type",
        "field_name",
        "file",
        "filename",
        "headers",
        "raw_filename",
        "size",
    )

    def __init__(
        self,
        file: IO[bytes] | None = None,
        *,
        filename: str | None = None,
        content_type: str = "application/octet-stream",
        field_name: str = "",
        headers: Mapping[str, str] | None = None,
        size: int = 0,
        spool_size: int = 1024 * 1024,
    ) -> None:
        self.file: IO[bytes] = file or tempfile.SpooledTemporaryFile(max_size=spool_size)
        self.raw_filename = filename or ""
        """The name exactly as the client sent it: never use it as a path."""
        self.filename = safe_filename(filename)
        """The client's file name reduced to a safe base name (see `safe_filename`)."""
        self.content_type = content_type
        self.field_name = field_name
        self.headers = dict(headers or {})
        self.size = size

    @property
    def in_memory(self) -> bool:
        """False once the content grew past the spool size and moved to a temporary file."""
        return not getattr(self.file, "_rolled", True)

    async def move_to_disk(self) -> None:
        """Move the content to the anonymous temporary file now (a form over its memory
        budget does this), whatever its size."""
        rollover = getattr(self.file, "rollover", None)
        if rollover is not None and self.in_memory:
            await asyncio.to_thread(rollover)

    async def write(self, data: bytes) -> None:
        if self.in_memory:
            self.file.write(data)
        else:
            await asyncio.to_thread(self.file.write, data)
        self.size += len(data)

    async def read(self, size: int = -1) -> bytes:
        if self.in_memory:
            return self.file.read(size)
        return await asyncio.to_thread(self.file.read, size)

    async def seek(self, offset: int) -> None:
        self.file.seek(offset)

    async def close(self) -> None:
        self.file.close()

    async def save(self, destination: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Copy the content to `destination`; a directory receives it under `filename`.
        Refuses to replace an existing file unless `overwrite=True`. Returns the path written."""
        target = Path(destination)
        if target.is_dir():
            target = target / self.filename
        await asyncio.to_thread(self._copy_to, target, overwrite)
        return target

    def _copy_to(self, target: Path, overwrite: bool) -> None:
        self.file.seek(0)
        with open(target, "wb" if overwrite else "xb") as out:
            shutil.copyfileobj(self.file, out)
        self.file.seek(0)

    def __repr__(self) -> str:
        return (
            f"UploadFile(filename={self.filename!r}, content_type={self.content_type!r}, "
            f"size={self.size})"
        )


class FormData(Mapping[str, "str | UploadFile"]):
    """A submitted form: `form[key]` is the last value, `getall(key)` every value in order.
    Text fields are `str`, files are `UploadFile`."""

    __slots__ = ("_dict", "_list")

    def __init__(self, items: Iterable[tuple[str, str | UploadFile]] = ()) -> None:
        self._list = list(items)
        self._dict = dict(self._list)

    def __getitem__(self, key: str) -> str | UploadFile:
        return self._dict[key]

    def __contains__(self, key: object) -> bool:
        return key in self._dict

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def getall(self, key: str) -> list[str | UploadFile]:
        return [v for k, v in self._list if k == key]

    getlist = getall

    def multi_items(self) -> list[tuple[str, str | UploadFile]]:
        return list(self._list)

    @property
    def files(self) -> list[UploadFile]:
        return [v for _, v in self._list if isinstance(v, UploadFile)]

    async def close(self) -> None:
        """Close every uploaded file (brace does it after the response is sent)."""
        for upload in self.files:
            await upload.close()

    def __repr__(self) -> str:
        return f"FormData({self._list!r})"


class State:
    """An attribute bag for app-wide or per-request values (`app.state.db = ...`)."""

    def __init__(self, values: dict[str, Any] | None = None) -> None:
        object.__setattr__(self, "_values", values if values is not None else {})

    def __setattr__(self, name: str, value: Any) -> None:
        self._values[name] = value

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"state has no attribute {name!r}") from None

    def __delattr__(self, name: str) -> None:
        try:
            del self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __contains__(self, name: str) -> bool:
        return name in self._values

    @overload
    def get(self, name: str) -> Any: ...
    @overload
    def get(self, name: str, default: Any) -> Any: ...
    def get(self, name: str, default: Any = None) -> Any:
        return self._values.get(name, default)

    def __repr__(self) -> str:
        return f"State({self._values!r})"
