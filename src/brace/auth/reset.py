"""Password-reset tokens: signed, expiring, and single use.

A token names the user and the time it was made, signed with the app's secret over the user's
current password hash and last login. Resetting the password (or logging in) changes those, so
a used token, or one issued before, stops working; nothing needs storing.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

__all__ = ["PasswordResetTokens"]


def _b36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if number == 0:
            return out


class PasswordResetTokens:
    """`make(user)` for the email, `check(user, token)` when the link is opened."""

    def __init__(self, secret: str, *, max_age: int = 3600) -> None:
        if len(secret) < 16:
            raise ValueError("the reset-token secret must be at least 16 characters")
        self._key = hashlib.sha256(b"brace.auth.reset:" + secret.encode()).digest()
        self.max_age = max_age

    def _signature(self, user: Any, timestamp: int) -> str:
        last_login = user.last_login.replace(microsecond=0).isoformat() if user.last_login else ""
        state = f"{user.id}:{timestamp}:{user.password_hash}:{last_login}:{user.email}"
        return hmac.new(self._key, state.encode(), hashlib.sha256).hexdigest()[:32]

    def make(self, user: Any, *, now: float | None = None) -> str:
        timestamp = int(now if now is not None else time.time())
        return f"{user.id}-{_b36(timestamp)}-{self._signature(user, timestamp)}"

    @staticmethod
    def user_id(token: str) -> str | None:
        """The user id a token claims (check it with `check` before trusting it)."""
        parts = token.split("-")
        if len(parts) != 3 or len(token) > 200:
            return None
        return parts[0] or None

    def check(self, user: Any, token: str, *, now: float | None = None) -> bool:
        parts = token.split("-")
        if len(parts) != 3 or len(token) > 200 or parts[0] != str(user.id):
            return False
        try:
            timestamp = int(parts[1], 36)
        except ValueError:
            return False
        age = int(now if now is not None else time.time()) - timestamp
        if age < 0 or age > self.max_age:
            return False
        return hmac.compare_digest(parts[2], self._signature(user, timestamp))
