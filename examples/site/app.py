"""The showcase: a small full-stack site, the one `./scripts/showcase.sh` serves.

Sign up, post to the board through a form, and watch the live feed update in every open tab;
the same posts are a typed JSON API with bearer tokens, documented at /docs.

    ./scripts/showcase.sh       # from the repository root: http://127.0.0.1:8000

It uses brace.db (SQLite in var/, its tables built by migrations/ at start-up), brace.auth
(sign-up, login, logout, a protected page, JWTs for the API), sessions with CSRF protection,
a typed form re-rendered with its errors, flash messages, server-sent events fed through
brace.channels, and health probes. Settings are SITE_* variables: see README.md next to this
file. Tests build their own app with `create_app(SiteSettings(...))`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import msgspec
from sqlalchemy import ForeignKey, String, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from brace import (
    App,
    FileResponse,
    FormResult,
    HTMLResponse,
    RedirectResponse,
    Request,
    Response,
    Router,
    Settings,
    ecma_pattern,
)
from brace.auth import Auth, CurrentUser, RequireUser, auth_views
from brace.auth.tokens import JWTTokens, enable_tokens
from brace.background import BackgroundTasks
from brace.cache import Cache
from brace.channels import Channels
from brace.db import DB, Database, Model, Page, Pagination, Timestamps, get_or_404
from brace.db.migrations import alembic_config, upgrade
from brace.middleware import SecurityHeadersMiddleware, TrustedHostMiddleware
from brace.ratelimit import RateLimiter
from brace.sessions import SessionMiddleware, flash
from brace.sse import Event, EventStream
from brace.templating import Templates

HERE = Path(__file__).resolve().parent
FEED = "posts"  # the channels group every new post is published to
MAX_TEXT = 280
RECENT = 20  # posts on the home page; the feed adds the new ones on top
# Scripts, styles and connections (the EventSource) to this site only, no inline script: the
# pages and /docs (whose assets brace ships) both work under it.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


class SiteSettings(Settings):
    """SITE_* variables; BRACE_ENV (dev, test or prod) is read without the prefix."""

    env_prefix = "SITE_"
    # Lets the showcase start with nothing configured; BRACE_ENV=prod refuses it.
    secret_key: str = "showcase-development-secret-change-me-in-production"
    database_url: str = f"sqlite+aiosqlite:///{HERE / 'var' / 'site.db'}"
    channels_url: str = "memory://"
    """Where the feed is broadcast: memory:// (one process) or redis://... (several)."""
    feed_heartbeat: float = 15.0
    """Seconds of silence before the feed sends a keep-alive comment."""
    api_rate_limit: str = "120/minute"
    """Requests per client to /api, counted where the feed is (memory, or Redis for all)."""


class BoardPost(Timestamps, Model):
    """A post on the board (table `board_post`)."""

    author_id: Mapped[int] = mapped_column(
        ForeignKey("auth_user.id", ondelete="CASCADE"), index=True
    )
    author: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(String(MAX_TEXT))


class PostIn(msgspec.Struct):
    """What the form and the API accept: the same rules for both."""

    # `\S`: at least one character that is not a space.
    text: Annotated[
        str, msgspec.Meta(min_length=1, max_length=MAX_TEXT, pattern=ecma_pattern(r"\S"))
    ]


class PostOut(msgspec.Struct):
    """A post as the API, the pages and the feed show it (the author's email stays private)."""

    id: int
    author: str
    text: str
    created_at: datetime


class Me(msgspec.Struct):
    """The caller of the API."""

    id: int
    email: str
    posts: int


def shown(post: BoardPost) -> PostOut:
    return PostOut(post.id, post.author, post.text, post.created_at)


def author_name(email: str) -> str:
    """What the board shows of an author: the part of the email before the @."""
    return email.partition("@")[0][:64]


async def post_count(session: AsyncSession, user: Any) -> int:
    """How many posts `user` wrote."""
    query = select(func.count(BoardPost.id)).where(BoardPost.author_id == user.id)
    return await session.scalar(query) or 0


async def recent_posts(session: AsyncSession, limit: int = RECENT) -> list[PostOut]:
    rows = await session.scalars(select(BoardPost).order_by(BoardPost.id.desc()).limit(limit))
    return [shown(post) for post in rows]


def migrate(url: str) -> None:
    """Apply migrations/ (what `brace db upgrade` does); blocking, so run in a thread."""
    upgrade(alembic_config(HERE / "migrations", url, Model.metadata))


def create_app(settings: SiteSettings | None = None) -> App:
    """Build the site; settings left out are read from the environment (and .env)."""
    settings = settings or SiteSettings()
    app = App(
        debug=settings.debug,
        title="brace showcase",
        version="1.0.0",
        description="The board's posts. Reading is open; posting needs a token: press "
        "Authorize and log in with the email and password you signed up with.",
    )
    app.state.settings = settings
    if settings.allowed_hosts:  # BRACE_ENV=prod refuses to start without them
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)
    app.add_middleware(SecurityHeadersMiddleware, content_security_policy=CSP)
    # The showcase runs on plain http://127.0.0.1 in development, where a cookie marked
    # Secure would not come back: the flag is on everywhere else.
    app.add_middleware(
        SessionMiddleware, secret_key=settings.secret_key, https_only=settings.env != "dev"
    )

    sqlite_file = make_url(settings.database_url).database
    if settings.database_url.startswith("sqlite") and sqlite_file not in (None, "", ":memory:"):

        @app.on_startup  # registered before the database's own check, which opens the file
        def make_var_dir() -> None:
            Path(str(sqlite_file)).parent.mkdir(parents=True, exist_ok=True)

    db = Database(settings.database_url, app=app)

    @app.on_startup
    async def apply_migrations() -> None:
        await asyncio.to_thread(migrate, db.url)

    Auth(app)
    # POST /auth/token trades an email and password for a JWT (the Authorize button of /docs).
    enable_tokens(app, JWTTokens(secret=settings.secret_key, lifetime=3600))
    channels = Channels(settings.channels_url, app=app)
    app.state.channels = channels
    cache = Cache(app, settings.channels_url, namespace="site")
    # Installed after the cache, so its wrapper runs first: cached answers count too.
    RateLimiter(app, storage=settings.channels_url)
    templates = Templates(HERE / "templates")
    app.static("/static", HERE / "static")
    app.include(auth_views(templates, signup=True))

    async def publish(
        session: AsyncSession, user: Any, text: str, tasks: BackgroundTasks
    ) -> BoardPost:
        """Save a post, and announce it on the feed once the response (and so the commit)
        is done: a post whose commit failed is never announced."""
        post = BoardPost(author_id=user.id, author=author_name(user.email), text=text.strip())
        session.add(post)
        await session.flush()
        await session.refresh(post)  # created_at comes from the database
        tasks.add(channels.publish, FEED, shown(post))
        tasks.add(cache.invalidate, "posts")  # the cached public listing, once committed
        return post

    # -- pages ------------------------------------------------------------------------------

    async def home_page(
        request: Request, session: AsyncSession, user: Any, form: FormResult[PostIn], status: int
    ) -> HTMLResponse:
        context = {"user": user, "form": form, "posts": await recent_posts(session)}
        return templates.render(request, "index.html", context, status=status)

    @app.get("/", include_in_schema=False)
    async def home(request: Request, user: CurrentUser, session: DB) -> HTMLResponse:
        return await home_page(request, session, user, FormResult.empty(), 200)

    @app.post("/posts", include_in_schema=False)
    async def post_from_form(
        request: Request,
        user: RequireUser,
        session: DB,
        form: FormResult[PostIn],
        tasks: BackgroundTasks,
    ) -> Response:
        if form.value is None or not form.ok:
            return await home_page(request, session, user, form, 422)
        await publish(session, user, form.value.text, tasks)
        flash(request, "Posted: every open page shows it now.", "success")
        return RedirectResponse(request.url_for("home"), 303)

    @app.get("/account", include_in_schema=False)
    async def account(request: Request, user: RequireUser, session: DB) -> HTMLResponse:
        context = {"user": user, "post_count": await post_count(session, user)}
        return templates.render(request, "account.html", context)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> FileResponse:
        """Browsers ask every site for one, /docs included."""
        return FileResponse(HERE / "static" / "favicon.svg", media_type="image/svg+xml")

    @app.get("/feed", include_in_schema=False)
    async def feed() -> EventStream:
        """New posts, as server-sent events (`event: post`), for as long as the page is open."""

        async def events() -> AsyncIterator[Event]:
            async with channels.subscribe(FEED) as posts:
                # Once subscribed: nothing published from now on is missed.
                yield Event({"listening": True}, event="ready")
                async for post in posts:
                    yield Event(post, event="post", id=str(post["id"]))

        return EventStream(events(), heartbeat=settings.feed_heartbeat, retry=3000)

    # -- the API ----------------------------------------------------------------------------

    # One budget per client for the whole API (429 with Retry-After past it).
    limited = {"rate_limit": settings.api_rate_limit, "rate_limit_scope": "api"}
    api = Router(prefix="/api", tags=["posts"], opts=limited)

    # The public listing is cached for a few seconds (readers without credentials share it),
    # and dropped whenever a post is published.
    @api.get("/posts", opts={"cache": 10, "cache_tags": ["posts"]})
    async def list_posts(session: DB, pages: Pagination) -> Page[PostOut]:
        """Every post, newest first (`?limit=`, `?offset=`)."""
        page = await pages.fetch(session, select(BoardPost).order_by(BoardPost.id.desc()))
        return Page([shown(post) for post in page.items], page.total, page.limit, page.offset)

    @api.get("/posts/{post_id:int}", responses={404: "No post with this id"})
    async def get_post(post_id: int, session: DB) -> PostOut:
        """One post."""
        return shown(await get_or_404(session, BoardPost, post_id))

    @api.post("/posts", status_code=201)
    async def create_post(
        post: PostIn, user: RequireUser, session: DB, tasks: BackgroundTasks
    ) -> PostOut:
        """Post to the board, as the token's user; the live feed shows it at once."""
        return shown(await publish(session, user, post.text, tasks))

    @api.get("/me")
    async def me(user: RequireUser, session: DB) -> Me:
        """Who the token belongs to."""
        return Me(user.id, user.email, await post_count(session, user))

    app.include(api)
    app.health()  # /healthz, and /readyz which checks the database
    return app


app = create_app()
