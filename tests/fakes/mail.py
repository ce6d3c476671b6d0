"""Mail for the tests: a real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it accepts, the notification
settings that point a site at it, a clock a test moves, and the plain-text body of a message."""

from __future__ import annotations

import asyncio
import email
import functools
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any, Self

from aiosmtpd.smtp import SMTP, AuthResult

AUTHOR_EMAIL = "author@example.org"


class SmtpInbox:
    """A real SMTP server on 127.0.0.1 (aiosmtpd in the test's event loop) that keeps what it accepts."""

    def __init__(self, port: int, reject_logins: bool = False) -> None:
        self.port = port
        self.reject_logins = reject_logins
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self._server: asyncio.AbstractServer | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=default_policy))  # type: ignore[arg-type]
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        return AuthResult(success=not self.reject_logins, handled=False)

    async def start(self) -> None:
        factory = functools.partial(
            SMTP, self, hostname="127.0.0.1", authenticator=self.authenticate, auth_require_tls=False
        )
        self._server = await asyncio.get_running_loop().create_server(factory, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()


def body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return part.get_content().replace("\r\n", "\n")  # type: ignore[attr-defined]


def notifications(port: int, **extra: Any) -> dict[str, dict[str, Any]]:
    # A period of an hour: the app's own loop never runs during a test; the test drives run_once().
    values = {
        "email": AUTHOR_EMAIL,
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_starttls": False,
        "interval_seconds": 3600,
    }
    return {"notifications": values | extra, "comments": {"rate_limit_per_minute": 100}}


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)
