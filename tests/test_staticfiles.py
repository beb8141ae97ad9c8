"""StaticFiles: serving a directory mounted at a prefix, and never anything outside it."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from brace.staticfiles import StaticFiles, split_path
from brace.types import ASGIApp, Message

needs_symlinks = pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")


def fetch(
    app: ASGIApp,
    method: str = "GET",
    url: str = "/static/",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """A request through httpx, mounted like the core mounts: full path plus root_path."""

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, root_path="/static")
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.request(method, url, headers=headers)

    return asyncio.run(go())


@dataclass
class Sent:
    messages: list[Message] = field(default_factory=list)

    @property
    def status(self) -> int:
        return int(self.messages[0]["status"])

    def header(self, name: str) -> str | None:
        for key, value in self.messages[0]["headers"]:
            if key == name.encode():
                return str(value.decode("latin-1"))
        return None

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages[1:])


def call(
    app: ASGIApp,
    path: str,
    *,
    method: str = "GET",
    raw_path: bytes | None = None,
    root_path: str = "/static",
    query: bytes = b"",
    headers: Iterable[tuple[bytes, bytes]] = (),
) -> Sent:
    """Call the app with a hand-built scope: httpx would normalise hostile paths away."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "root_path": root_path,
        "query_string": query,
        "headers": list(headers),
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 50000),
    }
    if raw_path is not None:
        scope["raw_path"] = raw_path
    sent = Sent()
    first = True

    async def receive() -> Message:
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        sent.messages.append(message)

    async def run() -> None:
        await app(scope, receive, send)

    asyncio.run(run())
    return sent


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """tmp/secret (outside) and tmp/static/{hello.txt, css/site.css, docs/index.html, empty/}."""
    (tmp_path / "secret").write_text("top secret")
    static = tmp_path / "static"
    (static / "css").mkdir(parents=True)
    (static / "docs").mkdir()
    (static / "empty").mkdir()
    (static / "hello.txt").write_text("hello")
    (static / "css" / "site.css").write_text("body{}")
    (static / "docs" / "index.html").write_text("<h1>docs</h1>")
    return static


@pytest.fixture
def app(site: Path) -> StaticFiles:
    return StaticFiles(site)


# -- serving ---------------------------------------------------------------------------------


def test_serves_a_file(app: StaticFiles) -> None:
    response = fetch(app, url="/static/hello.txt")
    assert response.status_code == 200
    assert response.text == "hello"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=3600"
    assert response.headers["content-length"] == "5"
    assert "etag" in response.headers
    assert "last-modified" in response.headers
    assert response.headers["accept-ranges"] == "bytes"


def test_serves_nested_file_with_its_type(app: StaticFiles) -> None:
    response = fetch(app, url="/static/css/site.css")
    assert response.text == "body{}"
    assert response.headers["content-type"] == "text/css; charset=utf-8"


def test_path_without_root_path_prefix_is_taken_as_relative(app: StaticFiles) -> None:
    # Some servers strip the mount prefix from `path` themselves.
    assert call(app, "/hello.txt").body == b"hello"


def test_root_path_with_trailing_slash(app: StaticFiles) -> None:
    assert call(app, "/static/hello.txt", root_path="/static/").body == b"hello"


def test_mounted_at_root(app: StaticFiles) -> None:
    assert call(app, "/hello.txt", root_path="").body == b"hello"


def test_path_merely_sharing_the_prefix_is_not_found(app: StaticFiles) -> None:
    assert call(app, "/statichello.txt").status == 404


def test_custom_cache_control(site: Path) -> None:
    app = StaticFiles(site, cache_control="no-cache")
    assert fetch(app, url="/static/hello.txt").headers["cache-control"] == "no-cache"


def test_no_cache_control(site: Path) -> None:
    app = StaticFiles(site, cache_control=None)
    assert "cache-control" not in fetch(app, url="/static/hello.txt").headers


def test_etag_gives_304(app: StaticFiles) -> None:
    etag = fetch(app, url="/static/hello.txt").headers["etag"]
    response = fetch(app, url="/static/hello.txt", headers={"if-none-match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["cache-control"] == "public, max-age=3600"


def test_range(app: StaticFiles) -> None:
    response = fetch(app, url="/static/hello.txt", headers={"range": "bytes=1-3"})
    assert response.status_code == 206
    assert response.content == b"ell"
    assert response.headers["content-range"] == "bytes 1-3/5"


def test_head(app: StaticFiles) -> None:
    response = fetch(app, "HEAD", "/static/hello.txt")
    assert response.status_code == 200
    assert response.headers["content-length"] == "5"
    assert response.content == b""


def test_head_of_missing_file_has_no_body(app: StaticFiles) -> None:
    sent = call(app, "/static/nope", method="HEAD")
    assert sent.status == 404
    assert sent.body == b""


def test_missing_file(app: StaticFiles) -> None:
    response = fetch(app, url="/static/nope.txt")
    assert response.status_code == 404
    assert response.text == "Not Found"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert "cache-control" not in response.headers


def test_file_with_trailing_slash_is_not_found(app: StaticFiles) -> None:
    assert call(app, "/static/hello.txt/").status == 404


def test_file_below_a_file_is_not_found(app: StaticFiles) -> None:
    assert call(app, "/static/hello.txt/x").status == 404


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "BREW"])
def test_other_methods_get_405(app: StaticFiles, method: str) -> None:
    sent = call(app, "/static/hello.txt", method=method)
    assert sent.status == 405
    assert sent.header("allow") == "GET, HEAD"
    assert sent.body == b"Method Not Allowed"


def test_unicode_file_name(site: Path, app: StaticFiles) -> None:
    (site / "naïve café.txt").write_text("ok")
    assert fetch(app, url="/static/naïve café.txt").text == "ok"


def test_double_slashes_collapse(app: StaticFiles) -> None:
    assert call(app, "/static//css//site.css").body == b"body{}"


# -- directories and html mode ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["/static/docs", "/static/docs/", "/static/", "/static"])
def test_directories_are_not_found_without_html(app: StaticFiles, path: str) -> None:
    assert call(app, path).status == 404


def test_html_serves_index(site: Path) -> None:
    response = fetch(StaticFiles(site, html=True), url="/static/docs/")
    assert response.status_code == 200
    assert response.text == "<h1>docs</h1>"
    assert response.headers["content-type"] == "text/html; charset=utf-8"


def test_html_serves_root_index(site: Path) -> None:
    (site / "index.html").write_text("home")
    assert fetch(StaticFiles(site, html=True), url="/static/").text == "home"


def test_html_redirects_directory_to_trailing_slash(site: Path) -> None:
    app = StaticFiles(site, html=True)
    sent = call(app, "/static/docs", raw_path=b"/static/docs", query=b"a=1&b=%20x")
    assert sent.status == 308
    assert sent.header("location") == "/static/docs/?a=1&b=%20x"
    assert sent.body == b""


def test_html_redirect_of_mount_root(site: Path) -> None:
    sent = call(StaticFiles(site, html=True), "/static")
    assert sent.status == 308
    assert sent.header("location") == "/static/"


def test_html_redirect_through_httpx(site: Path) -> None:
    response = fetch(StaticFiles(site, html=True), url="/static/docs?x=1")
    assert response.status_code == 308
    assert response.headers["location"] == "/static/docs/?x=1"


def test_html_redirect_keeps_encoding(site: Path) -> None:
    (site / "my docs").mkdir()
    sent = call(StaticFiles(site, html=True), "/static/my docs", raw_path=b"/static/my%20docs")
    assert sent.header("location") == "/static/my%20docs/"
    sent = call(StaticFiles(site, html=True), "/static/my docs")
    assert sent.header("location") == "/static/my%20docs/"


def test_html_redirect_cannot_point_to_another_host(site: Path) -> None:
    (site / "evil.example").mkdir()
    sent = call(StaticFiles(site, html=True), "//evil.example", root_path="")
    assert sent.status == 308
    assert sent.header("location") == "/evil.example/"


def test_html_redirect_escapes_control_bytes(site: Path) -> None:
    sent = call(StaticFiles(site, html=True), "/static/docs", query=b"a=\r\nSet-Cookie:x")
    location = sent.header("location")
    assert location == "/static/docs/?a=%0D%0ASet-Cookie:x"


def test_html_directory_without_index_is_not_found(site: Path) -> None:
    assert call(StaticFiles(site, html=True), "/static/empty/").status == 404


def test_html_serves_404_page(site: Path) -> None:
    (site / "404.html").write_text("<p>lost</p>")
    app = StaticFiles(site, html=True)
    response = fetch(app, url="/static/missing")
    assert response.status_code == 404
    assert response.text == "<p>lost</p>"
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "cache-control" not in response.headers
    assert call(app, "/static/../secret").body == b"<p>lost</p>"
    head = call(app, "/static/missing", method="HEAD")
    assert head.status == 404
    assert head.body == b""


def test_html_without_404_page_falls_back_to_text(site: Path) -> None:
    response = fetch(StaticFiles(site, html=True), url="/static/missing")
    assert response.status_code == 404
    assert response.text == "Not Found"


def test_404_page_is_ignored_without_html(site: Path, app: StaticFiles) -> None:
    (site / "404.html").write_text("<p>lost</p>")
    assert fetch(app, url="/static/missing").text == "Not Found"


# -- staying inside the directory ------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "raw_path", "status"),
    [
        ("/static/../secret", None, 404),
        ("/static/../secret", b"/static/../secret", 404),
        ("/static/../secret", b"/static/%2e%2e/secret", 404),  # decoded by the server
        ("/static/%2e%2e/secret", None, 404),  # not decoded: a literal, missing name
        ("/static/%2e%2e/secret", b"/static/%252e%252e/secret", 404),
        ("/static/../secret", b"/static/..%2fsecret", 404),
        ("/static/..%2fsecret", None, 404),
        ("/static/..%2fsecret", b"/static/..%252fsecret", 404),
        ("/static/css/../../secret", None, 404),
        ("/static/./hello.txt", None, 404),
        ("/static/css/site.css", b"/static/css%2Fsite.css", 404),  # encoded slash
        ("/static/css/site.css", b"/static/css%5Csite.css", 404),  # encoded backslash
        ("/static/hello.txt", b"/static/hello.txt%00", 400),
        ("/static//etc/passwd", None, 404),
        ("/static///etc/passwd", None, 404),
        ("/static/\x00", None, 400),
        ("/static/hello.txt\x00.png", None, 400),
        ("/static/a\\..\\..\\secret", None, 404),
        ("/static/..\\secret", None, 404),
        ("/static/C:/Windows/win.ini", None, 404),
        ("/static/C:\\Windows\\win.ini", None, 404),
        ("/static/hello\r\n.txt", None, 400),
        ("/static/" + "a" * 300, None, 404),
        ("/static/" + "a" * 300 + ".txt", None, 404),
        ("/static/" + "/".join(["d" * 200] * 40), None, 404),  # longer than PATH_MAX
        ("/static/\udcff\ud800", None, 400),  # not encodable as a file name
        ("/static/..", None, 404),
        ("/static/...", None, 404),
    ],
)
def test_traversal_is_refused(
    app: StaticFiles, path: str, raw_path: bytes | None, status: int
) -> None:
    sent = call(app, path, raw_path=raw_path)
    assert sent.status == status
    assert b"secret" not in sent.body
    assert b"root:" not in sent.body


def test_traversal_through_httpx(app: StaticFiles) -> None:
    # httpx keeps percent-encoded dots, and sends raw_path; the server-side decode is simulated
    # by the hand-built scopes above.
    response = fetch(app, url="/static/%2e%2e/secret")
    assert response.status_code == 404
    response = fetch(app, url="/static/..%2fsecret")
    assert response.status_code == 404


@needs_symlinks
def test_symlink_to_outside_is_refused(site: Path, app: StaticFiles) -> None:
    (site / "leak.txt").symlink_to(site.parent / "secret")
    (site / "leakdir").symlink_to(site.parent)
    assert call(app, "/static/leak.txt").status == 404
    assert call(app, "/static/leakdir/secret").status == 404
    assert call(app, "/static/leakdir/static/hello.txt").status == 404


@needs_symlinks
def test_symlink_inside_is_served(site: Path, app: StaticFiles) -> None:
    (site / "alias.txt").symlink_to(site / "hello.txt")
    (site / "styles").symlink_to("css", target_is_directory=True)
    assert call(app, "/static/alias.txt").body == b"hello"
    assert call(app, "/static/styles/site.css").body == b"body{}"


@needs_symlinks
def test_symlink_is_typed_by_requested_name(site: Path, app: StaticFiles) -> None:
    (site / "blob").write_text("x=1")
    (site / "app.js").symlink_to(site / "blob")
    sent = call(app, "/static/app.js")
    assert sent.header("content-type") == "text/javascript; charset=utf-8"


@needs_symlinks
def test_follow_symlinks_allows_outside(site: Path) -> None:
    (site / "shared.txt").symlink_to(site.parent / "secret")
    app = StaticFiles(site, follow_symlinks=True)
    assert call(app, "/static/shared.txt").body == b"top secret"
    assert call(app, "/static/../secret").status == 404
    assert call(app, "/static/nope").status == 404


@needs_symlinks
def test_symlinked_root_directory(site: Path, tmp_path: Path) -> None:
    link = tmp_path / "public"
    link.symlink_to(site, target_is_directory=True)
    app = StaticFiles(link)
    assert call(app, "/static/hello.txt").body == b"hello"


@needs_symlinks
def test_symlink_loop_is_not_found(site: Path, app: StaticFiles) -> None:
    (site / "loop").symlink_to(site / "loop")
    assert call(app, "/static/loop").status == 404


@needs_symlinks
def test_dangling_symlink_is_not_found(site: Path, app: StaticFiles) -> None:
    (site / "gone").symlink_to(site / "never-there")
    assert call(app, "/static/gone").status == 404


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_is_not_found(site: Path, app: StaticFiles) -> None:
    os.mkfifo(site / "pipe")
    assert call(app, "/static/pipe").status == 404


def test_unreadable_file_is_not_found(
    site: Path, app: StaticFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    def denied(path: str, flags: int, mode: int = 0o777) -> int:
        raise PermissionError(13, "Permission denied", path)

    # chmod cannot stop root (tests may run as root), so refuse the open itself.
    monkeypatch.setattr(os, "open", denied)
    sent = call(app, "/static/hello.txt")
    assert sent.status == 404
    assert sent.body == b"Not Found"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("", []),
        ("/", []),
        ("/a/b.txt", ["a", "b.txt"]),
        ("//a//b/", ["a", "b"]),
        ("a", None),
        ("/a/../b", None),
        ("/./a", None),
        ("/a\\b", None),
    ],
)
def test_split_path(path: str, expected: list[str] | None) -> None:
    assert split_path(path, windows=False) == expected


@pytest.mark.parametrize(
    "path",
    [
        "/C:",
        "/C:/Windows",
        "/c:x",
        "/a.txt::$DATA",
        "/secret.txt.",
        "/secret.txt ",
        "/CON",
        "/con.txt",
        "/sub/NUL",
        "/Com1.log",
        "/LPT9",
    ],
)
def test_split_path_refuses_windows_tricks(path: str) -> None:
    assert split_path(path, windows=True) is None


def test_split_path_allows_ordinary_names_on_windows() -> None:
    assert split_path("/console.txt/icon.png", windows=True) == ["console.txt", "icon.png"]


# -- set-up and other scopes -----------------------------------------------------------------


def test_missing_directory_fails_at_start_up(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="does not exist"):
        StaticFiles(tmp_path / "missing")


def test_file_as_directory_fails_at_start_up(site: Path) -> None:
    with pytest.raises(RuntimeError, match="does not exist"):
        StaticFiles(site / "hello.txt")


def test_unchecked_directory_may_appear_later(tmp_path: Path) -> None:
    directory = tmp_path / "later"
    app = StaticFiles(directory, check_dir=False)
    assert call(app, "/static/a.txt").status == 404
    directory.mkdir()
    (directory / "a.txt").write_text("late")
    assert call(app, "/static/a.txt").body == b"late"


def test_relative_directory(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(site.parent)
    app = StaticFiles("static")
    monkeypatch.chdir("/")
    assert call(app, "/static/hello.txt").body == b"hello"


def test_websocket_is_closed(app: StaticFiles) -> None:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app({"type": "websocket", "path": "/static/x"}, receive, send))
    assert sent == [{"type": "websocket.close", "code": 1008}]


def test_lifespan_completes(app: StaticFiles) -> None:
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app({"type": "lifespan"}, receive, send))
    assert sent == [{"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]


def test_unknown_scope_type_raises(app: StaticFiles) -> None:
    async def receive() -> Message:
        raise AssertionError("not called")

    async def send(message: Message) -> None:
        raise AssertionError("not called")

    with pytest.raises(ValueError, match="cannot handle"):
        asyncio.run(app({"type": "telepathy"}, receive, send))


@needs_symlinks
def test_follow_symlinks_serves_index_through_symlink(site: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.html"
    elsewhere.write_text("<p>linked</p>")
    (site / "empty" / "index.html").symlink_to(elsewhere)
    assert call(StaticFiles(site, html=True), "/static/empty/").status == 404
    linked = call(StaticFiles(site, html=True, follow_symlinks=True), "/static/empty/")
    assert linked.body == b"<p>linked</p>"


def test_directory_removed_after_start_up(tmp_path: Path) -> None:
    directory = tmp_path / "gone"
    directory.mkdir()
    app = StaticFiles(directory, html=True)
    directory.rmdir()
    assert call(app, "/static/").status == 404
    assert call(app, "/static/a.txt").status == 404


def test_html_redirect_when_path_excludes_root_path(site: Path) -> None:
    sent = call(StaticFiles(site, html=True), "/docs")
    assert sent.header("location") == "/static/docs/"


def test_lifespan_ignores_unknown_messages(app: StaticFiles) -> None:
    incoming = [{"type": "lifespan.future"}, {"type": "lifespan.shutdown"}]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app({"type": "lifespan"}, receive, send))
    assert sent == [{"type": "lifespan.shutdown.complete"}]


# -- mounted in an App -----------------------------------------------------------------------


def test_mounted_with_app_static(site: Path) -> None:
    from brace import App
    from brace.testing import TestClient

    app = App()
    app.static("/static", site, html=True)
    assert app.url_for("static", path="css/site.css") == "/static/css/site.css"
    with TestClient(app) as client:  # entering runs the lifespan, mounts included
        assert client.get("/static/css/site.css").text == "body{}"
        assert client.get("/static/docs/").text == "<h1>docs</h1>"
        redirect = client.get("/static/docs?page=2")
        assert redirect.status_code == 308
        assert redirect.headers["location"] == "/static/docs/?page=2"
        # The client decodes %2e%2e into `path` as servers do, keeping it in raw_path.
        assert client.get("/static/%2e%2e/secret").status_code == 404
        assert client.get("/static/css%2f..%2f..%2fsecret").status_code == 404
        assert client.delete("/static/css/site.css").status_code == 405
