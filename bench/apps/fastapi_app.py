"""FastAPI: pydantic model validation for POST /items."""

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel

from apps._fortunes import TEMPLATE, TEMPLATES, fortunes


class Item(BaseModel):
    name: str
    price: float
    tags: list[str]


app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
templates = Jinja2Templates(directory=TEMPLATES)


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


@app.get("/fortunes", response_class=HTMLResponse)
async def fortunes_ep(request: Request):
    return templates.TemplateResponse(request, TEMPLATE, {"fortunes": fortunes()})
