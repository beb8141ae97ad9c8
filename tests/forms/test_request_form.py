"""`await request.form()`: urlencoded and multipart bodies, uploads, limits, hostile input."""

import asyncio
import os
import tempfile
from pathlib import Path

import pytest

from brace import App, Request
from brace.datastructures import FormData, UploadFile, safe_filename
from brace.forms import FormLimits
from brace.testing import TestClient


def make_app(**options: object) -> App:
    app = App(**options)  # type: ignore[arg-type]

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, list[object]]:
        form = await request.form()
        out: dict[str, list[object]] = {}
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                content = (await value.read()).decode("latin-1")
                out.setdefault(key, []).append(
                    {
                        "filename": value.filename,
                        "type": value.content_type,
                        "size": value.size,
                        "content": content,
                    }
                )
            else:
                out.setdefault(key, []).append(value)
        return out

    return app


@pytest.fixture
def client() -> TestClient:
    with TestClient(make_app()) as c:
        yield c


def multipart(*parts: bytes, boundary: bytes = b"XyZ") -> tuple[bytes, dict[str, str]]:
    body = b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts)
    body += b"--" + boundary + b"--\r\n"
    return body, {"content-type": f"multipart/form-data; boundary={boundary.decode()}"}


def field(name: bytes, value: bytes) -> bytes:
    return b'Content-Disposition: form-data; name="' + name + b'"\r\n\r\n' + value


def test_urlencoded_fields_keep_order_and_repeats(client: TestClient) -> None:
    r = client.post("/echo", data={"a": ["1", "2"], "b": "é & <x>"})
    assert r.status_code == 200
    assert r.json() == {"a": ["1", "2"], "b": ["é & <x>"]}


def test_multipart_fields_and_files(client: TestClient) -> None:
    r = client.post(
        "/echo",
        data={"title": "hello"},
        files={"doc": ("notes.txt", b"line one\nline two", "text/plain")},
    )
    assert r.status_code == 200
    assert r.json() == {
        "title": ["hello"],
        "doc": [
            {
                "filename": "notes.txt",
                "type": "text/plain",
                "size": 17,
                "content": "line one\nline two",
            }
        ],
    }


def test_empty_body_without_content_type_is_an_empty_form(client: TestClient) -> None:
    assert client.post("/echo").json() == {}


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "application/xml"])
def test_a_body_that_is_not_a_form_is_415(client: TestClient, content_type: str) -> None:
    r = client.post("/echo", content=b"a=1", headers={"content-type": content_type})
    assert r.status_code == 415
    assert "form" in r.json()["detail"]


def test_invalid_utf8_in_urlencoded_is_400(client: TestClient) -> None:
    for body in (b"a=%ff%fe", b"a=\xff", b"%c3=1"):
        r = client.post(
            "/echo", content=body, headers={"content-type": "application/x-www-form-urlencoded"}
        )
        assert r.status_code == 400, body
        assert r.json()["detail"] == "The form is not valid UTF-8."


def test_invalid_utf8_in_multipart_field_is_400(client: TestClient) -> None:
    body, headers = multipart(field(b"a", b"\xff\xfe"))
    r = client.post("/echo", content=body, headers=headers)
    assert r.status_code == 400
    assert "not valid UTF-8" in r.json()["detail"]
    body, headers = multipart(field(b"\xff", b"x"))
    assert client.post("/echo", content=body, headers=headers).status_code == 400


def test_truncated_multipart_is_400(client: TestClient) -> None:
    body, headers = multipart(field(b"a", b"value"))
    r = client.post("/echo", content=body[:-12], headers=headers)
    assert r.status_code == 400
    assert "ended before its closing boundary" in r.json()["detail"]


def test_missing_boundary_is_400(client: TestClient) -> None:
    body, _ = multipart(field(b"a", b"value"))
    r = client.post("/echo", content=body, headers={"content-type": "multipart/form-data"})
    assert r.status_code == 400
    assert "boundary" in r.json()["detail"]


def test_wrong_boundary_is_400(client: TestClient) -> None:
    body, _ = multipart(field(b"a", b"value"))
    headers = {"content-type": "multipart/form-data; boundary=other"}
    assert client.post("/echo", content=body, headers=headers).status_code == 400


def test_part_without_a_name_is_400(client: TestClient) -> None:
    body, headers = multipart(b"Content-Disposition: attachment\r\n\r\nx")
    r = client.post("/echo", content=body, headers=headers)
    assert r.status_code == 400
    assert "Content-Disposition" in r.json()["detail"]


def test_too_many_urlencoded_fields_is_400(client: TestClient) -> None:
    body = "&".join(f"f{i}=v" for i in range(10_000)).encode()
    r = client.post(
        "/echo", content=body, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert r.status_code == 400
    assert "more than 1000 fields" in r.json()["detail"]


def test_too_many_multipart_fields_is_400(client: TestClient) -> None:
    body, headers = multipart(*(field(b"f%d" % i, b"v") for i in range(10_000)))
    r = client.post("/echo", content=body, headers=headers)
    assert r.status_code == 400
    assert "more than 1000 fields" in r.json()["detail"]


def test_limits_are_configurable_per_app() -> None:
    limits = FormLimits(max_fields=2, max_files=1, max_field_size=5, max_file_size=10)
    with TestClient(make_app(form_limits=limits)) as c:
        assert c.post("/echo", data={"a": "1", "b": "2"}).status_code == 200
        assert c.post("/echo", data={"a": "1", "b": "2", "c": "3"}).status_code == 400
        r = c.post("/echo", data={"a": "123456"})
        assert r.status_code == 413 and "'a'" in r.json()["detail"]
        r = c.post("/echo", files={"f": ("a", b"x" * 5)}, data={"g": "123456"})
        assert r.status_code == 413
        r = c.post("/echo", files={"f": ("a", b"x" * 11)})
        assert r.status_code == 413 and "file in field 'f'" in r.json()["detail"]
        r = c.post("/echo", files=[("f", ("a", b"1")), ("f", ("b", b"2"))])
        assert r.status_code == 400 and "more than 1 files" in r.json()["detail"]


def test_declared_huge_content_length_is_refused_before_reading() -> None:
    app = make_app()
    with TestClient(app) as c:
        body, headers = multipart(field(b"a", b"1"))
        headers["content-length"] = str(1024**3)
        r = c.post("/echo", content=body, headers=headers)
        assert r.status_code == 413


def test_multipart_body_over_the_total_limit_is_413() -> None:
    limits = FormLimits(max_body_size=1000, max_file_size=10_000)
    with TestClient(make_app(form_limits=limits)) as c:
        r = c.post("/echo", files={"f": ("a", b"x" * 5000)})
        assert r.status_code == 413


def test_urlencoded_body_is_bounded_by_max_body_size() -> None:
    with TestClient(make_app(max_body_size=100)) as c:
        assert c.post("/echo", data={"a": "x" * 200}).status_code == 413


def test_hostile_filenames_are_reduced_to_safe_names(client: TestClient) -> None:
    for raw, safe in [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("C:\\Users\\me\\photo.png", "photo.png"),
        ("..", "upload"),
        ("", "upload"),
        (".bashrc", "bashrc"),
        ("a\x00b.txt", "ab.txt"),
        ("<script>alert(1)</script>.html", "script>.html"),
    ]:
        assert safe_filename(raw) == safe, raw
    long_name = "é" * 300 + ".txt"
    assert safe_filename(long_name).endswith(".txt")
    assert len(safe_filename(long_name).encode()) <= 255
    r = client.post("/echo", files={"f": ("../../../tmp/evil.sh", b"#!/bin/sh")})
    assert r.json()["f"][0]["filename"] == "evil.sh"


def test_nul_byte_in_filename_header(client: TestClient) -> None:
    part = b'Content-Disposition: form-data; name="f"; filename="a\x00../../b.txt"\r\n\r\ndata'
    body, headers = multipart(part)
    r = client.post("/echo", content=body, headers=headers)
    assert r.status_code in (200, 400)
    if r.status_code == 200:
        assert r.json()["f"][0]["filename"] == "b.txt"


def test_big_uploads_spool_to_disk_and_leave_nothing_behind(tmp_path: Path) -> None:
    app = App(form_limits=FormLimits(spool_size=1024, max_file_size=1024 * 1024))
    seen: dict[str, object] = {}

    @app.post("/up")
    async def up(request: Request) -> dict[str, object]:
        form = await request.form()
        upload = form["f"]
        assert isinstance(upload, UploadFile)
        seen["upload"] = upload
        seen["in_memory"] = upload.in_memory
        saved = await upload.save(tmp_path)
        return {"saved": saved.name, "size": saved.stat().st_size}

    before = set(os.listdir(tempfile.gettempdir()))
    with TestClient(app) as c:
        r = c.post("/up", files={"f": ("../big.bin", os.urandom(200_000))})
    assert r.status_code == 200
    assert r.json() == {"saved": "big.bin", "size": 200_000}
    assert seen["in_memory"] is False
    upload = seen["upload"]
    assert isinstance(upload, UploadFile) and upload.file.closed  # closed after the response
    assert set(os.listdir(tempfile.gettempdir())) - before == set()
    assert [p.name for p in tmp_path.iterdir()] == ["big.bin"]


def test_refused_upload_closes_its_spooled_files() -> None:
    opened: list[UploadFile] = []
    original = UploadFile.__init__

    def tracking_init(self: UploadFile, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        opened.append(self)

    app = make_app(form_limits=FormLimits(spool_size=10, max_file_size=1000))
    UploadFile.__init__ = tracking_init  # type: ignore[method-assign]
    try:
        with TestClient(app) as c:
            r = c.post("/echo", files={"a": ("a", b"x" * 500), "b": ("b", b"y" * 5000)})
    finally:
        UploadFile.__init__ = original  # type: ignore[method-assign]
    assert r.status_code == 413
    assert len(opened) == 2 and all(u.file.closed for u in opened)


def test_save_refuses_to_overwrite(tmp_path: Path) -> None:
    async def scenario() -> None:
        upload = UploadFile(filename="a.txt")
        await upload.write(b"new")
        target = tmp_path / "a.txt"
        target.write_bytes(b"old")
        with pytest.raises(FileExistsError):
            await upload.save(target)
        assert target.read_bytes() == b"old"
        await upload.save(target, overwrite=True)
        assert target.read_bytes() == b"new"
        await upload.close()

    asyncio.run(scenario())


def test_form_is_parsed_once_and_shared() -> None:
    app = App()

    @app.post("/twice")
    async def twice(request: Request) -> dict[str, bool]:
        first = await request.form()
        again = await Request(request.scope, request._receive).form()
        return {"same": first is again, "body": (await request.body()) == b"a=1"}

    with TestClient(app) as c:
        assert c.post("/twice", data={"a": "1"}).json() == {"same": True, "body": True}


def test_body_after_a_streamed_multipart_form_is_a_clear_error() -> None:
    app = App(debug=False)

    @app.post("/m")
    async def m(request: Request) -> str:
        await request.form()
        try:
            await Request(request.scope, request._receive).body()
        except RuntimeError as exc:
            return str(exc)
        return "no error"

    with TestClient(app) as c:
        r = c.post("/m", files={"f": ("a", b"x")})
        assert r.text == "the request body was already consumed as a stream"


def test_formdata_mapping_api() -> None:
    upload = UploadFile(filename="x")
    form = FormData([("a", "1"), ("a", "2"), ("f", upload)])
    assert form["a"] == "2" and form.getall("a") == ["1", "2"] and form.getlist("a")
    assert "f" in form and len(form) == 2 and list(form) == ["a", "f"]
    assert form.files == [upload]
    assert "FormData" in repr(form) and "UploadFile" in repr(upload)
    asyncio.run(form.close())
    assert upload.file.closed


def _file(name: bytes, content: bytes) -> bytes:
    return (
        b'Content-Disposition: form-data; name="' + name + b'"; filename="f.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n" + content
    )


def test_a_form_over_its_memory_budget_moves_files_to_disk() -> None:
    limits = FormLimits(max_memory_size=10_000, spool_size=1_000_000)
    app = App(form_limits=limits)

    @app.post("/where")
    async def where(request: Request) -> dict[str, object]:
        form = await request.form()
        files = [v for _, v in form.multi_items() if isinstance(v, UploadFile)]
        return {
            "in_memory": [f.in_memory for f in files],
            "sizes": [f.size for f in files],
            "first": (await files[0].read(3)).decode(),
        }

    # Each file is far below spool_size, but the two together pass the form's budget.
    body, headers = multipart(_file(b"a", b"abc" + b"x" * 5_997), _file(b"b", b"y" * 6_000))
    with TestClient(app) as client:
        answer = client.post("/where", content=body, headers=headers).json()
    assert answer == {"in_memory": [False, False], "sizes": [6_000, 6_000], "first": "abc"}


def test_form_text_past_the_memory_budget_is_413() -> None:
    with TestClient(make_app(form_limits=FormLimits(max_memory_size=5_000))) as client:
        body, headers = multipart(field(b"a", b"x" * 3_000), field(b"b", b"y" * 3_000))
        r = client.post("/echo", content=body, headers=headers)
    assert r.status_code == 413
    assert "text is larger than 5000 bytes" in r.json()["detail"]
