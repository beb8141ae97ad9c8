"""Built-in ASGI middleware; each class wraps an app and is added with `app.add_middleware`."""

from .cors import CORSMiddleware as CORSMiddleware
from .gzip import GZipMiddleware as GZipMiddleware
from .https_redirect import HTTPSRedirectMiddleware as HTTPSRedirectMiddleware
from .request_id import RequestIDMiddleware as RequestIDMiddleware
from .security_headers import SecurityHeadersMiddleware as SecurityHeadersMiddleware
from .trusted_host import TrustedHostMiddleware as TrustedHostMiddleware

__all__ = [
    "CORSMiddleware",
    "GZipMiddleware",
    "HTTPSRedirectMiddleware",
    "RequestIDMiddleware",
    "SecurityHeadersMiddleware",
    "TrustedHostMiddleware",
]
