"""Fixtures shared by the whole suite."""

from support_db import db_url, postgres_url

__all__ = ["db_url", "postgres_url"]
