"""brace: the same endpoints through the public API only (no internals, no tricks)."""

import msgspec

from brace import App

app = App()


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
