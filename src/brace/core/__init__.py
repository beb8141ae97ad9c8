"""brace's core: the framework a five-line app needs, and the floor every battery stands on.

It imports only the standard library, msgspec and itself. Batteries (sessions, templates,
OpenAPI, the database, auth, ...) sit above it and attach through `brace.core.plugins`.
"""

from .app import App
from .datastructures import URL, FormData, Headers, QueryParams, State, UploadFile
from .errors import HTTPError
from .file_response import FileResponse
from .params import Body, Cookie, Depends, File, Form, Header, Path, Query
from .requests import Request
from .responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from .routing import Router

__all__ = [
    "URL",
    "App",
    "Body",
    "Cookie",
    "Depends",
    "File",
    "FileResponse",
    "Form",
    "FormData",
    "HTMLResponse",
    "HTTPError",
    "Header",
    "Headers",
    "JSONResponse",
    "Path",
    "PlainTextResponse",
    "Query",
    "QueryParams",
    "RedirectResponse",
    "Request",
    "Response",
    "Router",
    "State",
    "StreamingResponse",
    "UploadFile",
]
