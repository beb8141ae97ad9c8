"""A guestbook: the first full page app. Server-rendered pages, a typed form that comes back
with its errors, flash messages, CSRF protection, file uploads served back as static files.

Run it in development (plain http://127.0.0.1, so the session cookie must not be Secure):

    GUESTBOOK_DEV=1 .venv/bin/uvicorn --app-dir examples/guestbook app:app

Settings come from the environment: GUESTBOOK_SECRET (signs the session cookie),
GUESTBOOK_UPLOADS (where attachments are saved), GUESTBOOK_DEV=1 (debug pages, template
reloading, session cookie allowed over plain HTTP). See README.md next to this file.
"""

from __future__ import annotations

import logging
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import msgspec

from brace import (
    App,
    FormLimits,
    FormResult,
    HTTPError,
    RedirectResponse,
    Request,
    Response,
    UploadFile,
)
from brace.middleware.security_headers import SecurityHeadersMiddleware
from brace.sessions import SessionMiddleware, flash
from brace.templating import Templates

HERE = Path(__file__).resolve().parent
DEV_SECRET = "guestbook-development-secret-do-not-use-in-production"
MAX_ENTRIES = 100
MAX_FILE_SIZE = 2 * 1024 * 1024
# Attachments are served back from this site, so only types a browser displays inertly are
# accepted: an uploaded .html or .svg would run its scripts with the guestbook's origin.
ALLOWED_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".txt"}
IMAGE_SUFFIXES = ALLOWED_SUFFIXES - {".txt"}
# Pages carry no script at all; uploads and styles come from this site only.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)

logger = logging.getLogger("guestbook")


class Entry(msgspec.Struct):
    """What the signing form sends."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    message: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    attachment: UploadFile | None = None


@dataclass(frozen=True, slots=True)
class Signature:
    """A stored entry. `file` is the attachment's name in the uploads directory."""

    name: str
    message: str
    signed_at: datetime
    file: str | None = None
    file_label: str | None = None

    @property
    def is_image(self) -> bool:
        return self.file is not None and Path(self.file).suffix.lower() in IMAGE_SUFFIXES


def stored_name(upload: UploadFile) -> str:
    """A fresh name for an upload: a uuid, then its safe file name, within 255 bytes."""
    prefix = f"{uuid.uuid4().hex}-"
    name = upload.filename  # already a safe base name: no directories, no leading dot
    suffix = Path(name).suffix
    room = 255 - len(prefix.encode()) - len(suffix.encode())
    stem = name.removesuffix(suffix).encode()[:room].decode(errors="ignore")
    return prefix + stem + suffix


def extra_errors(form: FormResult[Entry]) -> dict[str, str]:
    """Checks the model's constraints cannot express, as one message per field."""
    errors: dict[str, str] = {}
    for field, message in (("name", "Enter your name."), ("message", "Write a message.")):
        text = form.get(field)
        if isinstance(text, str) and text and not text.strip():
            errors[field] = message  # only spaces: min_length=1 alone would accept it
    upload = form.value.attachment if form.value is not None else None
    if upload is not None and Path(upload.filename).suffix.lower() not in ALLOWED_SUFFIXES:
        errors["attachment"] = "Attach an image (PNG, JPEG, GIF, WebP) or a .txt file."
    return errors


def create_app(
    *,
    uploads_dir: str | os.PathLike[str] | None = None,
    secret_key: str | None = None,
    dev: bool | None = None,
) -> App:
    """Build a guestbook; arguments left out are read from the environment."""
    if dev is None:
        dev = os.environ.get("GUESTBOOK_DEV", "") not in ("", "0")
    if secret_key is None:
        secret_key = os.environ.get("GUESTBOOK_SECRET") or DEV_SECRET
    if secret_key == DEV_SECRET and not dev:
        logger.warning("GUESTBOOK_SECRET is not set: sessions are signed with the dev secret")
    uploads = Path(uploads_dir or os.environ.get("GUESTBOOK_UPLOADS") or HERE / "uploads")

    app = App(
        debug=dev,
        # One attachment plus two short text fields: bigger bodies are refused unread.
        form_limits=FormLimits(max_file_size=MAX_FILE_SIZE, max_body_size=MAX_FILE_SIZE + 64_000),
        openapi_url=None,  # a site for people, not an API
    )
    # Secure cookies do not come back over plain http:// (except, in some browsers, from
    # localhost), so development mode turns the flag off.
    app.add_middleware(SessionMiddleware, secret_key=secret_key, https_only=not dev)
    app.add_middleware(SecurityHeadersMiddleware, content_security_policy=CSP)
    app.static("/static", HERE / "static")
    # The directory is created at start-up, not when this module is imported.
    app.static("/uploads", uploads, name="uploads", check_dir=False)
    templates = Templates(HERE / "templates")

    # Entries live in memory, newest first, and vanish on restart: the database layer
    # arrives with a later issue and will replace this list.
    entries: list[Signature] = []
    app.state.entries = entries
    app.state.uploads_dir = uploads

    @app.on_startup
    def make_uploads_dir() -> None:
        uploads.mkdir(parents=True, exist_ok=True)

    def page(request: Request, form: FormResult[Entry], status: int = 200) -> Response:
        context = {"form": form, "entries": entries, "max_file_mib": MAX_FILE_SIZE // 2**20}
        return templates.render(request, "index.html", context, status=status)

    @app.get("/")
    async def index(request: Request) -> Response:
        return page(request, FormResult.empty())

    @app.post("/")
    async def sign(request: Request, form: FormResult[Entry]) -> Response:
        for field, message in extra_errors(form).items():
            form.add_error(field, message)
        entry = form.value
        if entry is None or not form.ok:
            return page(request, form, status=422)
        file = label = None
        if entry.attachment is not None:
            file = stored_name(entry.attachment)
            await entry.attachment.save(uploads / file)
            label = entry.attachment.filename
        entries.insert(0, Signature(entry.name, entry.message, datetime.now(UTC), file, label))
        for old in entries[MAX_ENTRIES:]:
            if old.file is not None:
                (uploads / old.file).unlink(missing_ok=True)
        del entries[MAX_ENTRIES:]
        flash(request, f"Thanks for signing, {entry.name}!", "success")
        return RedirectResponse(request.url_for("index"), 303)

    @app.exception_handler(413)
    async def too_large(request: Request, exc: HTTPError) -> Response:
        # The body was refused half-way, so what was typed is lost; say why, next to the file.
        message = f"Attach a file of at most {MAX_FILE_SIZE // 2**20} MiB."
        error = {"loc": "form.attachment", "msg": message}
        return page(request, FormResult(None, {}, [error]), status=413)

    return app


app = create_app()
