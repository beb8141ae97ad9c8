"""Hostile form input against a real uvicorn server: every refusal is a clean 4xx (never a
500), no temporary file is left on disk or open, and the server keeps serving afterwards.

uvicorn runs in a thread of this process (like the `serve` fixture, but one server for the
module), so `/proc/<our pid>/fd` shows the server's open files: a spooled upload that is never
closed shows up there as a deleted temporary file. `tempfile.tempdir` points at a private
directory while the module runs, so a file the server leaves behind is seen without noise from
other processes. An upload dropped without being closed also fails the test that caused it: its
ResourceWarning is an error under the project's `filterwarnings = ["error"]`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import socket
import tempfile
import threading
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import msgspec
import pytest

from brace import App, Form, Request, UploadFile

pytest.importorskip("python_multipart")

pytestmark = pytest.mark.server

MiB = 1024 * 1024
GiB = 1024 * MiB
BOUNDARY = b"brace-b0undary"
MULTIPART = b"multipart/form-data; boundary=" + BOUNDARY
URLENCODED = b"application/x-www-form-urlencoded"
PROC_FD = Path(f"/proc/{os.getpid()}/fd")


# -- the app --------------------------------------------------------------------------------


class Entry(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(min_length=2, max_length=40)]
    age: int | None = None
    tags: list[str] = []


def make_app() -> App:
    """`app.state.uploads` is where `/upload` saves: a fresh directory for each test."""
    app = App()

    @app.get("/health")
    async def health() -> str:
        return "ok"

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, list[object]]:
        form = await request.form()
        out: dict[str, list[object]] = {}
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                digest = hashlib.sha256()
                while chunk := await value.read(256 * 1024):
                    digest.update(chunk)
                item: object = {
                    "filename": value.filename,
                    "raw_filename": value.raw_filename,
                    "size": value.size,
                    "in_memory": value.in_memory,
                    "sha256": digest.hexdigest(),
                }
            else:
                item = value
            out.setdefault(key, []).append(item)
        return out

    @app.post("/upload")
    async def upload(upload: UploadFile) -> dict[str, object]:
        path = await upload.save(app.state.uploads)
        return {
            "filename": upload.filename,
            "raw_filename": upload.raw_filename,
            "path": str(path),
            "size": upload.size,
            "in_memory": upload.in_memory,
        }

    @app.post("/entries", status_code=201)
    async def entries(entry: Annotated[Entry, Form()]) -> Entry:
        return entry

    return app


# -- the server and what it leaves behind ---------------------------------------------------


class _ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def text(self) -> str:
        formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
        return "\n".join(formatter.format(record) for record in self.records)


@dataclasses.dataclass
class Server:
    url: str
    port: int
    root: Path
    uploads: Path
    temp_dir: Path
    errors: _ErrorLog


@dataclasses.dataclass(frozen=True)
class Snapshot:
    temp_files: frozenset[str]
    deleted_fds: frozenset[tuple[str, str]]
    outside_uploads: frozenset[Path]


WATCHED_LOGGERS = ("uvicorn.error", "brace", "asyncio")


@dataclasses.dataclass
class Running:
    app: App
    url: str
    temp_dir: Path
    errors: _ErrorLog


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """One uvicorn for the module, as the `serve` fixture runs it (in a thread, loopback): a
    server per test would spend most of the run starting and stopping."""
    import uvicorn

    if not PROC_FD.is_dir():
        pytest.skip("needs /proc/<pid>/fd (Linux)")
    temp_dir = tmp_path_factory.mktemp("spool")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tempfile, "tempdir", str(temp_dir))
        app = make_app()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", loop="asyncio", lifespan="on"
        )
        uv = uvicorn.Server(config)
        thread = threading.Thread(target=uv.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not uv.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        # uvicorn configures its loggers when it starts: attach afterwards, or it drops ours.
        errors = _ErrorLog()
        for name in WATCHED_LOGGERS:
            logging.getLogger(name).addHandler(errors)
        try:
            yield Running(app, f"http://127.0.0.1:{port}", temp_dir, errors)
        finally:
            for name in WATCHED_LOGGERS:
                logging.getLogger(name).removeHandler(errors)
            uv.should_exit = True
            thread.join(timeout=10)


@pytest.fixture
def server(running: Running, tmp_path: Path) -> Server:
    uploads = tmp_path / "sandbox" / "uploads"
    uploads.mkdir(parents=True)
    running.app.state.uploads = uploads
    running.errors.records.clear()
    url = running.url
    return Server(
        url, int(url.rsplit(":", 1)[1]), tmp_path, uploads, running.temp_dir, running.errors
    )


def deleted_fds() -> frozenset[tuple[str, str]]:
    """Open file descriptors of this process that point at a deleted file."""
    found = set()
    for fd in os.listdir(PROC_FD):
        with contextlib.suppress(OSError):
            target = os.readlink(PROC_FD / fd)
            if target.endswith(" (deleted)"):
                found.add((fd, target))
    return frozenset(found)


def snapshot(server: Server) -> Snapshot:
    outside = frozenset(
        path
        for path in server.root.rglob("*")
        if path != server.uploads and server.uploads not in path.parents
    )
    return Snapshot(frozenset(os.listdir(tempfile.gettempdir())), deleted_fds(), outside)


def wait_for_spooled_file(server: Server, before: Snapshot, timeout: float = 5.0) -> None:
    """Wait until the server has moved an upload to an (anonymous) temporary file."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(target.startswith(str(server.temp_dir)) for _, target in deleted_fds()):
            return
        time.sleep(0.01)
    pytest.fail(f"the upload was never spooled to a temporary file: {deleted_fds()}")


def assert_clean(server: Server, before: Snapshot) -> None:
    """Nothing left open or on disk, nothing logged as an error, and the server still serves."""
    deadline = time.monotonic() + 3
    leaked = deleted_fds() - before.deleted_fds
    while leaked and time.monotonic() < deadline:
        time.sleep(0.02)
        leaked = deleted_fds() - before.deleted_fds
    assert not leaked, f"temporary files still open after the response: {sorted(leaked)}"
    after = snapshot(server)
    assert after.temp_files == before.temp_files, "new files in the temporary directory"
    assert after.outside_uploads == before.outside_uploads, "files written outside the uploads"
    assert not server.errors.records, server.errors.text()
    assert exchange(server.port, request_head("GET", "/health")).status == 200
    entry = exchange(server.port, post_head("/entries", URLENCODED, 8), b"name=Ada")
    assert entry.status == 201, entry.body
    assert entry.json() == {"name": "Ada", "age": None, "tags": []}
    assert not server.errors.records, server.errors.text()


# -- raw HTTP -------------------------------------------------------------------------------


@dataclasses.dataclass
class Reply:
    status: int | None  # None: the connection ended (or timed out) without an answer
    headers: dict[str, str]
    body: bytes
    raw: bytes
    elapsed: float

    def json(self) -> Any:
        return json.loads(self.body)


def request_head(method: str, path: str, headers: bytes = b"") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode() + headers + b"\r\n"


def post_head(
    path: str, content_type: bytes | None, length: int | None, extra: bytes = b""
) -> bytes:
    headers = b""
    if content_type is not None:
        headers += b"Content-Type: " + content_type + b"\r\n"
    if length is not None:
        headers += b"Content-Length: %d\r\n" % length
    return request_head("POST", path, headers + extra)


def _send(sock: socket.socket, data: bytes, stop: threading.Event) -> None:
    view = memoryview(data)
    with contextlib.suppress(OSError):
        for start in range(0, len(view), 256 * 1024):
            if stop.is_set():
                return
            sock.sendall(view[start : start + 256 * 1024])


def _complete(raw: bytes) -> bool:
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        return False
    if head.startswith(b"HTTP/1.1 1"):  # an interim answer (100 Continue): keep reading
        return _complete(body)
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def _read_response(sock: socket.socket) -> bytes:
    chunks: list[bytes] = []
    with contextlib.suppress(TimeoutError, ConnectionResetError):
        while not _complete(b"".join(chunks)):
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def _parse(raw: bytes, elapsed: float) -> Reply:
    data = raw
    while data.startswith(b"HTTP/1.1 1") and b"\r\n\r\n" in data:
        data = data.partition(b"\r\n\r\n")[2]  # skip interim answers
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return Reply(None, {}, b"", raw, elapsed)
    lines = head.split(b"\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
    return Reply(int(lines[0].split(b" ", 2)[1]), headers, body, raw, elapsed)


def exchange(port: int, head: bytes, body: bytes = b"", *, timeout: float = 10.0) -> Reply:
    """Send a request (from a thread, so an early answer is read while the body still goes
    out) and read one response. The connection stays keep-alive: the server need not close it
    on a half-read body, which could reset the connection before its answer is read."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        stop = threading.Event()
        sender = threading.Thread(target=_send, args=(sock, head + body, stop), daemon=True)
        sender.start()
        try:
            raw = _read_response(sock)
        finally:
            stop.set()
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sender.join(timeout=5)
    return _parse(raw, time.monotonic() - start)


def post(port: int, path: str, content_type: bytes | None, body: bytes) -> Reply:
    return exchange(port, post_head(path, content_type, len(body)), body)


# -- multipart bodies -----------------------------------------------------------------------


def part(
    name: bytes, value: bytes, filename: bytes | None = None, content_type: bytes | None = None
) -> bytes:
    headers = b'Content-Disposition: form-data; name="' + name + b'"'
    if filename is not None:
        headers += b'; filename="' + filename + b'"'
    headers += b"\r\n"
    if content_type is not None:
        headers += b"Content-Type: " + content_type + b"\r\n"
    return headers + b"\r\n" + value


def multipart(*parts: bytes, boundary: bytes = BOUNDARY, closed: bool = True) -> bytes:
    body = b"".join(b"--" + boundary + b"\r\n" + p + b"\r\n" for p in parts)
    return body + (b"--" + boundary + b"--\r\n" if closed else b"")


def assert_refused(reply: Reply, status: int, detail: str | None = None) -> None:
    assert reply.status == status, (reply.status, reply.body[:500])
    assert reply.headers.get("content-type", "").startswith("application/problem+json")
    if detail is not None:
        assert detail in reply.json()["detail"]


# -- truncated bodies and clients that go away ----------------------------------------------

FILE_2MIB = os.urandom(2 * MiB)  # over the 1 MiB spool size: lands in a temporary file
FULL = multipart(part(b"title", b"hello"), part(b"upload", FILE_2MIB, b"big.bin"))


@pytest.mark.parametrize("path", ["/echo", "/upload", "/entries"])
@pytest.mark.parametrize(
    "body",
    [
        FULL[: len(FULL) * 3 // 4],  # in the middle of the file, after it was spooled
        FULL[: -len(b"--" + BOUNDARY + b"--\r\n")],  # every part, no closing boundary
        FULL[:-4],  # "--boundary-" : the closing boundary itself is cut
        multipart(part(b"title", b"hello"))[:40],  # inside the part headers
    ],
    ids=["mid-file", "no-closing-boundary", "cut-closing-boundary", "mid-headers"],
)
def test_truncated_multipart_answers_400(server: Server, path: str, body: bytes) -> None:
    before = snapshot(server)
    reply = post(server.port, path, MULTIPART, body)
    assert_refused(reply, 400)
    assert_clean(server, before)


def test_truncated_multipart_then_half_closed(server: Server) -> None:
    """The whole (truncated) body arrives, then the client shuts its side: an answer, if one
    still gets out, is a 400; either way nothing stays open."""
    before = snapshot(server)
    body = FULL[: -len(b"--" + BOUNDARY + b"--\r\n")]
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(post_head("/echo", MULTIPART, len(body)) + body)
        sock.shutdown(socket.SHUT_WR)
        reply = _parse(_read_response(sock), 0)
    assert reply.status in (None, 400)
    assert_clean(server, before)


@pytest.mark.parametrize("path", ["/echo", "/upload"])
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
@pytest.mark.parametrize("spooled", [True, False], ids=["spooled", "in-memory"])
def test_client_disconnecting_mid_upload(
    server: Server, path: str, framing: str, spooled: bool
) -> None:
    """The client promises more than it sends, then closes the socket mid-file."""
    before = snapshot(server)
    sent = FULL[: len(FULL) * 3 // 4] if spooled else FULL[:10_000]  # 1.5 MiB of file or 10 kB
    if framing == "content-length":
        head = post_head(path, MULTIPART, 5 * MiB)
        data = sent
    else:
        head = post_head(path, MULTIPART, None, b"Transfer-Encoding: chunked\r\n")
        data = b"".join(
            b"%x\r\n" % len(sent[i : i + 65536]) + sent[i : i + 65536] + b"\r\n"
            for i in range(0, len(sent), 65536)
        )
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(head + data)
        if spooled:
            wait_for_spooled_file(server, before)
        else:
            time.sleep(0.2)
    assert_clean(server, before)


# -- Content-Type, field counts, sizes ------------------------------------------------------


@pytest.mark.parametrize("path", ["/echo", "/upload", "/entries"])
@pytest.mark.parametrize(
    "content_type",
    [
        b"multipart/form-data",
        b"multipart/form-data; boundary=",
        b'multipart/form-data; boundary=""',
        b"multipart/form-data; charset=utf-8",
        b"multipart/form-data; bound=" + BOUNDARY,
        b"multipart/form-data; boundary=" + b"b" * 201,
        b"multipart/form-data; boundary=another-one",  # not the one the body uses
    ],
)
def test_multipart_without_a_usable_boundary_answers_400(
    server: Server, path: str, content_type: bytes
) -> None:
    before = snapshot(server)
    body = multipart(part(b"name", b"Ada"), part(b"upload", b"data", b"a.txt"))
    assert_refused(post(server.port, path, content_type, body), 400)
    assert_clean(server, before)


MANY_URLENCODED = b"name=Ada&" + b"&".join(b"f%d=v" % i for i in range(10_000))
MANY_MULTIPART = multipart(part(b"name", b"Ada"), *(part(b"f%d" % i, b"v") for i in range(10_000)))
MANY_FILES = multipart(*(part(b"f%d" % i, b"x", b"f%d.txt" % i) for i in range(10_000)))


@pytest.mark.parametrize("path", ["/echo", "/upload", "/entries"])
@pytest.mark.parametrize(
    ("content_type", "body", "detail"),
    [
        (URLENCODED, MANY_URLENCODED, "more than 1000 fields"),
        (MULTIPART, MANY_MULTIPART, "more than 1000 fields"),
        (MULTIPART, MANY_FILES, "more than 100 files"),
    ],
    ids=["urlencoded", "multipart", "multipart-files"],
)
def test_ten_thousand_fields_answer_400(
    server: Server, path: str, content_type: bytes, body: bytes, detail: str
) -> None:
    before = snapshot(server)
    assert_refused(post(server.port, path, content_type, body), 400, detail)
    assert_clean(server, before)


@pytest.mark.parametrize("path", ["/echo", "/upload", "/entries"])
@pytest.mark.parametrize("content_type", [URLENCODED, MULTIPART], ids=["urlencoded", "multipart"])
@pytest.mark.parametrize("expect_continue", [False, True], ids=["body", "expect-100"])
def test_one_gib_declared_answers_413_without_reading(
    server: Server, path: str, content_type: bytes, expect_continue: bool
) -> None:
    before = snapshot(server)
    extra = b"Expect: 100-continue\r\n" if expect_continue else b""
    head = post_head(path, content_type, GiB, extra)
    little = b"" if expect_continue else multipart(part(b"name", b"Ada"), closed=False)
    reply = exchange(server.port, head, little, timeout=5)
    assert_refused(reply, 413)
    assert reply.elapsed < 2, f"answered after {reply.elapsed:.1f}s"
    if expect_continue:  # refused before asking for the body
        assert reply.raw.startswith(b"HTTP/1.1 413"), reply.raw[:100]
    assert_clean(server, before)


def test_chunked_urlencoded_over_the_body_limit_answers_413(server: Server) -> None:
    before = snapshot(server)
    head = post_head("/echo", URLENCODED, None, b"Transfer-Encoding: chunked\r\n")
    chunk = b"a=" + b"x" * (64 * 1024 - 2)
    body = (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * 40 + b"0\r\n\r\n"  # 2.5 MiB > 1 MiB
    assert_refused(exchange(server.port, head, body), 413)
    assert_clean(server, before)


# -- file names ------------------------------------------------------------------------------


HOSTILE_FILENAMES = {
    "dotdot-slash": b"../../escape.txt",
    "dotdot-backslash": b"..\\..\\escape.txt",
    "absolute": b"/etc/passwd",
    "windows-drive": b"C:\\Windows\\system32\\escape.txt",
    "nul-inside": b"a\x00b.txt",
    "nul-after-dots": b"../\x00../escape.txt",
    "only-nul": b"\x00",
    "dotdot": b"..",
    "dot": b".",
    "dot-space-dotdot": b". ..",
    "dot-space-dot": b". .",
    "space-dotdot": b" ..",
    "hidden": b".htaccess",
    "many-dots": b"." * 300,
    "very-long": b"a" * 1000 + b".txt",
    "very-long-cut-at-a-dot": b"a" * 254 + b". " + b"b" * 20,  # no short extension to keep
    "very-long-cut-at-a-space": b"x" * 250 + b" " * 10 + b"y" * 5,
    "percent-encoded": b"..%2f..%2fescape.txt",
    "invalid-utf8": b"\xff\xfe.txt",
    "control-chars": b"a\x01\x1b[31mb\x7f.txt",
    "bidi-override": "evil\u202etxt.exe".encode(),
    "quote-injection": b'a"; filename="../../escape.txt',
    "crlf-injection": b"a\r\nX-Evil: 1\r\n\r\n../escape.txt",
}


def _assert_safe_name(name: str) -> None:
    assert name not in ("", ".", ".."), name
    assert not name.startswith((".", " ")), name
    assert not name.endswith((".", " ")), name  # as `safe_filename` promises (Windows)
    assert "/" not in name and "\\" not in name, name
    assert all(unicodedata.category(ch)[0] != "C" for ch in name), name
    assert len(name.encode()) <= 255, name


@pytest.mark.parametrize("raw", list(HOSTILE_FILENAMES.values()), ids=list(HOSTILE_FILENAMES))
def test_hostile_filenames_never_leave_the_upload_directory(server: Server, raw: bytes) -> None:
    before = snapshot(server)
    content = b"payload for " + raw
    reply = post(
        server.port, "/upload", MULTIPART, multipart(part(b"upload", content, raw, b"text/plain"))
    )
    assert reply.status in (200, 400), (reply.status, reply.body[:500])
    saved = sorted(server.uploads.iterdir())
    if reply.status == 200:
        data = reply.json()
        _assert_safe_name(data["filename"])
        path = Path(data["path"])
        assert path.resolve().parent == server.uploads.resolve(), path
        assert saved == [server.uploads / data["filename"]]
        assert saved[0].read_bytes().endswith(content)  # CRLF injection: the rest is content
    else:
        assert saved == []
    # The same name through `request.form()`: the same safe `filename`, or the same refusal.
    echo = post(server.port, "/echo", MULTIPART, multipart(part(b"upload", content, raw)))
    assert echo.status == reply.status
    if echo.status == 200:
        assert echo.json()["upload"][0]["filename"] == reply.json()["filename"]
    assert not (server.root / "escape.txt").exists()
    assert not (server.root / "sandbox" / "escape.txt").exists()
    assert_clean(server, before)


# -- invalid UTF-8 ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/echo", "/entries"])
@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (URLENCODED, b"name=Ada&na\xffme=x"),
        (URLENCODED, b"name=\xff\xfe"),
        (URLENCODED, b"name=%ff%fe"),
        (URLENCODED, b"%C0%AF=x&name=Ada"),  # overlong "/"
        (URLENCODED, b"name=%ed%a0%80"),  # an encoded surrogate
        (MULTIPART, multipart(part(b"name", b"Ada"), part(b"na\xffme", b"x"))),
        (MULTIPART, multipart(part(b"name", b"A\xff\xfeda"))),
        (MULTIPART, multipart(part(b"name", b"\xed\xa0\x80"))),
        (MULTIPART, multipart(part(b"name", b"Ada"), part(b"f\xff", b"data", b"a.txt"))),
    ],
    ids=[
        "urlencoded-raw-name",
        "urlencoded-raw-value",
        "urlencoded-escaped-value",
        "urlencoded-overlong-name",
        "urlencoded-surrogate",
        "multipart-name",
        "multipart-value",
        "multipart-surrogate",
        "multipart-file-field-name",
    ],
)
def test_invalid_utf8_answers_400(
    server: Server, path: str, content_type: bytes, body: bytes
) -> None:
    before = snapshot(server)
    assert_refused(post(server.port, path, content_type, body), 400, "UTF-8")
    assert_clean(server, before)


# -- big uploads -----------------------------------------------------------------------------


def test_big_upload_is_spooled_saved_and_closed(server: Server) -> None:
    before = snapshot(server)
    data = os.urandom(5 * 1000 * 1000)  # 5 MB: well over the 1 MiB spool size
    with httpx.Client(base_url=server.url, timeout=30) as client:
        saved = client.post("/upload", files={"upload": ("big.bin", data, "image/png")})
        echoed = client.post("/echo", data={"title": "big"}, files={"upload": ("../big.bin", data)})
    assert saved.status_code == 200, saved.text
    assert saved.json()["size"] == len(data)
    assert saved.json()["in_memory"] is False  # it really went through a temporary file
    assert Path(saved.json()["path"]) == server.uploads / "big.bin"
    assert (server.uploads / "big.bin").read_bytes() == data
    assert echoed.status_code == 200, echoed.text
    assert echoed.json() == {
        "title": ["big"],
        "upload": [
            {
                "filename": "big.bin",
                "raw_filename": "../big.bin",
                "size": len(data),
                "in_memory": False,
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        ],
    }
    assert_clean(server, before)


@pytest.mark.parametrize("path", ["/echo", "/upload"])
def test_upload_over_max_file_size_answers_413(server: Server, path: str) -> None:
    before = snapshot(server)
    body = multipart(part(b"upload", b"\0" * (10 * MiB + 1), b"huge.bin"))  # max 10 MiB
    reply = post(server.port, path, MULTIPART, body)
    assert_refused(reply, 413, "'upload' is larger than")
    assert list(server.uploads.iterdir()) == []
    assert_clean(server, before)
