"""Signed, timestamped tokens (HMAC-SHA256) with key rotation: the first key signs, every key
verifies, so a new key can be rolled out without logging everyone out."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Sequence

__all__ = ["Signer"]


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _unb64(data: bytes) -> bytes:
    return base64.urlsafe_b64decode(data + b"=" * (-len(data) % 4))


class Signer:
    """`sign(payload) -> token`, `unsign(token, max_age) -> payload | None`."""

    def __init__(self, secret_keys: str | Sequence[str], *, salt: str = "brace.session") -> None:
        keys = [secret_keys] if isinstance(secret_keys, str) else list(secret_keys)
        if not keys or any(len(key) < 16 for key in keys):
            raise ValueError("session secret keys must be at least 16 characters long")
        # Derive per-purpose keys so the same secret can serve other signers safely.
        self._keys = [hashlib.sha256(f"{salt}:{key}".encode()).digest() for key in keys]

    def _mac(self, key: bytes, message: bytes) -> bytes:
        return _b64(hmac.new(key, message, hashlib.sha256).digest())

    def sign(self, payload: bytes, now: float | None = None) -> str:
        stamp = _b64(int(now if now is not None else time.time()).to_bytes(8, "big"))
        message = _b64(payload) + b"." + stamp
        return (message + b"." + self._mac(self._keys[0], message)).decode("ascii")

    def unsign(self, token: str, max_age: float | None, now: float | None = None) -> bytes | None:
        """The payload, or None when the token is malformed, forged or expired."""
        try:
            raw = token.encode("ascii")
            message, _, mac = raw.rpartition(b".")
            body, _, stamp = message.partition(b".")
            if not body or not stamp or not mac:
                return None
            if not any(hmac.compare_digest(self._mac(key, message), mac) for key in self._keys):
                return None
            issued = int.from_bytes(_unb64(stamp), "big")
            current = now if now is not None else time.time()
            if max_age is not None and current - issued > max_age:
                return None
            return _unb64(body)
        except (UnicodeError, ValueError):
            return None
