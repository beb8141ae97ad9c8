"""BlackSheep: pydantic model bound via FromJSON for POST /items."""

from blacksheep import Application, FromJSON, FromQuery, get, json, post, text
from pydantic import BaseModel


class Item(BaseModel):
    name: str
    price: float
    tags: list[str]


app = Application(show_error_details=False)


@get("/plaintext")
async def plaintext():
    return text("Hello, World!")


@get("/json")
async def json_ep():
    return json({"message": "Hello, World!"})


@get("/users/{int:id}")
async def user(id: int, q: FromQuery[str]):
    return json({"id": id, "q": q.value})


@post("/items")
async def items(item: FromJSON[Item]):
    return json(item.value.model_dump(), status=201)
