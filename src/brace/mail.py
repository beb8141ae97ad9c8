"""Sending email through a pluggable backend: the console (default, for development), memory
(tests read `outbox`), or SMTP.

    mailer = ConsoleMailer()
    await mailer.send(Message(to=["ada@example.com"], subject="Hi", body="..."))
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Protocol

__all__ = ["ConsoleMailer", "Mailer", "MemoryMailer", "Message", "SMTPMailer"]

logger = logging.getLogger("brace.mail")


@dataclass(frozen=True, slots=True)
class Message:
    to: list[str]
    subject: str
    body: str
    sender: str = "webmaster@localhost"
    html: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def to_email(self) -> EmailMessage:
        """The message as an RFC 5322 email; header injection through CR/LF is refused."""
        values = [self.subject, self.sender, *self.to, *self.headers.values()]
        if any("\r" in value or "\n" in value for value in values):
            raise ValueError("email headers must not contain line breaks")
        email = EmailMessage()
        email["Subject"] = self.subject
        email["From"] = self.sender
        email["To"] = ", ".join(self.to)
        for name, value in self.headers.items():
            email[name] = value
        email.set_content(self.body)
        if self.html is not None:
            email.add_alternative(self.html, subtype="html")
        return email


class Mailer(Protocol):
    async def send(self, message: Message) -> None: ...


class ConsoleMailer:
    """Writes messages to the `brace.mail` log (development: the reset link shows up there)."""

    async def send(self, message: Message) -> None:
        email = message.to_email()
        logger.warning("email (console backend, not sent):\n%s", email.as_string())


class MemoryMailer:
    """Keeps messages in `outbox` (tests)."""

    def __init__(self) -> None:
        self.outbox: list[Message] = []

    async def send(self, message: Message) -> None:
        message.to_email()  # the same validation as a real send
        self.outbox.append(message)


class SMTPMailer:
    """Sends through an SMTP server (STARTTLS by default), in a worker thread."""

    def __init__(
        self,
        host: str,
        port: int = 587,
        *,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.starttls = starttls
        self.timeout = timeout

    async def send(self, message: Message) -> None:
        await asyncio.to_thread(self._send, message.to_email())

    def _send(self, email: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username is not None and self.password is not None:
                smtp.login(self.username, self.password)
            smtp.send_message(email)
