"""The fortunes data, shared by every app: TechEmpower's "fortunes" test without the database.

Ten fortunes live in memory. Per request, as in TechEmpower, one more is added and the list is
sorted by message; the template (`bench/templates/fortunes.html`, one file for every app) renders
them as an HTML table with Jinja2's autoescaping on, so the `<script>`, the quotes and the `&`
below are escaped, and the Japanese message is encoded as UTF-8.
"""

from operator import attrgetter
from pathlib import Path
from typing import NamedTuple

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
TEMPLATE = "fortunes.html"


class Fortune(NamedTuple):
    id: int
    message: str


FORTUNES = (
    Fortune(1, "fortune: No such file or directory"),
    Fortune(2, "A computer scientist is someone who fixes things that aren't broken."),
    Fortune(3, "After enough decimal places, nobody gives a damn."),
    Fortune(4, "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1"),
    Fortune(5, "A computer program does what you tell it to do, not what you want it to do."),
    Fortune(6, "Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen"),
    Fortune(7, "Any program that runs right is obsolete."),
    Fortune(8, 'Feature: A bug with seniority & "tenure" at the <b>company</b>.'),
    Fortune(9, '<script>alert("This should not be displayed in a browser alert box.");</script>'),
    Fortune(10, "フレームワークのベンチマーク"),
)
ADDED = Fortune(0, "Additional fortune added at request time.")
_by_message = attrgetter("message")


def fortunes() -> list[Fortune]:
    """What a handler renders: the stored fortunes plus one added at request time, sorted."""
    rows = [*FORTUNES, ADDED]
    rows.sort(key=_by_message)
    return rows
