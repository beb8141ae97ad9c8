"""Compatibility path: `brace.datastructures` is `brace.core.datastructures`."""

from .core.datastructures import (
    URL as URL,
)
from .core.datastructures import (
    FormData as FormData,
)
from .core.datastructures import (
    Headers as Headers,
)
from .core.datastructures import (
    MutableHeaders as MutableHeaders,
)
from .core.datastructures import (
    QueryParams as QueryParams,
)
from .core.datastructures import (
    State as State,
)
from .core.datastructures import (
    UploadFile as UploadFile,
)
from .core.datastructures import (
    safe_filename as safe_filename,
)

__all__ = [
    "URL",
    "FormData",
    "Headers",
    "MutableHeaders",
    "QueryParams",
    "State",
    "UploadFile",
    "safe_filename",
]
