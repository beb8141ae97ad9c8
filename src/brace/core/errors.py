"""HTTP errors and how they are shown: RFC 9457 problem details, HTML pages, debug traceback."""

from __future__ import annotations

import html
import linecache
import traceback
from collections.abc import Mapping
from http import HTTPStatus
from pathlib import Path
from typing import Any

from .responses import HTMLResponse, Response, json_encoder

__all__ = [
    "ClientDisconnect",
    "HTTPError",
    "ProblemResponse",
    "debug_page",
    "error_page",
    "problem",
    "status_phrase",
    "wants_html",
]


_PACKAGE_DIR = str(Path(__file__).resolve().parent)


class HTTPError(Exception):
    """Raise to answer with an HTTP error status: `raise HTTPError(404, "No such user")`."""

    # Slots: an invalid request builds one of these, and attribute writes on an exception's
    # __dict__ cost more than the rest of the constructor.
    __slots__ = ("detail", "extra", "headers", "status_code", "title", "type")

    def __init__(
        self,
        status_code: int,
        detail: str | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        title: str | None = None,
        type: str = "about:blank",
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        if not 400 <= status_code <= 599:
            raise ValueError(f"HTTPError needs a 4xx or 5xx status, got {status_code}")
        self.status_code = status_code
        self.title = title or status_phrase(status_code)
        self.detail = detail
        self.headers = dict(headers) if headers else {}
        self.type = type
        self.extra = dict(extra) if extra else {}
        super().__init__(status_code, detail)

    def __str__(self) -> str:
        return f"{self.status_code} {self.title}" + (f": {self.detail}" if self.detail else "")

    def __repr__(self) -> str:
        return f"HTTPError({self.status_code}, {self.detail!r})"


class ClientDisconnect(Exception):
    """The client went away before the request body was read to the end."""


def status_phrase(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "Error"


class ProblemResponse(Response):
    """An RFC 9457 problem document (`application/problem+json`)."""

    media_type = "application/problem+json"

    def render(self, content: Any) -> bytes:
        return json_encoder.encode(content)


def problem_document(error: HTTPError, instance: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"type": error.type, "title": error.title, "status": error.status_code}
    if error.detail:
        body["detail"] = error.detail
    if instance:
        body["instance"] = instance
    body.update(error.extra)
    return body


def problem(error: HTTPError, instance: str | None = None) -> ProblemResponse:
    """The machine-readable answer for API clients."""
    return ProblemResponse(problem_document(error, instance), error.status_code, error.headers)


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{status} {title}</title>
<style>
body{{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1f2328;background:#f6f8fa}}
main{{max-width:46rem;margin:10vh auto;padding:2rem;background:#fff;border:1px solid #d0d7de;
border-radius:8px}}
h1{{margin:0 0 .5rem;font-size:1.6rem}} .code{{color:#cf222e}} p{{margin:.5rem 0}}
small{{color:#57606a}}
pre{{background:#f6f8fa;padding:1rem;overflow:auto;font-size:13px;border-radius:6px}}
.frame{{margin:1rem 0}} .frame h3{{font-size:14px;margin:.2rem 0;font-family:monospace}}
.hl,.ln{{display:block}} .hl{{background:#fff8c5}}
details.framework summary{{font:13px monospace;color:#57606a;cursor:pointer}}
</style></head>
<body><main>
<h1><span class="code">{status}</span> {title}</h1>
{detail}
{extra}
</main></body></html>
"""


def error_page(error: HTTPError, request_id: str | None = None) -> HTMLResponse:
    """The human-readable answer for browsers; shows only what the error chose to say."""
    detail = f"<p>{html.escape(error.detail)}</p>" if error.detail else ""
    extra = f"<p><small>Request id: {html.escape(request_id)}</small></p>" if request_id else ""
    page = _PAGE.format(
        status=error.status_code,
        title=html.escape(error.title),
        detail=detail,
        extra=extra,
    )
    return HTMLResponse(page, error.status_code, headers=error.headers)


def _frames_html(exc: BaseException) -> str:
    parts: list[str] = []
    for frame in traceback.extract_tb(exc.__traceback__):
        lineno = frame.lineno or 0
        lines = []
        for number in range(max(1, lineno - 3), lineno + 3):
            text = linecache.getline(frame.filename, number)
            if not text:
                continue
            css = "hl" if number == lineno else "ln"
            lines.append(f'<span class="{css}">{number:>5} {html.escape(text.rstrip())}</span>')
        code = "".join(lines) or html.escape(frame.line or "")
        heading = f"{html.escape(frame.filename)}:{lineno} in <b>{html.escape(frame.name)}</b>"
        if frame.filename.startswith(_PACKAGE_DIR):
            # brace's own frames are folded away: the user's code is what matters.
            parts.append(
                f'<details class="frame framework"><summary>{heading}</summary>'
                f"<pre>{code}</pre></details>"
            )
        else:
            parts.append(f'<div class="frame"><h3>{heading}</h3><pre>{code}</pre></div>')
    return "\n".join(parts)


def debug_page(exc: BaseException, method: str, path: str, request_id: str | None) -> HTMLResponse:
    """Debug mode's 500 page: the exception, every frame with source, and the request."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    sections = []
    for item in reversed(chain):
        sections.append(
            f"<h2>{html.escape(type(item).__name__)}: {html.escape(str(item))}</h2>"
            + _frames_html(item)
        )
    summary = (
        f"<p><code>{html.escape(method)} {html.escape(path)}</code></p>"
        + (f"<p><small>Request id: {html.escape(request_id)}</small></p>" if request_id else "")
        + "<p><small>You see this page because the app runs with debug=True. "
        "Never enable debug in production.</small></p>"
    )
    page = _PAGE.format(
        status=500,
        title=html.escape(type(exc).__name__),
        detail=summary,
        extra="\n".join(sections),
    )
    return HTMLResponse(page, 500)


def wants_html(accept: str) -> bool:
    """Browsers ask for text/html first; API clients and curl (*/*) get problem+json."""
    if not accept:
        return False
    best_html = 0.0
    best_json = 0.0
    for item in accept.split(","):
        media, _, params = item.strip().partition(";")
        media = media.strip().lower()
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media in ("text/html", "application/xhtml+xml"):
            best_html = max(best_html, quality)
        elif media in ("application/json", "application/problem+json"):
            best_json = max(best_json, quality)
    return best_html > 0 and best_html >= best_json
