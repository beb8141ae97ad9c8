"""StaticFiles: an ASGI app that serves one directory and never anything outside it."""

from __future__ import annotations

import os
import re
import stat
from typing import Final
from urllib.parse import quote, quote_from_bytes, unquote_to_bytes

from .file_response import FileResponse, _send_text, guess_media_type
from .types import Receive, Scope, Send

__all__ = ["StaticFiles", "split_path"]

_WINDOWS: Final = os.name == "nt"
# Names Windows maps to devices in every directory: `static/CON.txt` would open the console.
_WINDOWS_DEVICES: Final = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{name}{digit}" for name in ("COM", "LPT") for digit in "123456789¹²³"]
)
# Characters kept as they are when a path is echoed back in a Location header.
_LOCATION_SAFE: Final = "/%!$&'()*+,;=:@-._~?"
_ALLOW: Final = [(b"allow", b"GET, HEAD")]
# No real asset has control characters in its name; NUL would also end the name at the OS.
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")


def split_path(relative: str, *, windows: bool = _WINDOWS) -> list[str] | None:
    """The segments of a request path below the mount, or None if it could leave the directory.

    Checks are lexical, so they hold before the filesystem is touched; empty segments
    (`a//b`) collapse, as in nginx's default merge_slashes.
    """
    if relative and not relative.startswith("/"):
        return None
    if "\\" in relative:
        return None  # a separator on Windows; refused everywhere so one URL means one file
    parts = [part for part in relative.split("/") if part]
    for part in parts:
        if part in (".", ".."):
            return None
        if windows and _unsafe_on_windows(part):
            return None
    return parts


def _unsafe_on_windows(part: str) -> bool:
    if ":" in part:
        return True  # drive letters (`C:`) and alternate data streams (`a.txt::$DATA`)
    if part.rstrip(". ") != part:
        return True  # Windows drops trailing dots and spaces: `secret.txt.` opens `secret.txt`
    return part.split(".", 1)[0].rstrip(" ").upper() in _WINDOWS_DEVICES


def _path_status(relative: str, raw_path: bytes | None) -> int:
    """400 or 404 for a path that must never reach the filesystem; else 0."""
    if _CONTROL.search(relative):
        return 400
    if raw_path:
        return _raw_path_status(raw_path)
    return 0


def _raw_path_status(raw_path: bytes) -> int:
    """400 or 404 when the undecoded path hides a separator, NUL or dot segment; else 0.

    Servers decode `%2e%2e` and `%2f` before the app sees `path`: a decoded `..` is refused
    by split_path, but an encoded slash would silently turn one segment into two.
    """
    raw_path = raw_path.split(b"?", 1)[0]
    if b"%" not in raw_path:
        return 0
    for segment in raw_path.split(b"/"):
        if b"%" not in segment:
            continue
        decoded = unquote_to_bytes(segment)
        if b"\x00" in decoded:
            return 400
        if decoded in (b".", b"..") or b"/" in decoded or b"\\" in decoded:
            return 404
    return 0


def _inside(path: str, root: str) -> bool:
    path, root = os.path.normcase(path), os.path.normcase(root)
    prefix = root if root.endswith(os.sep) else root + os.sep
    return path == root or path.startswith(prefix)


class StaticFiles:
    """Serve files from one directory, with ETag, 304, byte ranges and HEAD from FileResponse.

    Mount it at a prefix; the core passes the full path in `scope["path"]` and the prefix in
    `scope["root_path"]`. Anything that could reach outside the directory answers 404 (400 for
    NUL bytes and undecodable paths), never a 500.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        html: bool = False,
        follow_symlinks: bool = False,
        cache_control: str | None = "public, max-age=3600",
        check_dir: bool = True,
    ) -> None:
        self.directory = os.fspath(directory)
        self.html = html
        self.follow_symlinks = follow_symlinks
        self.cache_control = cache_control
        self._headers = {"cache-control": cache_control} if cache_control else None
        self._root: str | None = None
        if check_dir:
            if not os.path.isdir(self.directory):
                raise RuntimeError(f"StaticFiles directory {self.directory!r} does not exist")
            self._root = os.path.realpath(self.directory)

    def _get_root(self) -> str | None:
        # With check_dir=False the directory may appear after start-up (a build step).
        if self._root is None and os.path.isdir(self.directory):
            self._root = os.path.realpath(self.directory)
        return self._root

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        elif kind == "lifespan":
            await _lifespan(receive, send)
        else:
            raise ValueError(f"StaticFiles cannot handle {kind!r} scopes")

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method", "GET")
        head = method == "HEAD"
        if method not in ("GET", "HEAD"):
            await _send_text(send, 405, "Method Not Allowed", head=False, headers=_ALLOW)
            return
        path: str = scope["path"]
        root_path: str = scope.get("root_path", "").rstrip("/")
        relative = path[len(root_path) :] if path.startswith(root_path) else path
        status = _path_status(relative, scope.get("raw_path"))
        if status:
            await _send_text(
                send, status, "Bad Request" if status == 400 else "Not Found", head=head
            )
            return
        parts = split_path(relative)
        root = self._get_root()
        if parts is None or root is None:
            await self._not_found(scope, receive, send, root, head)
            return
        try:
            found = self._lookup(root, parts)
        except ValueError:
            # Characters the filesystem cannot encode (lone surrogates from a hand-built scope).
            await _send_text(send, 400, "Bad Request", head=head)
            return
        if found is None:
            await self._not_found(scope, receive, send, root, head)
            return
        file_path, result = found
        name = parts[-1] if parts else ""
        if stat.S_ISDIR(result.st_mode):
            if not self.html:
                await self._not_found(scope, receive, send, root, head)
                return
            if not relative.endswith("/"):
                # Relative links inside index.html resolve against the directory only with a
                # trailing slash. 308 keeps the method, and the query is kept too.
                await _redirect(scope, send)
                return
            found = self._child(file_path, "index.html", root)
            if found is None or not stat.S_ISREG(found[1].st_mode):
                await self._not_found(scope, receive, send, root, head)
                return
            file_path, result = found
            name = "index.html"
        elif not stat.S_ISREG(result.st_mode) or relative.endswith("/"):
            # FIFOs, sockets and devices are never content; `file.txt/` is not a directory.
            await self._not_found(scope, receive, send, root, head)
            return
        response = FileResponse(
            file_path,
            headers=self._headers,
            # Typed by the requested name: a symlink `app.js -> blob` is still JavaScript.
            media_type=guess_media_type(name),
            stat_result=result,
        )
        await response(scope, receive, send)

    def _lookup(self, root: str, parts: list[str]) -> tuple[str, os.stat_result] | None:
        """The file the segments name and its stat, or None if missing or outside the root."""
        if self.follow_symlinks:
            full = os.path.join(root, *parts)
            try:
                return full, os.stat(full)
            except OSError:
                return None
        if not parts:
            return _stat_pair(root)
        path = root
        found: tuple[str, os.stat_result] | None = None
        for part in parts:
            found = self._child(path, part, root)
            if found is None:
                return None
            path = found[0]
        return found

    def _child(self, directory: str, name: str, root: str) -> tuple[str, os.stat_result] | None:
        """Step into one name, resolving a symlink only if it stays under the root."""
        path = os.path.join(directory, name)
        try:
            result = os.lstat(path)
            if stat.S_ISLNK(result.st_mode):
                if not self.follow_symlinks:
                    path = os.path.realpath(path)
                    if not _inside(path, root):
                        return None
                result = os.stat(path)
        except OSError:
            # Missing, too long, a symlink loop, permission denied: all look like absence.
            return None
        return path, result

    async def _not_found(
        self, scope: Scope, receive: Receive, send: Send, root: str | None, head: bool
    ) -> None:
        if self.html and root is not None:
            page = self._child(root, "404.html", root)
            if page is not None and stat.S_ISREG(page[1].st_mode):
                response = FileResponse(page[0], status_code=404, media_type="text/html")
                await response(scope, receive, send)
                return
        await _send_text(send, 404, "Not Found", head=head)


def _stat_pair(path: str) -> tuple[str, os.stat_result] | None:
    try:
        return path, os.stat(path)
    except OSError:
        return None


async def _redirect(scope: Scope, send: Send) -> None:
    raw_path: bytes | None = scope.get("raw_path")
    if raw_path:
        location = quote_from_bytes(raw_path.split(b"?", 1)[0], safe=_LOCATION_SAFE)
    else:
        path: str = scope["path"]
        root_path: str = scope.get("root_path", "")
        if root_path and not path.startswith(root_path):
            path = root_path + path
        location = quote(path, safe=_LOCATION_SAFE)
    # `//evil.example/` would be a protocol-relative URL to another host.
    location = "/" + location.lstrip("/") + "/"
    query: bytes = scope.get("query_string", b"")
    if query:
        location += "?" + quote_from_bytes(query, safe=_LOCATION_SAFE)
    await send(
        {
            "type": "http.response.start",
            "status": 308,
            "headers": [(b"location", location.encode("ascii")), (b"content-length", b"0")],
        }
    )
    await send({"type": "http.response.body", "body": b""})


async def _lifespan(receive: Receive, send: Send) -> None:
    """Complete startup and shutdown, so the core can forward lifespan to every mount."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
