"""brace: one Python web framework, from a five-line app to a full stack.

This module is the public API's table of contents; everything else is reachable from the
submodules (`brace.middleware`, `brace.testing`, ...). Importing brace loads only the core.
"""

from ._file_response import FileResponse as FileResponse
from .app import App as App
from .config import Settings as Settings
from .datastructures import URL as URL
from .datastructures import FormData as FormData
from .datastructures import Headers as Headers
from .datastructures import QueryParams as QueryParams
from .datastructures import State as State
from .datastructures import UploadFile as UploadFile
from .errors import HTTPError as HTTPError
from .forms import FormLimits as FormLimits
from .forms import FormResult as FormResult
from .params import Body as Body
from .params import Cookie as Cookie
from .params import Depends as Depends
from .params import File as File
from .params import Form as Form
from .params import Header as Header
from .params import Path as Path
from .params import Query as Query
from .requests import Request as Request
from .responses import HTMLResponse as HTMLResponse
from .responses import JSONResponse as JSONResponse
from .responses import PlainTextResponse as PlainTextResponse
from .responses import RedirectResponse as RedirectResponse
from .responses import Response as Response
from .responses import StreamingResponse as StreamingResponse
from .routing import Router as Router

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
]

__version__ = "0.1.0.dev0"
