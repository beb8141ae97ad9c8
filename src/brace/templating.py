"""Jinja2 templates for brace: autoescaped HTML with `request`, `url_for` and `static_url`.

Needs the `templates` extra (`pip install "brace[templates]"`).

When the app uses `brace.db`, pages are rendered through SQLAlchemy's greenlet bridge: a
template may read `post.author.name` and the lazy load is a real awaited query, not
`MissingGreenlet`. `render()` then renders when the response is sent (an error there is still
the usual error page) and `render_async()` renders on the event loop rather than in a thread.
"""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Callable, Mapping, Sequence
from os import PathLike
from typing import Any

try:
    import jinja2
    import markupsafe
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError('brace.templating needs Jinja2: pip install "brace[templates]"') from exc

from .core.errors import HTTPError, wants_html
from .core.requests import Request
from .core.responses import HTMLResponse
from .core.schema_types import Reader
from .core.types import Receive, Scope, Send
from .csrf import csrf_input, csrf_token

__all__ = ["Templates"]

ContextProcessor = Callable[[Request], Mapping[str, Any]]
AUTOESCAPED = ("html", "htm", "xml", "svg", "xhtml", "j2", "jinja2", "jinja")


class Templates:
    """A Jinja2 environment wired to brace: `templates.render(request, "page.html", {...})`."""

    def __init__(
        self,
        directory: str | PathLike[str] | Sequence[str | PathLike[str]],
        *,
        auto_reload: bool | None = None,
        context_processors: Sequence[ContextProcessor] = (),
        **environment_options: Any,
    ) -> None:
        """`auto_reload=None` follows the app's debug flag at the first render."""
        self._auto_reload = auto_reload
        self.context_processors = list(context_processors)
        environment_options.setdefault(
            "autoescape", jinja2.select_autoescape(AUTOESCAPED, default_for_string=True)
        )
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(directory),
            auto_reload=bool(auto_reload),
            **environment_options,
        )
        self._compiled: dict[str, jinja2.Template] = {}
        self.env.globals["url_for"] = _url_for
        self.env.globals["static_url"] = _static_url
        self.env.globals["get_flashed_messages"] = _get_flashed_messages
        self.env.globals["csrf_token"] = _csrf_token
        self.env.globals["csrf_input"] = _csrf_input

    def add_fallback(self, directory: str | PathLike[str]) -> None:
        """Look in `directory` for templates the app's own directories do not have: how
        brace's auth and admin pages can be replaced one file at a time. Adding the same
        directory again changes nothing."""
        wanted = str(directory)
        loader = self.env.loader
        if loader is None:
            self.env.loader = jinja2.FileSystemLoader(directory)
        elif not _loads_from(loader, wanted):
            self.env.loader = jinja2.ChoiceLoader([loader, jinja2.FileSystemLoader(directory)])
        self._compiled.clear()

    def _context(self, request: Request, context: Mapping[str, Any] | None) -> dict[str, Any]:
        if self._auto_reload is None:
            # Debug apps re-read changed templates; production compiles each template once.
            self.env.auto_reload = bool(getattr(request.scope.get("app"), "debug", False))
            self._auto_reload = self.env.auto_reload
        values: dict[str, Any] = {"request": request}
        for processor in self.context_processors:
            values.update(processor(request))
        if context:
            values.update(context)
        return values

    def serve_error_pages(self, app: Any) -> None:
        """Render browsers' error pages from the app's own templates: `errors/404.html` (the
        status), else `errors/default.html`, with `status`, `title` and `detail` (4xx only:
        a 5xx detail is never shown). API clients keep problem+json; a status without a
        template keeps brace's page. Unhandled exceptions (500) keep brace's handling."""

        async def page(request: Request, exc: HTTPError) -> Any:
            if not wants_html(request.headers.get("accept", "")):
                raise exc  # declined: problem+json, as for every API client
            name = self._error_template(exc.status_code)
            if name is None:
                raise exc
            context = {
                "status": exc.status_code,
                "title": exc.title,
                "detail": exc.detail if exc.status_code < 500 else None,
            }
            headers = {k: v for k, v in exc.headers.items() if k.lower() != "content-type"}
            return self.render(request, name, context, status=exc.status_code, headers=headers)

        app.exception_handler(HTTPError)(page)

    def _error_template(self, status: int) -> str | None:
        for name in (f"errors/{status}.html", "errors/default.html"):
            try:
                self.get_template(name)
            except jinja2.TemplateNotFound:
                continue
            return name
        return None

    def get_template(self, name: str) -> jinja2.Template:
        if self.env.auto_reload:
            return self.env.get_template(name)
        # Templates never change without auto-reload: skip Jinja2's locked cache lookup.
        template = self._compiled.get(name)
        if template is None:
            template = self._compiled[name] = self.env.get_template(name)
        return template

    def render(
        self,
        request: Request,
        name: str,
        context: Mapping[str, Any] | None = None,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        block: str | None = None,
    ) -> HTMLResponse:
        """Render a template (or only one of its blocks, for partial page updates)."""
        values = self._context(request, context)
        reader = _database_reader()
        if reader is None:
            return HTMLResponse(self._render(name, values, block), status, headers)
        page = functools.partial(self._render, name, values, block)
        return _PageResponse(page, reader, status, headers)

    async def render_async(
        self,
        request: Request,
        name: str,
        context: Mapping[str, Any] | None = None,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        block: str | None = None,
    ) -> HTMLResponse:
        """Like `render`, in a worker thread: big pages do not hold the event loop (with
        `brace.db`, on the loop through the database's bridge, so lazy loads work)."""
        values = self._context(request, context)
        reader = _database_reader()
        if reader is None:
            text = await asyncio.to_thread(self._render, name, values, block)
        else:
            text = await reader(self._render, name, values, block)
        return HTMLResponse(text, status, headers)

    def render_string(
        self,
        request: Request,
        name: str,
        context: Mapping[str, Any] | None = None,
        *,
        block: str | None = None,
    ) -> str:
        """The page as text, rendered now (a lazy load here needs the data loaded already:
        prefer `render()`)."""
        return self._render(name, self._context(request, context), block)

    def _render(self, name: str, values: dict[str, Any], block: str | None) -> str:
        template = self.get_template(name)
        if block is None:
            return template.render(values)
        render_block = template.blocks.get(block)
        if render_block is None:
            raise LookupError(f"template {name!r} has no block {block!r}")
        return "".join(render_block(template.new_context(values)))


class _PageResponse(HTMLResponse):
    """A page rendered as it is sent, through the database's reader (see the module doc)."""

    def __init__(
        self,
        page: Callable[[], str],
        reader: Reader,
        status: int,
        headers: Mapping[str, str] | None,
    ) -> None:
        super().__init__(None, status, headers)
        self._page = page
        self._reader = reader

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.body = (await self._reader(self._page)).encode(self.charset)
        if self._sends_length():
            self.headers["content-length"] = str(len(self.body))
        await super().__call__(scope, receive, send)


def _database_reader() -> Reader | None:
    """How brace.db reads models (its greenlet bridge), when the app has imported it."""
    db = sys.modules.get("brace.db")
    return None if db is None else db.Model.__brace_read__


@jinja2.pass_context
def _url_for(context: Any, name: str, /, **params: Any) -> str:
    request: Request = context["request"]
    return request.url_for(name, **params)


@jinja2.pass_context
def _static_url(context: Any, path: str, name: str = "static") -> str:
    request: Request = context["request"]
    return request.url_for(name, path=path)


@jinja2.pass_context
def _get_flashed_messages(context: Any, **options: Any) -> list[Any]:
    from .sessions import get_flashed_messages  # sessions are optional: only when used

    request: Request = context["request"]
    if "session" not in request.scope:
        return []
    return get_flashed_messages(request, **options)


@jinja2.pass_context
def _csrf_token(context: Any) -> str:
    return csrf_token(context["request"])


@jinja2.pass_context
def _csrf_input(context: Any) -> markupsafe.Markup:
    return markupsafe.Markup(csrf_input(context["request"]))


def _loads_from(loader: jinja2.BaseLoader, directory: str) -> bool:
    if isinstance(loader, jinja2.ChoiceLoader):
        return any(_loads_from(inner, directory) for inner in loader.loaders)
    if isinstance(loader, jinja2.FileSystemLoader):
        return directory in [str(path) for path in loader.searchpath]
    return False
