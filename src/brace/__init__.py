"""brace: one Python web framework, from a five-line app to a full stack.

This module is the public API's table of contents; everything else is reachable from the
submodules (`brace.middleware`, `brace.testing`, ...). Importing brace loads only the core.
"""

from ._app import App as App
from .config import Settings as Settings
from .core.datastructures import URL as URL
from .core.datastructures import FormData as FormData
from .core.datastructures import Headers as Headers
from .core.datastructures import QueryParams as QueryParams
from .core.datastructures import State as State
from .core.datastructures import UploadFile as UploadFile
from .core.ecma_pattern import ecma_pattern as ecma_pattern
from .core.errors import HTTPError as HTTPError
from .core.file_response import FileResponse as FileResponse
from .core.markers import Body as Body
from .core.markers import Cookie as Cookie
from .core.markers import Depends as Depends
from .core.markers import File as File
from .core.markers import Form as Form
from .core.markers import Header as Header
from .core.markers import Path as Path
from .core.markers import Query as Query
from .core.requests import Request as Request
from .core.responses import HTMLResponse as HTMLResponse
from .core.responses import JSONResponse as JSONResponse
from .core.responses import PlainTextResponse as PlainTextResponse
from .core.responses import RedirectResponse as RedirectResponse
from .core.responses import Response as Response
from .core.responses import StreamingResponse as StreamingResponse
from .core.routing import Router as Router
from .core.views import View as View
from .forms import FormLimits as FormLimits
from .forms import FormResult as FormResult

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
    "FormLimits",
    "FormResult",
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
    "Settings",
    "State",
    "StreamingResponse",
    "UploadFile",
    "View",
    "ecma_pattern",
]

__version__ = "0.1.0.dev0"
