"""FastAPI: pydantic model validation for POST /items."""

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel


class Item(BaseModel):
    name: str
    price: float
    tags: list[str]


app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.get("/plaintext", response_class=PlainTextResponse)
async def plaintext():
    return "Hello, World!"


@app.get("/json")
async def json_ep():
    return {"message": "Hello, World!"}


@app.get("/users/{id}")
async def user(id: int, q: str | None = None):
    return {"id": id, "q": q}


@app.post("/items", status_code=201)
async def items(item: Item) -> Item:
    return item
