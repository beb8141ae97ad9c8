"""Compatibility path: `brace.errors` is `brace.core.errors` (see docs/architecture.md)."""

from .core.errors import (
    ClientDisconnect as ClientDisconnect,
)
from .core.errors import (
    HTTPError as HTTPError,
)
from .core.errors import (
    ProblemResponse as ProblemResponse,
)
from .core.errors import (
    debug_page as debug_page,
)
from .core.errors import (
    error_page as error_page,
)
from .core.errors import (
    problem as problem,
)
from .core.errors import (
    status_phrase as status_phrase,
)
from .core.errors import (
    wants_html as wants_html,
)

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
