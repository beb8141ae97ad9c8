"""The app the multipart memory test serves: a JSON route and a form route behind sessions."""

import msgspec

from brace import App, Request
from brace.sessions import SessionMiddleware


class Note(msgspec.Struct):
    text: str


app = App()
app.add_middleware(SessionMiddleware, secret_key="memory-test-secret-that-is-long-enough")


@app.get("/")
async def home() -> str:
    return "ok"


@app.post("/api/notes")
async def create(note: Note) -> Note:
    return note


@app.post("/login")
async def login(request: Request) -> dict[str, int]:
    form = await request.form()
    return {"fields": len(form)}
