"""What HTTP requests and WebSockets share: the scope read lazily (headers, query, cookies,
URL, state, session), with no body. `Request` adds the body; `WebSocket` adds messages."""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING, Any

from .datastructures import URL, Headers, QueryParams, State, parse_query
from .errors import HTTPError
from .scope import PATH_VALUES, STATE
from .types import Scope

if TYPE_CHECKING:
    from .app import App

__all__ = ["HTTPConnection", "query_pairs", "query_params_of", "raw_header"]


def raw_header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of a header, straight from the ASGI list (for the hot path)."""
    for key, value in scope["headers"]:
        if key == name:
            return value  # type: ignore[no-any-return]
    return None


_NO_QUERY = QueryParams()


def query_pairs(raw: bytes) -> list[tuple[str, str]]:
    """The query string's (key, value) pairs; invalid UTF-8 answers 400 rather than guessing."""
    try:
        return parse_query(raw)
    except (UnicodeDecodeError, ValueError):
        raise HTTPError(400, "The query string is not valid UTF-8.") from None


def query_params_of(scope: Scope) -> QueryParams:
    """The request's query parameters (see `query_pairs`)."""
    raw = scope.get("query_string")
    return QueryParams(query_pairs(raw)) if raw else _NO_QUERY


class HTTPConnection:
    """A client connection, built from the ASGI scope on demand."""

    __slots__ = ("_cookies", "_headers", "_query", "_url", "scope")

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self._headers: Headers | None = None
        self._query: QueryParams | None = None
        self._cookies: dict[str, str] | None = None
        self._url: URL | None = None

    # -- what was asked for -------------------------------------------------------------

    @property
    def path(self) -> str:
        return str(self.scope["path"])

    @property
    def url(self) -> URL:
        if self._url is None:
            self._url = URL.from_scope(self.scope)
        return self._url

    @property
    def base_url(self) -> URL:
        """Scheme, host and the root path the app is mounted at, ending in "/"."""
        url = self.url
        root = self.scope.get("root_path", "")
        return URL(f"{url.scheme}://{url.netloc}{root}/")

    @property
    def headers(self) -> Headers:
        if self._headers is None:
            self._headers = Headers(raw=self.scope["headers"])
        return self._headers

    @property
    def query_params(self) -> QueryParams:
        """Query string parameters; invalid UTF-8 answers 400 rather than guessing."""
        if self._query is None:
            self._query = query_params_of(self.scope)
        return self._query

    @property
    def path_params(self) -> dict[str, Any]:
        """The route's path parameters, converted; built on first use."""
        params: dict[str, Any] | None = self.scope.get("path_params")
        if params is None:
            # The handler plan leaves (names, values) behind: a dict only when someone asks.
            names, values = self.scope.get(PATH_VALUES, ((), ()))
            params = self.scope["path_params"] = dict(zip(names, values, strict=True))
        return params

    @property
    def cookies(self) -> dict[str, str]:
        """Cookies sent by the client; a malformed cookie is skipped, never an error."""
        if self._cookies is None:
            cookies: dict[str, str] = {}
            for header in self.headers.getall("cookie"):
                for chunk in header.split(";"):
                    name, sep, value = chunk.partition("=")
                    name = name.strip()
                    if not sep or not name:
                        continue
                    value = value.strip()
                    if len(value) >= 2 and value[0] == value[-1] == '"':
                        try:
                            parsed: SimpleCookie = SimpleCookie()
                            parsed.load(f"{name}={value}")
                            value = parsed[name].value
                        except (CookieError, KeyError):
                            continue
                    cookies[name] = value
            self._cookies = cookies
        return self._cookies

    @property
    def client(self) -> tuple[str, int] | None:
        """(host, port) of the peer as the server saw it (a proxy's, behind one)."""
        client = self.scope.get("client")
        return (client[0], client[1]) if client else None

    @property
    def state(self) -> State:
        """Per-request attribute bag shared by middleware, dependencies and the handler."""
        values = self.scope.setdefault(STATE, {})
        return State(values)

    @property
    def session(self) -> dict[str, Any]:
        """The session (`brace.sessions.SessionMiddleware` must be installed)."""
        try:
            return self.scope["session"]  # type: ignore[no-any-return]
        except KeyError:
            raise RuntimeError(
                "request.session needs brace.sessions.SessionMiddleware: "
                "app.add_middleware(SessionMiddleware, secret_key=...)"
            ) from None

    @property
    def app(self) -> App:
        return self.scope["app"]  # type: ignore[no-any-return]

    def url_for(self, name: Any, /, **params: Any) -> str:
        """Path to a named route (or handler function), including the mount root path."""
        root: str = self.scope.get("root_path", "")
        return root + self.app.url_for(name, **params)
