"""Fixtures shared by the whole suite."""

from support_db import db_url, postgres_url
from support_redis import need_redis

__all__ = ["db_url", "need_redis", "postgres_url"]
