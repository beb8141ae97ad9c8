"""Compatibility path: `brace.responses` is `brace.core.responses` (see docs/architecture.md)."""

from .core.responses import (
    FileResponse as FileResponse,
)
from .core.responses import (
    HTMLResponse as HTMLResponse,
)
from .core.responses import (
    JSONResponse as JSONResponse,
)
from .core.responses import (
    PlainTextResponse as PlainTextResponse,
)
from .core.responses import (
    RedirectResponse as RedirectResponse,
)
from .core.responses import (
    Response as Response,
)
from .core.responses import (
    StreamingResponse as StreamingResponse,
)
from .core.responses import (
    json_encoder as json_encoder,
)

__all__ = [
    "FileResponse",
    "HTMLResponse",
    "JSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "StreamingResponse",
    "json_encoder",
]
