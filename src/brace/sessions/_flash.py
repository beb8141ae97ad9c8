"""Flash messages: set during one request, shown once on the next page."""

from __future__ import annotations

from typing import Any

from ..core.requests import Request

__all__ = ["flash", "get_flashed_messages"]

_KEY = "_flashes"
MAX_FLASH_TEXT = 1024
"""Characters of queued flash messages kept at most (the newest win): flashing in a loop
must never overflow a signed-cookie session, which would fail the response after the
action already ran."""
_MAX_CATEGORY = 32


def flash(request: Request, message: str, category: str = "info") -> None:
    """Queue `message` for the next page that shows flashed messages."""
    message = str(message)
    if len(message) > MAX_FLASH_TEXT:
        message = message[: MAX_FLASH_TEXT - 1] + "…"
    queued: list[list[str]] = list(request.session.get(_KEY, []))
    queued.append([str(category)[:_MAX_CATEGORY], message])
    while sum(len(text) for _, text in queued) > MAX_FLASH_TEXT:
        queued.pop(0)  # the oldest goes first
    request.session[_KEY] = queued


def get_flashed_messages(
    request: Request, *, with_categories: bool = False, category_filter: tuple[str, ...] = ()
) -> list[Any]:
    """The queued messages (and remove them: each is shown once)."""
    queued: list[list[str]] = request.session.pop(_KEY, [])
    if category_filter:
        kept = [item for item in queued if item[0] not in category_filter]
        if kept:
            request.session[_KEY] = kept
        queued = [item for item in queued if item[0] in category_filter]
    if with_categories:
        return [(category, message) for category, message in queued]
    return [message for _, message in queued]
