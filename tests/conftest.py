"""Fixtures shared by the whole suite."""

from support_db import db_url

__all__ = ["db_url"]
