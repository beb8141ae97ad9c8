"""Sign-up: a new account is created and logged in; bad input comes back with messages."""

from typing import Any

import pytest

from brace.testing import TestClient
from support_auth import csrf, log_in

GOOD = "a long and fresh passphrase"


def sign_up(
    client: TestClient,
    email: str,
    password: str = GOOD,
    confirm: str | None = None,
    next_url: str = "/private",
) -> Any:
    data = {
        "email": email,
        "password": password,
        "confirm": confirm or password,
        "next": next_url,
        "csrf_token": csrf(client),
    }
    return client.post("/auth/signup", data=data)


def test_sign_up_logs_in(client: TestClient) -> None:
    assert "Create an account" in client.get("/auth/signup").text
    r = sign_up(client, "new@example.com")
    assert r.status_code == 303 and r.headers["location"] == "/private"
    assert client.get("/private").text == "hello new@example.com"


@pytest.mark.parametrize(
    ("email", "password", "confirm", "message"),
    [
        ("ada@example.com", GOOD, None, "already exists"),
        ("not an email", GOOD, None, "expected format"),
        ("x@example.com", "short", None, "at least 10 characters"),
        ("x@example.com", GOOD, GOOD + "!", "The two passwords differ."),
        ("<script>@x.y", GOOD, None, "expected format"),
    ],
)
def test_sign_up_refusals(
    client: TestClient, email: str, password: str, confirm: str | None, message: str
) -> None:
    r = sign_up(client, email, password, confirm)
    assert r.status_code == 422 and message in r.text
    assert "<script>@" not in r.text
    assert client.get("/me").json() == {"email": None}


def test_sign_up_next_stays_on_the_site(client: TestClient) -> None:
    r = sign_up(client, "n2@example.com", next_url="https://evil.example/")
    assert r.headers["location"] == "/"


def test_emails_are_one_account_whatever_their_case(client: TestClient) -> None:
    first = sign_up(client, "Grace@Example.com")
    assert first.status_code == 303, first.text
    again = sign_up(client, "grace@example.COM")
    assert again.status_code == 422
    assert "already exists" in again.text
    assert client.get("/private").text == "hello grace@example.com"  # stored lower-case
    client.post("/auth/logout", data={"csrf_token": csrf(client)})
    assert log_in(client, "GRACE@example.com", GOOD).status_code == 303
