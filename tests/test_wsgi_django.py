"""A real Django project (settings, URLconf, views, signed-cookie sessions, CSRF) mounted in a
brace app beside brace routes: Django sees its prefix as SCRIPT_NAME, `reverse()` builds links
under the mount, and its session and CSRF protection keep working."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest

django = pytest.importorskip("django")

from brace import App  # noqa: E402
from brace.testing import TestClient  # noqa: E402
from brace.wsgi import WSGIApp  # noqa: E402


def configure_django() -> Any:
    from django.conf import settings

    if not settings.configured:
        urls = types.ModuleType("brace_test_django_urls")
        sys.modules[urls.__name__] = urls
        settings.configure(
            DEBUG=False,
            SECRET_KEY="a-django-secret-for-the-tests-only-0123456789",
            ROOT_URLCONF=urls.__name__,
            ALLOWED_HOSTS=["testserver"],
            MIDDLEWARE=[
                "django.contrib.sessions.middleware.SessionMiddleware",
                "django.middleware.csrf.CsrfViewMiddleware",
            ],
            INSTALLED_APPS=["django.contrib.sessions"],
            SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
            DATABASES={},
        )
        django.setup()
        from django.http import HttpResponse, JsonResponse
        from django.middleware.csrf import get_token
        from django.urls import path, reverse

        def hello(request: Any) -> Any:
            return JsonResponse(
                {"link": reverse("hello"), "script_name": request.META["SCRIPT_NAME"]}
            )

        def visits(request: Any) -> Any:
            request.session["n"] = request.session.get("n", 0) + 1
            return HttpResponse(str(request.session["n"]))

        def form(request: Any) -> Any:
            if request.method == "POST":
                return HttpResponse(f"got {request.POST.get('name', '')}")
            return HttpResponse(get_token(request))

        urls.urlpatterns = [  # type: ignore[attr-defined]
            path("hello", hello, name="hello"),
            path("visits", visits),
            path("form", form),
        ]
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = App()

    @app.get("/")
    async def home() -> str:
        return "brace"

    app.mount("/django", WSGIApp(configure_django()))
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


def test_django_beside_brace(client: TestClient) -> None:
    assert client.get("/").text == "brace"
    assert client.get("/django/hello").json() == {
        "link": "/django/hello",
        "script_name": "/django",
    }
    assert client.get("/django/missing").status_code == 404


def test_django_sessions_and_csrf_keep_working(client: TestClient) -> None:
    assert [client.get("/django/visits").text for _ in range(3)] == ["1", "2", "3"]
    token = client.get("/django/form").text
    refused = client.post("/django/form", data={"name": "x"})
    assert refused.status_code == 403  # Django's own CSRF check, untouched by the mount
    accepted = client.post(
        "/django/form",
        data={"name": "<b>ada</b>", "csrfmiddlewaretoken": token},
        headers={"referer": "http://testserver/django/form"},
    )
    assert accepted.status_code == 200 and accepted.text == "got <b>ada</b>"
