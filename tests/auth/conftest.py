"""Fixtures of the auth tests (the app and helpers live in tests/support_auth.py)."""

from support_auth import app, client

__all__ = ["app", "client"]
