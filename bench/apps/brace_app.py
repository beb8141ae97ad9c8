"""brace: the same endpoints through the public API only (no internals, no tricks)."""

import msgspec

from apps._fortunes import TEMPLATE, TEMPLATES, fortunes
from brace import App, HTMLResponse, Request
from brace.templating import Templates

app = App()
templates = Templates(TEMPLATES)


class Item(msgspec.Struct):
    name: str
    price: float
    tags: list[str]


@app.get("/plaintext")
async def plaintext() -> str:
    return "Hello, World!"


@app.get("/json")
async def json_() -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.get("/users/{id:int}")
async def user(id: int, q: str | None = None) -> dict[str, object]:
    return {"id": id, "q": q}


@app.post("/items", status_code=201)
async def create_item(item: Item) -> Item:
    return item


@app.get("/fortunes")
async def fortunes_(request: Request) -> HTMLResponse:
    return templates.render(request, TEMPLATE, {"fortunes": fortunes()})
