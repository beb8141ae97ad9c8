"""FileResponse: send a file from disk with validators, conditional requests and byte ranges."""

from __future__ import annotations

import asyncio
import functools
import mimetypes
import os
import re
import stat
import unicodedata
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import UTC
from email.utils import formatdate, parsedate_to_datetime
from typing import Any, Final
from urllib.parse import quote

from .responses import Response, _debug_of
from .types import Message, Receive, Scope, Send

__all__ = [
    "CHUNK_SIZE",
    "FileResponse",
    "content_disposition",
    "guess_media_type",
    "parse_range",
]

CHUNK_SIZE: Final = 64 * 1024
"""Bytes read per thread hop: large enough to amortise the hop, small enough to bound memory."""

# Extensions Python's built-in table lacks or labels with an outdated type.
_EXTRA_TYPES: Final = (
    (".js", "text/javascript"),  # RFC 9239
    (".mjs", "text/javascript"),
    (".map", "application/json"),
    (".md", "text/markdown"),
    (".woff", "font/woff"),
    (".woff2", "font/woff2"),
    (".ttf", "font/ttf"),
    (".otf", "font/otf"),
    (".webp", "image/webp"),
)


@functools.cache
def _builtin_types() -> mimetypes.MimeTypes:
    # Python's built-in table, never the OS one: the same file gets the same type on every
    # machine (a Windows registry that maps .js to text/plain breaks module scripts in browsers).
    # Built on first use: reading the OS tables costs milliseconds that `import brace` skips.
    types = mimetypes.MimeTypes()
    for extension, media_type in _EXTRA_TYPES:
        types.add_type(media_type, extension)
    return types


# A compressed file is sent as stored, so its type is the compression's, not the content's:
# `site.css.gz` labelled text/css without Content-Encoding would show gzip bytes as CSS.
_COMPRESSED_TYPES: Final = {
    "gzip": "application/gzip",
    "bzip2": "application/x-bzip2",
    "xz": "application/x-xz",
    "br": "application/x-brotli",
    "compress": "application/x-compress",
}

# RFC 5987 attr-char beyond what `quote` always keeps (letters, digits, "_.-~").
_ATTR_CHAR_EXTRA: Final = "!#$&+^`|"
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_ENTITY_TAG = re.compile(r'(?:W/)?"[^"]*"')
_CONDITION_HEADERS: Final = frozenset(
    (
        b"if-match",
        b"if-none-match",
        b"if-modified-since",
        b"if-unmodified-since",
        b"range",
        b"if-range",
    )
)
# Larger numbers cannot be a file offset; capping also keeps int() clear of the 4300-digit limit.
_MAX_DIGITS: Final = 18
_TEXT_PLAIN: Final = b"text/plain; charset=utf-8"

_O_FLAGS: Final = (
    os.O_RDONLY
    | getattr(os, "O_BINARY", 0)
    # Opening a FIFO would block the worker thread until a writer appears; with O_NONBLOCK the
    # open returns and the S_ISREG check below refuses it. No effect on regular files.
    | getattr(os, "O_NONBLOCK", 0)
)
_pread: Callable[[int, int, int], bytes] | None = getattr(os, "pread", None)


def guess_media_type(name: str) -> str:
    """The media type for a file name, `application/octet-stream` when unknown."""
    # A leading "/" stops mimetypes from reading "data:text/html,..." as a data URL.
    name = "/" + name.replace("\\", "/").rsplit("/", 1)[-1]
    media_type, encoding = _builtin_types().guess_type(name, strict=False)
    if media_type is None and encoding is None:
        # Types the OS or the application (mimetypes.add_type) know about.
        media_type, encoding = mimetypes.guess_type(name, strict=False)
    if encoding is not None:
        return _COMPRESSED_TYPES.get(encoding, "application/octet-stream")
    return media_type or "application/octet-stream"


def content_disposition(disposition_type: str, filename: str) -> str:
    """A Content-Disposition value safe for any file name (RFC 6266, RFC 5987 `filename*`)."""
    if not _TOKEN.fullmatch(disposition_type):
        raise ValueError(f"invalid content disposition type: {disposition_type!r}")
    fallback = "".join(_fallback_char(c) for c in unicodedata.normalize("NFKD", filename))
    value = f'{disposition_type}; filename="{fallback}"'
    if fallback != filename:
        # Old clients read the ASCII `filename`; every current browser prefers `filename*`.
        # Percent-encoding leaves only ASCII attr-chars, so nothing can break out of the header.
        encoded = quote(filename.encode("utf-8", "replace"), safe=_ATTR_CHAR_EXTRA)
        value += f"; filename*=UTF-8''{encoded}"
    return value


def _fallback_char(char: str) -> str:
    if unicodedata.combining(char):
        return ""  # the accent of a decomposed "é", so the fallback reads "e"
    # Quotes and backslashes end or escape the quoted-string; "%" is decoded by some browsers;
    # slashes would be taken as a path; control characters could split the header.
    if " " <= char <= "~" and char not in '"\\%/':
        return char
    return "_"


def parse_range(value: str, size: int) -> list[tuple[int, int]] | None:
    """Parse a Range header into satisfiable (start, stop) byte spans, stop exclusive.

    None means the header must be ignored (another unit or malformed, RFC 9110 §14.2);
    an empty list means no span is satisfiable (416).
    """
    unit, equals, specs = value.partition("=")
    if not equals or unit.strip().lower() != "bytes":
        return None
    spans: list[tuple[int, int]] = []
    seen_spec = False
    for raw_spec in specs.split(","):
        spec = raw_spec.strip(" \t")
        if not spec:
            continue  # HTTP lists allow empty elements
        seen_spec = True
        first, dash, last = spec.partition("-")
        if not dash:
            return None
        if not first:
            if not _is_digits(last):
                return None
            suffix = _to_int(last)
            if suffix > 0 and size > 0:
                spans.append((max(size - suffix, 0), size))
            continue
        if not _is_digits(first) or (last and not _is_digits(last)):
            return None
        start = _to_int(first)
        stop = size
        if last:
            end = _to_int(last)
            if end < start:
                return None  # an invalid range-spec invalidates the whole header
            stop = min(end + 1, size)
        if start < size:
            spans.append((start, stop))
    return spans if seen_spec else None


def _is_digits(text: str) -> bool:
    # str.isdigit alone accepts "²" and other non-ASCII digits that int() rejects.
    return text.isascii() and text.isdigit()


def _to_int(digits: str) -> int:
    return int(digits) if len(digits) <= _MAX_DIGITS else 10**_MAX_DIGITS


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, stop in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((start, stop))
    return merged


def _parse_http_date(value: str) -> int | None:
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        # "-0000" parses as naive; HTTP dates are always UTC, never local time.
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def _tags(value: str) -> list[str]:
    return _ENTITY_TAG.findall(value)


def _weak_match(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(tag.removeprefix("W/") == opaque for tag in _tags(header))


def _strong_match(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    return not etag.startswith("W/") and etag in _tags(header)


@dataclass(frozen=True, slots=True)
class _Conditions:
    """The request headers that decide between 200, 206, 304, 412 and 416."""

    if_match: str | None = None
    if_none_match: str | None = None
    if_modified_since: str | None = None
    if_unmodified_since: str | None = None
    range: str | None = None
    if_range: str | None = None

    @classmethod
    def from_scope(cls, scope: Scope) -> _Conditions:
        found: dict[bytes, str] = {}
        for key, value in scope.get("headers", ()):
            if key in _CONDITION_HEADERS:
                text = value.decode("latin-1")
                # Repeated list headers join with commas (RFC 9110 §5.3); a repeated Range then
                # reads as malformed and is ignored, which is the safe outcome.
                found[key] = f"{found[key]}, {text}" if key in found else text
        if not found:
            return _NO_CONDITIONS
        return cls(
            found.get(b"if-match"),
            found.get(b"if-none-match"),
            found.get(b"if-modified-since"),
            found.get(b"if-unmodified-since"),
            found.get(b"range"),
            found.get(b"if-range"),
        )


_NO_CONDITIONS: Final = _Conditions()


def _evaluate(conditions: _Conditions, etag: str, modified: int, size: int) -> tuple[int, int, int]:
    """Status and (start, stop) of the body, in RFC 9110 §13.2.2 order; GET and HEAD only."""
    if conditions.if_match is not None:
        if not _strong_match(conditions.if_match, etag):
            return 412, 0, 0
    elif conditions.if_unmodified_since is not None:
        since = _parse_http_date(conditions.if_unmodified_since)
        if since is not None and modified > since:
            return 412, 0, 0
    if conditions.if_none_match is not None:
        if _weak_match(conditions.if_none_match, etag):
            return 304, 0, 0
    elif conditions.if_modified_since is not None:
        since = _parse_http_date(conditions.if_modified_since)
        if since is not None and modified <= since:
            return 304, 0, 0
    if conditions.range is None or not _if_range_holds(conditions.if_range, etag, modified):
        return 200, 0, size
    return _range_answer(conditions.range, size)


def _range_answer(value: str, size: int) -> tuple[int, int, int]:
    """Status and (start, stop) for a Range that applies; only requests with one pay for it."""
    spans = parse_range(value, size)
    if spans is None:
        return 200, 0, size
    if not spans:
        return 416, 0, 0
    merged = _merge(spans)
    if len(merged) > 1:
        # Several disjoint spans would need multipart/byteranges; RFC 9110 lets a server send
        # the whole representation instead, which every client handles.
        return 200, 0, size
    start, stop = merged[0]
    return 206, start, stop


def _if_range_holds(if_range: str | None, etag: str, modified: int) -> bool:
    if if_range is None:
        return True
    if_range = if_range.strip()
    if if_range.startswith(('"', "W/")):
        # If-Range needs a strong comparison: a weak tag never matches.
        return not etag.startswith("W/") and if_range == etag
    return _parse_http_date(if_range) == modified


@dataclass(frozen=True, slots=True)
class _Prepared:
    """What the worker thread found: the open file, the answer, and the first chunk."""

    fd: int
    stat: os.stat_result
    status: int
    start: int
    stop: int
    first: bytes


def _open_regular(path: str) -> tuple[int, os.stat_result]:
    fd = os.open(path, _O_FLAGS)
    try:
        result = os.fstat(fd)
        if not stat.S_ISREG(result.st_mode):
            raise IsADirectoryError(path)
    except BaseException:
        os.close(fd)
        raise
    return fd, result


def _read(fd: int, offset: int, size: int) -> bytes:
    if _pread is not None:
        return _pread(fd, size, offset)
    os.lseek(fd, offset, os.SEEK_SET)
    return os.read(fd, size)


def _etag_of(result: os.stat_result) -> str:
    return f'"{result.st_mtime_ns:x}-{result.st_size:x}"'


class FileResponse(Response):
    """A file sent in chunks from a worker thread, with ETag, 304, byte ranges and HEAD.

    The file is opened when the response is sent, not when it is built: a file gone by then
    gives a plain 404 instead of an exception in the server.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        filename: str | None = None,
        content_disposition_type: str = "attachment",
        stat_result: os.stat_result | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self.filename = filename
        self.stat_result = stat_result
        if media_type is None:
            media_type = guess_media_type(filename or self.path)
        super().__init__(None, status_code, headers, media_type)
        if filename is not None:
            self.headers["content-disposition"] = content_disposition(
                content_disposition_type, filename
            )
        # Headers derived from a stat: listed so a send can replace them with fresh ones
        # without touching validators the caller set on purpose.
        self._derived: set[tuple[bytes, bytes]] = set()
        if stat_result is not None:
            derived = self._file_headers(stat_result, self.raw_headers)
            self.raw_headers.extend(derived)
            self._derived.update(derived)

    def _sends_length(self) -> bool:
        # The length is the file's (or the range's), known only once the file is open.
        return False

    @staticmethod
    def _file_headers(
        result: os.stat_result, present: list[tuple[bytes, bytes]]
    ) -> list[tuple[bytes, bytes]]:
        names = {name for name, _ in present}
        headers = [(b"accept-ranges", b"bytes")]
        if b"etag" not in names:
            headers.append((b"etag", _etag_of(result).encode("latin-1")))
        if b"last-modified" not in names:
            modified = formatdate(result.st_mtime, usegmt=True)
            headers.append((b"last-modified", modified.encode("latin-1")))
        return headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        head = scope.get("method", "GET") == "HEAD"
        conditional = self.status_code == 200 and scope.get("method", "GET") in ("GET", "HEAD")
        conditions = _Conditions.from_scope(scope) if conditional else _NO_CONDITIONS
        base = [header for header in self.raw_headers if header not in self._derived]
        try:
            prepared = await _run_owning_fd(self._prepare, base, conditions, not head)
        except OSError:
            # Gone, unreadable or not a regular file: the client gets a clean 404.
            await _send_text(send, 404, "Not Found", head=head)
            return
        try:
            await self._respond(scope, receive, send, prepared, base, head)
        finally:
            os.close(prepared.fd)

    def _prepare(
        self, base: list[tuple[bytes, bytes]], conditions: _Conditions, want_body: bool
    ) -> _Prepared:
        """Open, decide and read the first chunk in one thread hop (runs in a worker)."""
        fd, result = _open_regular(self.path)
        try:
            status, start, stop = self.status_code, 0, result.st_size
            if conditions is not _NO_CONDITIONS:
                etag, modified = self._validators(base, result)
                status, start, stop = _evaluate(conditions, etag, modified, result.st_size)
            first = b""
            if want_body and status not in (304, 412, 416) and stop > start:
                first = _read(fd, start, min(CHUNK_SIZE, stop - start))
        except BaseException:
            os.close(fd)
            raise
        return _Prepared(fd, result, status, start, stop, first)

    @staticmethod
    def _validators(base: list[tuple[bytes, bytes]], result: os.stat_result) -> tuple[str, int]:
        etag = _etag_of(result)
        modified = int(result.st_mtime)
        for name, value in base:
            # Validators the caller set win, so conditions must be checked against them.
            if name == b"etag":
                etag = value.decode("latin-1")
            elif name == b"last-modified":
                parsed = _parse_http_date(value.decode("latin-1"))
                if parsed is not None:
                    modified = parsed
        return etag, modified

    async def _respond(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        prepared: _Prepared,
        base: list[tuple[bytes, bytes]],
        head: bool,
    ) -> None:
        status, start, stop, size = (
            prepared.status,
            prepared.start,
            prepared.stop,
            prepared.stat.st_size,
        )
        if status == 412:
            await _send_text(send, 412, "Precondition Failed", head=head)
            return
        if status == 416:
            unsatisfied = f"bytes */{size}".encode("latin-1")
            await _send_text(
                send,
                416,
                "Range Not Satisfiable",
                head=head,
                headers=[(b"content-range", unsatisfied)],
            )
            return
        own = (b"content-length", b"content-range", b"accept-ranges")
        headers = [header for header in base if header[0] not in own]
        headers += self._file_headers(prepared.stat, headers)
        if status == 304:
            # A 304 carries the validators and caching headers, not representation metadata.
            headers = [h for h in headers if not h[0].startswith(b"content-")]
        else:
            headers.append((b"content-length", str(stop - start).encode("latin-1")))
            if status == 206:
                content_range = f"bytes {start}-{stop - 1}/{size}"
                headers.append((b"content-range", content_range.encode("latin-1")))
        if self._cookies:
            headers += self._cookie_headers(_debug_of(scope))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        if head or status == 304 or len(prepared.first) >= stop - start:
            await send({"type": "http.response.body", "body": prepared.first})
            return
        await _until_disconnect(self._stream(send, prepared), receive)

    async def _stream(self, send: Send, prepared: _Prepared) -> None:
        offset = prepared.start + len(prepared.first)
        await send({"type": "http.response.body", "body": prepared.first, "more_body": True})
        while offset < prepared.stop:
            chunk = await asyncio.to_thread(
                _read, prepared.fd, offset, min(CHUNK_SIZE, prepared.stop - offset)
            )
            if not chunk:
                # The length is already on the wire; ending early would be a silent lie.
                raise RuntimeError(f"{self.path} shrank while it was being sent")
            offset += len(chunk)
            await send(
                {"type": "http.response.body", "body": chunk, "more_body": offset < prepared.stop}
            )


async def _run_owning_fd(func: Callable[..., _Prepared], *args: Any) -> _Prepared:
    """Run `func` in a thread; if we are cancelled meanwhile, close the fd it opens."""
    future = asyncio.ensure_future(asyncio.to_thread(func, *args))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        future.add_done_callback(_close_result)
        raise


def _close_result(future: asyncio.Future[_Prepared]) -> None:
    if not future.cancelled() and future.exception() is None:
        os.close(future.result().fd)


async def _until_disconnect(stream: Coroutine[Any, Any, None], receive: Receive) -> None:
    """Run the body stream, stopping it if the client goes away.

    Some servers (uvicorn's h11 and httptools protocols among them) silently drop messages
    sent after a disconnect, so without this a gone client would still cost a full file read.
    """
    sending = asyncio.ensure_future(stream)
    watching = asyncio.ensure_future(_wait_for_disconnect(receive))
    try:
        done, _ = await asyncio.wait({sending, watching}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sending, watching):
            if not task.done():
                task.cancel()
        await asyncio.gather(sending, watching, return_exceptions=True)
    if sending in done:
        sending.result()


async def _wait_for_disconnect(receive: Receive) -> None:
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            return


async def _send_text(
    send: Send,
    status: int,
    text: str,
    *,
    head: bool,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """A short plain-text answer for errors; HEAD gets the same headers and no body."""
    body = text.encode("utf-8")
    raw = [(b"content-type", _TEXT_PLAIN), (b"content-length", str(len(body)).encode("latin-1"))]
    if headers:
        raw += headers
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": b"" if head else body})
