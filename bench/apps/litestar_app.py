"""Litestar: msgspec.Struct validation for POST /items."""

import msgspec
from litestar import Litestar, MediaType, get, post


class Item(msgspec.Struct):
    name: str
    price: float
    tags: list[str]


@get("/plaintext", media_type=MediaType.TEXT)
async def plaintext() -> str:
    return "Hello, World!"


@get("/json")
async def json_ep() -> dict[str, str]:
    return {"message": "Hello, World!"}


@get("/users/{id:int}")
async def user(id: int, q: str | None = None) -> dict:
    return {"id": id, "q": q}


@post("/items")  # POST defaults to 201
async def items(data: Item) -> Item:
    return data


app = Litestar(route_handlers=[plaintext, json_ep, user, items], openapi_config=None, debug=False)
