"""Typed forms: `Form()` fields and models, `UploadFile` parameters, `FormResult` re-rendering,
and how they appear in OpenAPI."""

import dataclasses
from enum import Enum
from typing import Annotated, Any

import msgspec
import pydantic
import pytest

from brace import App, Depends, File, Form, UploadFile
from brace.core.handlers import HandlerError
from brace.forms import FormResult, human_message
from brace.testing import TestClient


class Color(Enum):
    red = "red"
    blue = "blue"


class Entry(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(min_length=2, max_length=40)]
    message: str
    age: int | None = None
    subscribe: bool = False
    tags: list[str] = []
    color: Color = Color.red


@dataclasses.dataclass
class Upload:
    title: str
    document: UploadFile


class Signup(pydantic.BaseModel):
    email: str = pydantic.Field(min_length=3)
    age: int = pydantic.Field(ge=18)


app = App()


@app.post("/entries", status_code=201)
async def create_entry(entry: Annotated[Entry, Form()]) -> Entry:
    return entry


@app.post("/page")
async def page(form: FormResult[Entry]) -> dict[str, object]:
    return {"ok": form.ok, "errors": form.errors, "data": form.data}


@app.post("/fields")
async def fields(
    name: Annotated[str, Form(max_length=10)],
    count: Annotated[int, Form(ge=1)] = 1,
    picks: Annotated[list[int], Form()] = [],  # noqa: B006 - never mutated
) -> dict[str, object]:
    return {"name": name, "count": count, "picks": picks}


@app.post("/upload")
async def upload(doc: UploadFile, note: Annotated[str, Form()] = "") -> dict[str, object]:
    return {"filename": doc.filename, "content": (await doc.read()).decode(), "note": note}


@app.post("/uploads")
async def uploads(files: Annotated[list[UploadFile], File()]) -> list[str]:
    return [f.filename for f in files]


@app.post("/dataclass")
async def with_dataclass(data: Annotated[Upload, Form()]) -> dict[str, object]:
    return {"title": data.title, "size": data.document.size}


@app.post("/signup")
async def signup(form: FormResult[Signup]) -> dict[str, object]:
    return {"ok": form.ok, "errors": form.errors, "value": form.value and form.value.email}


async def current_tag(tag: Annotated[str, Form()]) -> str:
    return tag.upper()


@app.post("/dep")
async def dep(tag: Annotated[str, Depends(current_tag)]) -> str:
    return tag


@pytest.fixture(scope="module")
def client() -> TestClient:
    with TestClient(app) as c:
        yield c


def test_form_model_validates_and_converts(client: TestClient) -> None:
    r = client.post(
        "/entries",
        data={
            "name": "Ada",
            "message": "hi",
            "age": "36",
            "subscribe": "on",
            "tags": ["a", "b"],
            "color": "blue",
        },
    )
    assert r.status_code == 201
    assert r.json() == {
        "name": "Ada",
        "message": "hi",
        "age": 36,
        "subscribe": True,
        "tags": ["a", "b"],
        "color": "blue",
    }


def test_blank_inputs_count_as_not_given(client: TestClient) -> None:
    r = client.post("/entries", data={"name": "Ada", "message": "hi", "age": "", "tags": ""})
    assert r.status_code == 201
    assert r.json()["age"] is None and r.json()["tags"] == []
    r = client.post("/entries", data={"name": "", "message": "hi"})
    assert r.status_code == 422
    assert r.json()["errors"] == [{"loc": "form.name", "msg": "Field required", "input": "missing"}]


def test_model_errors_list_every_field(client: TestClient) -> None:
    r = client.post("/entries", data={"name": "A", "age": "old", "color": "green"})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    locs = [e["loc"] for e in r.json()["errors"]]
    assert locs == ["form.name", "form.message", "form.age", "form.color"]


def test_form_result_gives_errors_to_the_handler(client: TestClient) -> None:
    hostile = "<script>alert(1)</script>' OR 1=1 --"
    r = client.post("/page", data={"name": "A", "message": hostile, "age": "x"})
    assert r.status_code == 200
    assert r.json() == {
        "ok": False,
        "errors": {"name": "Enter at least 2 characters.", "age": "Enter a whole number."},
        "data": {"name": "A", "message": hostile, "age": "x"},
    }
    ok = client.post("/page", data={"name": "Ada", "message": "m"}).json()
    assert ok == {"ok": True, "errors": {}, "data": {"name": "Ada", "message": "m"}}


def test_form_result_with_pydantic(client: TestClient) -> None:
    bad = client.post("/signup", data={"email": "a", "age": "12"}).json()
    assert bad["ok"] is False and set(bad["errors"]) == {"email", "age"}
    good = client.post("/signup", data={"email": "a@b.c", "age": "30"}).json()
    assert good == {"ok": True, "errors": {}, "value": "a@b.c"}


def test_single_fields_with_constraints(client: TestClient) -> None:
    r = client.post("/fields", data={"name": "x", "count": "3", "picks": ["1", "2"]})
    assert r.json() == {"name": "x", "count": 3, "picks": [1, 2]}
    r = client.post("/fields", data={"name": "x" * 11, "count": "0", "picks": ["a"]})
    assert r.status_code == 422
    assert [e["loc"] for e in r.json()["errors"]] == ["form.name", "form.count", "form.picks[0]"]


def test_fields_accept_multipart_too(client: TestClient) -> None:
    r = client.post("/fields", data={"name": "x"}, files={"unused": ("a", b"1")})
    assert r.json() == {"name": "x", "count": 1, "picks": []}


def test_upload_parameter(client: TestClient) -> None:
    r = client.post("/upload", files={"doc": ("../../a.txt", b"text")}, data={"note": "n"})
    assert r.json() == {"filename": "a.txt", "content": "text", "note": "n"}


def test_missing_or_empty_file_is_required_error(client: TestClient) -> None:
    r = client.post("/upload", data={"note": "n"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == "form.doc"
    # A browser's file input left empty sends a part with an empty filename.
    r = client.post("/upload", files={"doc": ("", b"")})
    assert r.status_code == 422


def test_text_where_a_file_is_expected_and_the_reverse(client: TestClient) -> None:
    r = client.post("/upload", data={"doc": "not a file"})
    assert r.status_code == 422
    assert human_message(r.json()["errors"][0]["msg"]) == "Choose a file."
    r = client.post("/upload", files={"doc": ("a", b"1"), "note": ("b", b"2")})
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == "form.note"


def test_many_files(client: TestClient) -> None:
    r = client.post("/uploads", files=[("files", ("a.txt", b"1")), ("files", ("b.txt", b"2"))])
    assert r.json() == ["a.txt", "b.txt"]


def test_dataclass_form_with_a_file(client: TestClient) -> None:
    r = client.post("/dataclass", data={"title": "t"}, files={"document": ("d", b"12345")})
    assert r.json() == {"title": "t", "size": 5}


def test_dependencies_read_form_fields(client: TestClient) -> None:
    assert client.post("/dep", data={"tag": "x"}).text == "X"
    assert client.post("/dep", data={}).status_code == 422


def test_json_sent_to_a_form_handler_is_415(client: TestClient) -> None:
    assert client.post("/entries", json={"name": "Ada", "message": "m"}).status_code == 415


def test_openapi_documents_form_bodies(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    body = doc["paths"]["/entries"]["post"]["requestBody"]
    assert set(body["content"]) == {"application/x-www-form-urlencoded", "multipart/form-data"}
    upload = doc["paths"]["/upload"]["post"]["requestBody"]
    assert list(upload["content"]) == ["multipart/form-data"]
    schema = upload["content"]["multipart/form-data"]["schema"]
    assert schema["properties"]["doc"]["format"] == "binary"
    assert schema["required"] == ["doc"]
    assert list(doc["paths"]["/dataclass"]["post"]["requestBody"]["content"]) == [
        "multipart/form-data"
    ]
    assert "413" in doc["paths"]["/upload"]["post"]["responses"]
    from openapi_spec_validator import validate

    validate(doc)


def test_start_up_errors_name_the_problem() -> None:
    bad = App()

    @bad.post("/both")
    async def both(entry: Annotated[Entry, Form()], other: Entry) -> None: ...

    with pytest.raises(HandlerError, match="both a JSON body"):
        bad.compile()

    bad2 = App()

    @bad2.post("/mixed")
    async def mixed(entry: Annotated[Entry, Form()], extra: Annotated[str, Form()]) -> None: ...

    with pytest.raises(HandlerError, match="takes the whole form"):
        bad2.compile()

    bad3 = App()

    @bad3.post("/result")
    async def result(form: FormResult[int]) -> None: ...  # type: ignore[type-var]

    with pytest.raises(HandlerError, match="needs a model"):
        bad3.compile()

    bad4 = App()

    @bad4.post("/dict")
    async def as_dict(form: Annotated[dict[str, str], Form()]) -> None: ...

    with pytest.raises(HandlerError, match="a form parameter must be"):
        bad4.compile()


@pytest.mark.parametrize(
    ("raw", "human"),
    [
        ("Expected `int`, got `str`", "Enter a whole number."),
        ("Expected `float | null`, got `str`", "Enter a number."),
        ("Expected `str` of length <= 5", "Enter at most 5 characters."),
        ("Expected `int` >= 18", "Enter a value of at least 18."),
        ("Expected `int` < 3", "Enter a value less than 3."),
        ("Invalid enum value 'x'", "Select a valid choice."),
        ("Invalid RFC3339 encoded date", "Enter a valid date."),
        ("something else", "something else"),
    ],
)
def test_human_messages(raw: str, human: str) -> None:
    assert human_message(raw) == human


def test_add_error_and_empty() -> None:
    blank = FormResult.empty()
    assert not blank.ok and blank.errors == {} and blank.get("name") == ""
    form = FormResult(Entry(name="Ada", message="m"), {"name": "Ada"})
    assert form.ok
    form.add_error("name", "That name is taken.")
    form.add_error("__all__", "Try again later.")
    assert not form.ok and form.value is not None
    assert form.errors == {"name": "That name is taken.", "__all__": "Try again later."}
    assert [e["loc"] for e in form.error_list] == ["form.name", "form"]
    assert "errors=" in repr(form)


def test_one_handler_for_get_and_post_shows_a_clean_form_first() -> None:
    class Contact(msgspec.Struct):
        email: str
        message: str

    app = App()

    @app.route("/contact", methods=["GET", "POST"])
    async def contact(form: FormResult[Contact]) -> dict[str, Any]:
        return {"ok": form.ok, "errors": form.errors, "data": form.data}

    with TestClient(app) as client:
        first = client.get("/contact").json()
        assert first == {"ok": False, "errors": {}, "data": {}}  # nothing typed, no errors
        assert client.head("/contact").status_code == 200
        empty = client.post("/contact", data={}).json()
        assert set(empty["errors"]) == {"email", "message"}  # a submitted empty form is wrong
        sent = client.post("/contact", data={"email": "a@b.c", "message": "<script>hi"}).json()
        assert sent["ok"] is True
        # A GET carrying query-string values is still a first visit for the form.
        assert client.get("/contact?email=x").json()["errors"] == {}


def test_an_edit_form_starts_from_the_object() -> None:
    import datetime

    class Note(msgspec.Struct):
        title: str
        pinned: bool
        archived: bool
        due: datetime.date | None
        body: str | None = None

    note = Note("<b>Plans</b>", True, False, datetime.date(2026, 12, 7))
    form = FormResult.from_object(note)
    assert form.data == {
        "title": "<b>Plans</b>",
        "pinned": "on",
        "archived": "",
        "due": "2026-12-07",
        "body": "",
    }
    assert form.errors == {} and not form.ok
    assert FormResult.from_object({"a": 1, "b": None}).data == {"a": "1", "b": ""}
    assert FormResult.from_object(note, fields=["title"]).data == {"title": "<b>Plans</b>"}
    with pytest.raises(TypeError, match="fields="):
        FormResult.from_object(object())
