"""Security headers: safe browser defaults (nosniff, framing, referrer, HSTS) on every response."""

from __future__ import annotations

from ..core.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["SecurityHeadersMiddleware"]

_FRAME_OPTIONS = frozenset({"DENY", "SAMEORIGIN"})


def _encode(name: str, value: str) -> bytes:
    # Values come from configuration, but one stray CR/LF would split the response headers.
    if "\r" in value or "\n" in value or "\0" in value:
        raise ValueError(f"SecurityHeadersMiddleware: {name} must not contain CR, LF or NUL")
    return value.encode("latin-1")


class SecurityHeadersMiddleware:
    """Adds security headers to every HTTP response, never replacing ones the handler set."""

    def __init__(
        self,
        app: ASGIApp,
        hsts: bool | None = None,
        hsts_max_age: int = 31536000,
        include_subdomains: bool = True,
        frame_options: str | None = "DENY",
        referrer_policy: str | None = "strict-origin-when-cross-origin",
        content_security_policy: str | None = None,
        permissions_policy: str | None = None,
    ) -> None:
        if hsts_max_age < 0:
            raise ValueError("SecurityHeadersMiddleware: hsts_max_age must be >= 0")
        if frame_options is not None and frame_options.upper() not in _FRAME_OPTIONS:
            raise ValueError(
                "SecurityHeadersMiddleware: frame_options must be 'DENY', 'SAMEORIGIN' or None "
                "(use content_security_policy='frame-ancestors ...' for anything else)"
            )
        self.app = app
        self.hsts = hsts

        headers = [(b"x-content-type-options", b"nosniff")]
        if frame_options is not None:
            headers.append((b"x-frame-options", frame_options.upper().encode("latin-1")))
        if referrer_policy is not None:
            headers.append((b"referrer-policy", _encode("referrer_policy", referrer_policy)))
        if content_security_policy is not None:
            headers.append(
                (
                    b"content-security-policy",
                    _encode("content_security_policy", content_security_policy),
                )
            )
        if permissions_policy is not None:
            headers.append(
                (b"permissions-policy", _encode("permissions_policy", permissions_policy))
            )
        hsts_value = f"max-age={hsts_max_age}"
        if include_subdomains:
            hsts_value += "; includeSubDomains"
        # Both variants are built once; a request only picks one.
        self._without_hsts = tuple(headers)
        self._with_hsts = (*headers, (b"strict-transport-security", hsts_value.encode()))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        hsts = self.hsts
        if hsts is None:
            # HSTS in development would pin http://localhost to HTTPS in the browser for a
            # year, so "auto" follows the app's debug flag, read per request.
            hsts = not getattr(scope.get("app"), "debug", False)
        extra = self._with_hsts if hsts else self._without_hsts

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {key.lower() for key, _ in headers}
                headers.extend(pair for pair in extra if pair[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
