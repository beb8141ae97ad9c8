"""FileResponse: validators, conditional requests, byte ranges, HEAD and failure modes."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from typing import Any

import httpx
import pytest

from brace.core import file_response
from brace.core.file_response import (
    CHUNK_SIZE,
    FileResponse,
    content_disposition,
    guess_media_type,
    parse_range,
)
from brace.types import ASGIApp, Message

CONTENT = b"0123456789abcdefghij"  # 20 bytes: ranges are easy to read in the assertions


def fetch(
    app: ASGIApp, method: str = "GET", url: str = "/", headers: dict[str, str] | None = None
) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.request(method, url, headers=headers)

    return asyncio.run(go())


@dataclass
class Sent:
    """Every message an app sent, for checks httpx would hide."""

    messages: list[Message] = field(default_factory=list)

    @property
    def status(self) -> int:
        return int(self.messages[0]["status"])

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        return list(self.messages[0]["headers"])

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name.encode():
                return value.decode("latin-1")
        return None

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages[1:])

    @property
    def complete(self) -> bool:
        last = self.messages[-1]
        return last["type"] == "http.response.body" and not last.get("more_body", False)


def scope_for(method: str = "GET", headers: Iterable[tuple[str, str]] = ()) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode("latin-1")) for k, v in headers],
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 50000),
    }


async def _never() -> Message:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


async def call_async(app: ASGIApp, scope: dict[str, Any]) -> Sent:
    sent = Sent()
    first = True

    async def receive() -> Message:
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": b"", "more_body": False}
        return await _never()

    async def send(message: Message) -> None:
        sent.messages.append(message)

    await app(scope, receive, send)
    return sent


def call(app: ASGIApp, method: str = "GET", headers: Iterable[tuple[str, str]] = ()) -> Sent:
    return asyncio.run(call_async(app, scope_for(method, headers)))


@pytest.fixture
def text_file(tmp_path: Path) -> Path:
    path = tmp_path / "data.txt"
    path.write_bytes(CONTENT)
    return path


# -- plain sending ---------------------------------------------------------------------------


def test_sends_file_with_validators(text_file: Path) -> None:
    response = fetch(FileResponse(text_file))
    assert response.status_code == 200
    assert response.content == CONTENT
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["content-length"] == str(len(CONTENT))
    assert response.headers["accept-ranges"] == "bytes"
    stat = text_file.stat()
    assert response.headers["etag"] == f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
    assert response.headers["last-modified"] == formatdate(stat.st_mtime, usegmt=True)
    assert "content-disposition" not in response.headers


def test_etag_changes_when_file_changes(text_file: Path) -> None:
    before = fetch(FileResponse(text_file)).headers["etag"]
    text_file.write_bytes(CONTENT + b"more")
    assert fetch(FileResponse(text_file)).headers["etag"] != before


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.bin"
    path.write_bytes(b"")
    response = fetch(FileResponse(path))
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == "0"


def test_large_file_is_sent_in_chunks(tmp_path: Path) -> None:
    data = os.urandom(CHUNK_SIZE * 3 + 123)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    sent = call(FileResponse(path))
    assert sent.status == 200
    assert sent.body == data
    assert sent.complete
    bodies = [m for m in sent.messages if m["type"] == "http.response.body"]
    assert all(len(m["body"]) <= CHUNK_SIZE for m in bodies)
    assert len(bodies) == 4


def test_range_across_chunk_boundary(tmp_path: Path) -> None:
    data = os.urandom(CHUNK_SIZE * 2 + 10)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    start, end = CHUNK_SIZE - 5, CHUNK_SIZE * 2 + 2
    response = fetch(FileResponse(path), headers={"range": f"bytes={start}-{end}"})
    assert response.status_code == 206
    assert response.content == data[start : end + 1]
    assert response.headers["content-range"] == f"bytes {start}-{end}/{len(data)}"


def test_accepts_str_path(text_file: Path) -> None:
    response = FileResponse(str(text_file))
    assert response.path == str(text_file)
    assert fetch(response).content == CONTENT


def test_custom_status_skips_conditions(text_file: Path) -> None:
    etag = fetch(FileResponse(text_file)).headers["etag"]
    response = fetch(
        FileResponse(text_file, status_code=404),
        headers={"if-none-match": etag, "range": "bytes=0-1"},
    )
    assert response.status_code == 404
    assert response.content == CONTENT


def test_post_gets_whole_file_without_conditions(text_file: Path) -> None:
    etag = fetch(FileResponse(text_file)).headers["etag"]
    response = fetch(
        FileResponse(text_file), "POST", headers={"if-none-match": etag, "range": "bytes=0-1"}
    )
    assert response.status_code == 200
    assert response.content == CONTENT


def test_cookies_are_sent(text_file: Path) -> None:
    response = FileResponse(text_file)
    response.set_cookie("seen", "1")
    sent = call(response)
    assert sent.header("set-cookie") is not None
    assert "seen=1" in (sent.header("set-cookie") or "")


def test_user_headers_are_kept(text_file: Path) -> None:
    response = fetch(FileResponse(text_file, headers={"Cache-Control": "no-store", "X-A": "b"}))
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-a"] == "b"


def test_user_content_length_is_replaced(text_file: Path) -> None:
    response = FileResponse(text_file, headers={"content-length": "999"})
    sent = call(response)
    assert [v for k, v in sent.headers if k == b"content-length"] == [b"20"]


# -- media types -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("site.css", "text/css"),
        ("app.js", "text/javascript"),
        ("mod.mjs", "text/javascript"),
        ("index.html", "text/html"),
        ("logo.PNG", "image/png"),
        ("font.woff2", "font/woff2"),
        ("data.json", "application/json"),
        ("mystery.zzzunknown", "application/octet-stream"),
        ("noextension", "application/octet-stream"),
        ("site.css.gz", "application/gzip"),
        ("archive.tar.gz", "application/gzip"),
        ("data:text/html,<script>", "application/octet-stream"),
        ("dir/sub/page.html", "text/html"),
    ],
)
def test_guess_media_type(name: str, expected: str) -> None:
    assert guess_media_type(name) == expected


def test_content_type_of_text_gets_charset(tmp_path: Path) -> None:
    path = tmp_path / "app.js"
    path.write_text("1;")
    assert fetch(FileResponse(path)).headers["content-type"] == "text/javascript; charset=utf-8"


def test_content_type_of_binary_has_no_charset(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    path.write_bytes(b"\x00\x01")
    assert fetch(FileResponse(path)).headers["content-type"] == "application/octet-stream"


def test_explicit_media_type_wins(text_file: Path) -> None:
    response = fetch(FileResponse(text_file, media_type="application/x-custom"))
    assert response.headers["content-type"] == "application/x-custom"


def test_media_type_guessed_from_filename(tmp_path: Path) -> None:
    path = tmp_path / "upload-4f2a"
    path.write_bytes(b"%PDF")
    response = fetch(FileResponse(path, filename="report.pdf"))
    assert response.headers["content-type"] == "application/pdf"


# -- Content-Disposition ---------------------------------------------------------------------


def test_content_disposition_ascii(text_file: Path) -> None:
    response = fetch(FileResponse(text_file, filename="report.txt"))
    assert response.headers["content-disposition"] == 'attachment; filename="report.txt"'


def test_content_disposition_non_ascii(text_file: Path) -> None:
    response = fetch(FileResponse(text_file, filename="résumé 报告.pdf"))
    assert response.headers["content-disposition"] == (
        'attachment; filename="resume __.pdf"; '
        "filename*=UTF-8''r%C3%A9sum%C3%A9%20%E6%8A%A5%E5%91%8A.pdf"
    )


def test_content_disposition_cannot_inject_headers(text_file: Path) -> None:
    hostile = 'a"; filename="evil.exe\r\nSet-Cookie: x=1\\.txt'
    sent = call(FileResponse(text_file, filename=hostile))
    value = sent.header("content-disposition")
    assert value is not None
    assert value.isascii()
    assert not any(ch in value for ch in "\r\n")
    fallback = value.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback == "a_; filename=_evil.exe__Set-Cookie: x=1_.txt"
    assert value.endswith(
        "filename*=UTF-8''a%22%3B%20filename%3D%22evil.exe%0D%0ASet-Cookie%3A%20x%3D1%5C.txt"
    )
    assert sent.header("set-cookie") is None


def test_content_disposition_inline(text_file: Path) -> None:
    response = fetch(FileResponse(text_file, filename="a.txt", content_disposition_type="inline"))
    assert response.headers["content-disposition"] == 'inline; filename="a.txt"'


def test_content_disposition_rejects_bad_type(text_file: Path) -> None:
    with pytest.raises(ValueError, match="disposition type"):
        FileResponse(text_file, filename="a.txt", content_disposition_type="inline\r\nX: y")


def test_content_disposition_keeps_rfc5987_attr_chars() -> None:
    value = content_disposition("attachment", "a!#$&+^`|~é")
    assert value.endswith("filename*=UTF-8''a!#$&+^`|~%C3%A9")


def test_content_disposition_escapes_percent_and_slashes() -> None:
    value = content_disposition("attachment", "100%/b\\c.txt")
    assert value.startswith('attachment; filename="100__b_c.txt"; ')
    assert value.endswith("filename*=UTF-8''100%25%2Fb%5Cc.txt")


def test_content_disposition_survives_surrogates() -> None:
    value = content_disposition("attachment", "bad\udcff.txt")
    assert value.isascii()


# -- conditional requests ---------------------------------------------------------------------


def _validators(path: Path) -> tuple[str, str]:
    response = fetch(FileResponse(path))
    return response.headers["etag"], response.headers["last-modified"]


def test_if_none_match_gives_304(text_file: Path) -> None:
    etag, _ = _validators(text_file)
    response = FileResponse(text_file, headers={"cache-control": "public, max-age=60"})
    sent = call(response, headers=[("if-none-match", etag)])
    assert sent.status == 304
    assert sent.body == b""
    assert sent.header("etag") == etag
    assert sent.header("cache-control") == "public, max-age=60"
    assert sent.header("content-length") is None
    assert sent.header("content-type") is None


@pytest.mark.parametrize(
    "header",
    ["{etag}", '"other", {etag}', "W/{etag}", "*", '"x"  ,  {etag}'],
)
def test_if_none_match_variants(text_file: Path, header: str) -> None:
    etag, _ = _validators(text_file)
    sent = call(FileResponse(text_file), headers=[("if-none-match", header.format(etag=etag))])
    assert sent.status == 304


def test_if_none_match_mismatch_gives_200(text_file: Path) -> None:
    response = fetch(FileResponse(text_file), headers={"if-none-match": '"stale"'})
    assert response.status_code == 200
    assert response.content == CONTENT


def test_if_none_match_repeated_header_lines(text_file: Path) -> None:
    etag, _ = _validators(text_file)
    sent = call(
        FileResponse(text_file), headers=[("if-none-match", '"a"'), ("if-none-match", etag)]
    )
    assert sent.status == 304


def test_if_modified_since(text_file: Path) -> None:
    _, modified = _validators(text_file)
    response = fetch(FileResponse(text_file), headers={"if-modified-since": modified})
    assert response.status_code == 304
    assert response.content == b""
    earlier = formatdate(text_file.stat().st_mtime - 3600, usegmt=True)
    response = fetch(FileResponse(text_file), headers={"if-modified-since": earlier})
    assert response.status_code == 200


def test_if_modified_since_without_zone_is_utc(text_file: Path) -> None:
    modified = formatdate(text_file.stat().st_mtime + 10, usegmt=True).replace("GMT", "-0000")
    response = fetch(FileResponse(text_file), headers={"if-modified-since": modified})
    assert response.status_code == 304


@pytest.mark.parametrize("value", ["yesterday", "", "Mon, 99 Foo 2020 99:99:99 GMT"])
def test_invalid_if_modified_since_is_ignored(text_file: Path, value: str) -> None:
    response = fetch(FileResponse(text_file), headers={"if-modified-since": value})
    assert response.status_code == 200


def test_if_none_match_takes_precedence_over_if_modified_since(text_file: Path) -> None:
    _, modified = _validators(text_file)
    response = fetch(
        FileResponse(text_file),
        headers={"if-none-match": '"stale"', "if-modified-since": modified},
    )
    assert response.status_code == 200


def test_head_gets_304_too(text_file: Path) -> None:
    etag, _ = _validators(text_file)
    sent = call(FileResponse(text_file), "HEAD", headers=[("if-none-match", etag)])
    assert sent.status == 304


def test_if_match(text_file: Path) -> None:
    etag, _ = _validators(text_file)
    assert fetch(FileResponse(text_file), headers={"if-match": etag}).status_code == 200
    assert fetch(FileResponse(text_file), headers={"if-match": "*"}).status_code == 200
    response = fetch(FileResponse(text_file), headers={"if-match": '"stale"'})
    assert response.status_code == 412
    assert response.text == "Precondition Failed"
    # If-Match uses the strong comparison: a weak tag never matches.
    weak = fetch(FileResponse(text_file), headers={"if-match": f"W/{etag}"})
    assert weak.status_code == 412


def test_if_unmodified_since(text_file: Path) -> None:
    earlier = formatdate(text_file.stat().st_mtime - 3600, usegmt=True)
    response = fetch(FileResponse(text_file), headers={"if-unmodified-since": earlier})
    assert response.status_code == 412
    later = formatdate(text_file.stat().st_mtime + 3600, usegmt=True)
    response = fetch(FileResponse(text_file), headers={"if-unmodified-since": later})
    assert response.status_code == 200


def test_user_etag_is_used_for_conditions(text_file: Path) -> None:
    response = FileResponse(text_file, headers={"etag": '"v1"'})
    sent = call(response, headers=[("if-none-match", '"v1"')])
    assert sent.status == 304
    assert sent.header("etag") == '"v1"'
    assert [k for k, _ in sent.headers].count(b"etag") == 1


def test_user_last_modified_is_used_for_conditions(text_file: Path) -> None:
    stamp = "Wed, 21 Oct 2015 07:28:00 GMT"
    response = FileResponse(text_file, headers={"last-modified": stamp})
    sent = call(response, headers=[("if-modified-since", stamp)])
    assert sent.status == 304


# -- byte ranges -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-4", 0, 4),  # first bytes
        ("bytes=-5", 15, 19),  # suffix
        ("bytes=15-", 15, 19),  # open-ended
        ("bytes=5-1000", 5, 19),  # end past the size is clamped
        ("bytes=-1000", 0, 19),  # suffix longer than the file
        ("bytes=19-19", 19, 19),  # the last byte
        ("BYTES=0-0", 0, 0),  # the unit is case-insensitive
        ("bytes=0-2, 1-5", 0, 5),  # overlapping spans merge into one
        ("bytes=0-2,3-5", 0, 5),  # adjacent spans merge into one
        ("bytes=0-1, 30-40", 0, 1),  # unsatisfiable spans are dropped
        ("bytes=0-99999999999999999999999999", 0, 19),  # huge numbers do not crash
    ],
)
def test_range(text_file: Path, header: str, start: int, end: int) -> None:
    response = fetch(FileResponse(text_file), headers={"range": header})
    assert response.status_code == 206
    assert response.content == CONTENT[start : end + 1]
    assert response.headers["content-range"] == f"bytes {start}-{end}/{len(CONTENT)}"
    assert response.headers["content-length"] == str(end - start + 1)
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert "etag" in response.headers


@pytest.mark.parametrize(
    "header",
    ["bytes=20-", "bytes=20-30", "bytes=-0", "bytes=30-40, 50-", "bytes=9" + "9" * 5000 + "-"],
)
def test_unsatisfiable_range_gives_416(text_file: Path, header: str) -> None:
    response = fetch(FileResponse(text_file), headers={"range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(CONTENT)}"
    assert response.text == "Range Not Satisfiable"


def test_any_range_of_empty_file_is_unsatisfiable(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")
    for header in ("bytes=0-", "bytes=-5"):
        response = fetch(FileResponse(path), headers={"range": header})
        assert response.status_code == 416
        assert response.headers["content-range"] == "bytes */0"


@pytest.mark.parametrize(
    "header",
    [
        "bytes=abc",
        "bytes=5-2",  # last before first is invalid, which voids the header
        "bytes=",
        "bytes=,",
        "bytes=0-1,x",
        "bytes=1",
        "bytes= 1 - 2",
        "bytes=--1",
        "bytes=²-",
        "bytes=0x1-2",
        "items=0-1",
        "0-1",
        "",
    ],
)
def test_malformed_range_is_ignored(text_file: Path, header: str) -> None:
    sent = call(FileResponse(text_file), headers=[("range", header)])
    assert sent.status == 200
    assert sent.body == CONTENT
    assert sent.header("content-range") is None


def test_multiple_disjoint_ranges_send_the_whole_file(text_file: Path) -> None:
    response = fetch(FileResponse(text_file), headers={"range": "bytes=0-1, 5-6"})
    assert response.status_code == 200
    assert response.content == CONTENT
    assert "content-range" not in response.headers


def test_repeated_range_headers_are_ignored(text_file: Path) -> None:
    sent = call(FileResponse(text_file), headers=[("range", "bytes=0-1"), ("range", "bytes=2-3")])
    assert sent.status == 200
    assert sent.body == CONTENT


def test_if_range_with_current_etag(text_file: Path) -> None:
    etag, _ = _validators(text_file)
    headers = {"range": "bytes=0-1", "if-range": etag}
    assert fetch(FileResponse(text_file), headers=headers).status_code == 206


def test_if_range_with_stale_or_weak_etag(text_file: Path) -> None:
    etag, _ = _validators(text_file)
    for if_range in ('"stale"', f"W/{etag}"):
        response = fetch(
            FileResponse(text_file), headers={"range": "bytes=0-1", "if-range": if_range}
        )
        assert response.status_code == 200
        assert response.content == CONTENT


def test_if_range_with_date(text_file: Path) -> None:
    _, modified = _validators(text_file)
    response = fetch(FileResponse(text_file), headers={"range": "bytes=0-1", "if-range": modified})
    assert response.status_code == 206
    older = formatdate(text_file.stat().st_mtime - 60, usegmt=True)
    response = fetch(FileResponse(text_file), headers={"range": "bytes=0-1", "if-range": older})
    assert response.status_code == 200


def test_if_range_without_range_is_ignored(text_file: Path) -> None:
    response = fetch(FileResponse(text_file), headers={"if-range": '"stale"'})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("value", "size", "expected"),
    [
        ("bytes=0-4", 10, [(0, 5)]),
        ("bytes=-3", 10, [(7, 10)]),
        ("bytes=8-", 10, [(8, 10)]),
        ("bytes=0-1,,4-5", 10, [(0, 2), (4, 6)]),
        ("bytes=10-", 10, []),
        ("bytes=-0", 10, []),
        ("bytes=5-2", 10, None),
        ("pages=1-2", 10, None),
        ("bytes=", 10, None),
    ],
)
def test_parse_range(value: str, size: int, expected: list[tuple[int, int]] | None) -> None:
    assert parse_range(value, size) == expected


# -- HEAD ------------------------------------------------------------------------------------


def test_head_sends_headers_only(text_file: Path) -> None:
    sent = call(FileResponse(text_file), "HEAD")
    assert sent.status == 200
    assert sent.header("content-length") == str(len(CONTENT))
    assert sent.header("etag") is not None
    assert sent.body == b""
    assert sent.complete


def test_head_with_range(text_file: Path) -> None:
    sent = call(FileResponse(text_file), "HEAD", headers=[("range", "bytes=0-4")])
    assert sent.status == 206
    assert sent.header("content-length") == "5"
    assert sent.header("content-range") == "bytes 0-4/20"
    assert sent.body == b""


def test_head_of_large_file_reads_nothing(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(b"x" * (CHUNK_SIZE * 3))
    sent = call(FileResponse(path), "HEAD")
    assert sent.header("content-length") == str(CHUNK_SIZE * 3)
    assert len(sent.messages) == 2
    assert sent.body == b""


# -- failures --------------------------------------------------------------------------------


def test_file_removed_after_construction_gives_404(text_file: Path) -> None:
    response = FileResponse(text_file, filename="data.txt")
    text_file.unlink()
    sent = call(response)
    assert sent.status == 404
    assert sent.body == b"Not Found"
    assert sent.header("content-type") == "text/plain; charset=utf-8"
    assert sent.header("etag") is None
    assert sent.header("content-disposition") is None
    assert sent.complete


def test_head_of_missing_file(tmp_path: Path) -> None:
    sent = call(FileResponse(tmp_path / "nope"), "HEAD")
    assert sent.status == 404
    assert sent.body == b""


def test_directory_gives_404(tmp_path: Path) -> None:
    assert fetch(FileResponse(tmp_path)).status_code == 404


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_gives_404_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert fetch(FileResponse(fifo)).status_code == 404


def test_stat_result_fills_headers_before_sending(text_file: Path) -> None:
    stat = text_file.stat()
    response = FileResponse(text_file, stat_result=stat)
    assert response.headers["etag"] == f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
    assert response.headers["accept-ranges"] == "bytes"


def test_stale_stat_result_is_refreshed_when_sent(text_file: Path) -> None:
    response = FileResponse(text_file, stat_result=text_file.stat())
    stale = response.headers["etag"]
    text_file.write_bytes(CONTENT * 2)
    os.utime(text_file, ns=(1_000_000_000, 1_000_000_000))
    sent = call(response)
    assert sent.header("etag") != stale
    assert [k for k, _ in sent.headers].count(b"etag") == 1
    assert sent.header("content-length") == str(len(CONTENT) * 2)
    assert sent.body == CONTENT * 2


def test_response_can_be_sent_twice(text_file: Path) -> None:
    response = FileResponse(text_file)
    first, second = call(response), call(response)
    assert first.body == second.body == CONTENT
    assert first.headers == second.headers


def test_client_disconnect_stops_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(b"x" * (CHUNK_SIZE * 50))
    sent = Sent()

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.messages.append(message)
        await asyncio.sleep(0.01)  # a slow client

    asyncio.run(FileResponse(path)(scope_for(), receive, send))
    assert sent.status == 200
    assert len(sent.body) < CHUNK_SIZE * 50
    assert not sent.complete


def test_file_shrinking_while_sent_raises(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(b"x" * (CHUNK_SIZE * 3))

    async def receive() -> Message:
        return await _never()

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body":
            os.truncate(path, CHUNK_SIZE)

    with pytest.raises(RuntimeError, match="shrank"):
        asyncio.run(FileResponse(path)(scope_for(), receive, send))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts /proc/self/fd")
def test_cancel_while_opening_closes_the_file(text_file: Path) -> None:
    def open_fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    async def scenario() -> None:
        async def send(message: Message) -> None:
            raise AssertionError("nothing should be sent")

        task = asyncio.ensure_future(FileResponse(text_file)(scope_for(), _never, send))
        await asyncio.sleep(0)  # the task is now waiting for the worker thread
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.2)  # let the worker finish and the callback close its fd

    before = open_fds()
    asyncio.run(scenario())
    assert open_fds() == before


def test_read_without_pread(text_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(file_response, "_pread", None)
    response = fetch(FileResponse(text_file), headers={"range": "bytes=2-4"})
    assert response.content == CONTENT[2:5]


def test_read_error_gives_404(text_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(fd: int, offset: int, size: int) -> bytes:
        raise OSError("I/O error")

    monkeypatch.setattr(file_response, "_read", broken)
    assert fetch(FileResponse(text_file)).status_code == 404


def test_unparseable_user_last_modified_falls_back_to_mtime(text_file: Path) -> None:
    _, modified = _validators(text_file)
    response = FileResponse(text_file, headers={"last-modified": "sometime"})
    assert call(response, headers=[("if-modified-since", modified)]).status == 304


def test_close_result_ignores_failed_open() -> None:
    async def scenario() -> None:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        future.set_exception(OSError("gone"))
        file_response._close_result(future)
        future.exception()  # retrieved, so asyncio does not warn

    asyncio.run(scenario())
