"""Password reset by email: the same answer for unknown addresses, single-use and expiring
links, password rules, and the mail backends."""

import asyncio
import re
import time
from typing import Any

import pytest

from brace.auth.reset import PasswordResetTokens
from brace.mail import ConsoleMailer, MemoryMailer, Message
from brace.testing import TestClient
from support_auth import PASSWORD, csrf, log_in, make_app

NEW = "a fresh and long passphrase"


def ask_reset(client: TestClient, email: str) -> Any:
    token = csrf(client)
    return client.post("/auth/password-reset", data={"email": email, "csrf_token": token})


def link_from(mailer: MemoryMailer) -> str:
    match = re.search(r"https?://[^/]+(/auth/password-reset/\S+)", mailer.outbox[-1].body)
    assert match is not None
    return match.group(1)


def choose(client: TestClient, path: str, password: str, confirm: str | None = None) -> Any:
    data = {"password": password, "confirm": confirm or password, "csrf_token": csrf(client)}
    return client.post(path, data=data)


@pytest.fixture
def mailer() -> MemoryMailer:
    return MemoryMailer()


def test_reset_flow_and_single_use(db_url: str, mailer: MemoryMailer) -> None:
    with TestClient(make_app(db_url, mailer=mailer)) as client:
        assert "Forgot your password?" in client.get("/auth/login").text
        sent = ask_reset(client, "ada@example.com")
        assert sent.status_code == 200 and "If an account exists" in sent.text
        assert [m.to for m in mailer.outbox] == [["ada@example.com"]]
        path = link_from(mailer)
        assert client.get(path).status_code == 200
        done = choose(client, path, NEW)
        assert done.status_code == 303 and done.headers["location"] == "/auth/login"
        assert log_in(client, password=PASSWORD).status_code == 400
        assert log_in(client, password=NEW).status_code == 303
        # The link worked once: now (password changed, and logged in since) it is dead.
        reused = client.get(path)
        assert reused.status_code == 400 and "invalid or has expired" in reused.text
        assert choose(client, path, "yet another long passphrase").status_code == 400


def test_unknown_and_inactive_addresses_get_the_same_page(
    db_url: str, mailer: MemoryMailer
) -> None:
    with TestClient(make_app(db_url, mailer=mailer)) as client:
        answers = {
            ask_reset(client, email).text.count("If an account exists")
            for email in ("nobody@example.com", "gone@example.com", "ada@example.com")
        }
        assert answers == {1}
        assert [m.to for m in mailer.outbox] == [["ada@example.com"]]
        assert ask_reset(client, "x").status_code == 422  # not even an address


def test_new_password_rules(db_url: str, mailer: MemoryMailer) -> None:
    with TestClient(make_app(db_url, mailer=mailer)) as client:
        ask_reset(client, "ada@example.com")
        path = link_from(mailer)
        for password, confirm, message in [
            ("short", None, "at least 10 characters"),
            ("password123", None, "too common"),
            ("ada@example.com", None, "name or email"),
            (NEW, NEW + "x", "The two passwords differ."),
        ]:
            r = choose(client, path, password, confirm)
            assert r.status_code == 422 and message in r.text, password
        assert choose(client, path, NEW).status_code == 303


@pytest.mark.parametrize(
    "token",
    ["1-zzzz-deadbeef", "1-x-y-z", "../../etc/passwd", "<script>", "999-abc-def", "a" * 300],
)
def test_forged_links_are_refused(client: TestClient, token: str) -> None:
    r = client.get(f"/auth/password-reset/{token}")
    assert r.status_code in (400, 404)
    assert "<script>" not in r.text


class FakeUser:
    id = 3
    email = "e@x.y"
    password_hash = "$argon2id$v=19$m=19456,t=2,p=1$abc$def"
    last_login = None


def test_tokens_expire_and_are_bound_to_the_password() -> None:
    tokens = PasswordResetTokens("a-secret-of-enough-length", max_age=60)
    user = FakeUser()
    token = tokens.make(user, now=1_000_000)
    assert tokens.check(user, token, now=1_000_030)
    assert not tokens.check(user, token, now=1_000_061)  # expired
    assert not tokens.check(user, token, now=999_000)  # from the future
    other = PasswordResetTokens("another-secret-of-length", max_age=60)
    assert not other.check(user, token, now=1_000_030)
    user.password_hash = "$argon2id$changed"
    assert not tokens.check(user, token, now=1_000_030)
    with pytest.raises(ValueError):
        PasswordResetTokens("short")
    assert PasswordResetTokens.user_id("nonsense") is None


def test_mail_backends(caplog: pytest.LogCaptureFixture) -> None:
    message = Message(to=["a@example.com"], subject="Hello", body="Body text", html="<p>Hi</p>")
    asyncio.run(ConsoleMailer().send(message))
    assert "Subject: Hello" in caplog.text and "Body text" in caplog.text
    memory = MemoryMailer()
    asyncio.run(memory.send(message))
    assert memory.outbox == [message]
    with pytest.raises(ValueError, match="line breaks"):
        asyncio.run(memory.send(Message(to=["a@x.y"], subject="Hi\r\nBcc: all@x.y", body="")))
    assert time.time() > 0


def test_smtp_mailer_speaks_starttls_and_logs_in(monkeypatch: pytest.MonkeyPatch) -> None:
    import smtplib

    from brace.mail import SMTPMailer

    calls: list[tuple[str, Any]] = []

    class FakeSMTP:
        def __init__(self, host: str, port: int, timeout: float) -> None:
            calls.append(("connect", (host, port, timeout)))

        def __enter__(self) -> "FakeSMTP":
            return self

        def __exit__(self, *exc: object) -> None:
            calls.append(("quit", None))

        def starttls(self, context: Any) -> None:
            calls.append(("starttls", context is not None))

        def login(self, user: str, password: str) -> None:
            calls.append(("login", user))

        def send_message(self, email: Any) -> None:
            calls.append(("send", (email["To"], email["Subject"])))

    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    mailer = SMTPMailer("mail.example", username="robot", password="pw")
    asyncio.run(mailer.send(Message(to=["a@example.com"], subject="Hi", body="Body")))
    assert calls == [
        ("connect", ("mail.example", 587, 10.0)),
        ("starttls", True),
        ("login", "robot"),
        ("send", ("a@example.com", "Hi")),
        ("quit", None),
    ]


def test_a_password_reset_ends_opaque_bearer_tokens(db_url: str, mailer: MemoryMailer) -> None:
    from sqlalchemy import select

    from brace.auth import User
    from brace.auth.tokens import create_access_token
    from brace.db import DB

    app = make_app(db_url, mailer=mailer)

    @app.post("/issue-opaque")
    async def issue(session: DB) -> str:
        user = await session.scalar(select(User).where(User.email == "ada@example.com"))
        return await create_access_token(session, user, label="test")

    with TestClient(app) as client:
        token = client.post("/issue-opaque").text
        bearer = {"Authorization": f"Bearer {token}"}
        assert client.get("/private", headers=bearer).text == "hello ada@example.com"
        ask_reset(client, "ada@example.com")
        assert choose(client, link_from(mailer), NEW).status_code == 303
        assert client.get("/private", headers=bearer).status_code == 401


class DownMailer:
    """A mail server that is down: every send fails after a while."""

    def __init__(self) -> None:
        self.tried: list[str] = []

    async def send(self, message: Message) -> None:
        self.tried.extend(message.to)
        await asyncio.sleep(0.05)
        raise ConnectionRefusedError("the mail server is down")


def test_with_the_mailer_down_both_paths_answer_the_same(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    mailer = DownMailer()
    with TestClient(make_app(db_url, mailer=mailer)) as client:
        known = ask_reset(client, "ada@example.com")
        unknown = ask_reset(client, "nobody@example.com")
    assert known.status_code == unknown.status_code == 200

    # The same page, but for the per-page CSRF token.
    def page(text: str) -> str:
        return re.sub(r'value="[^"]+"', 'value=""', text)

    assert page(known.text) == page(unknown.text)
    assert "If an account exists" in known.text and "If an account exists" in unknown.text
    assert mailer.tried == ["ada@example.com"]  # sent after the response, and it failed...
    assert "Background task" in caplog.text and "mail server is down" in caplog.text  # logged


def test_reset_requests_are_rate_limited_per_address(db_url: str, mailer: MemoryMailer) -> None:
    with TestClient(make_app(db_url, mailer=mailer)) as client:
        for _ in range(5):
            assert ask_reset(client, "ada@example.com").status_code == 200
        refused = ask_reset(client, "ada@example.com")
        assert refused.status_code == 429 and refused.headers["retry-after"] == "900"
        assert len(mailer.outbox) == 5


def test_the_empty_reset_page_is_a_200(client: TestClient) -> None:
    page = client.get("/auth/password-reset")
    assert page.status_code == 200 and 'name="email"' in page.text
    invalid = client.post("/auth/password-reset", data={"email": "", "csrf_token": csrf(client)})
    assert invalid.status_code == 422
