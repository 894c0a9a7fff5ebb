"""Real mail servers for the e-mail tests: aiosmtpd on 127.0.0.1, with TLS certificates made
by trustme for one test at a time."""

from __future__ import annotations

import contextlib
import socket
import ssl
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, PASSWORD = "frontdesk", "s3cret-Pa55word"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Inbox:
    """An aiosmtpd handler that keeps what it receives. ``data_replies`` and ``rcpt_replies``
    are answered, in turn, instead of accepting (for 4xx and 5xx servers)."""

    data_replies: list[str] = field(default_factory=list)
    rcpt_replies: list[str] = field(default_factory=list)
    received: list = field(default_factory=list)
    data_commands: int = 0
    logins: list[tuple[str, bool]] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_replies:
            return self.rcpt_replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_commands += 1
        if self.data_replies:
            return self.data_replies.pop(0)
        self.received.append(envelope)
        return "250 2.0.0 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode(),
            auth_data.password.decode(),
        ) == (USER, PASSWORD)
        self.logins.append((auth_data.login.decode(), ok))
        return AuthResult(success=ok, handled=False)


@contextlib.contextmanager
def mail_server(
    inbox: Inbox,
    *,
    tls: ssl.SSLContext | None = None,
    implicit_tls: ssl.SSLContext | None = None,
    auth: bool = False,
):
    """A running SMTP server on 127.0.0.1; yields its port.

    ``tls`` offers STARTTLS (and requires it), ``implicit_tls`` speaks TLS from the first byte,
    ``auth`` requires a login (user ``USER``, password ``PASSWORD``).
    """
    port = free_port()
    options = {}
    if tls is not None:
        options.update(tls_context=tls, require_starttls=True)
    if auth:
        options.update(
            authenticator=inbox.authenticate,
            auth_required=True,
            auth_require_tls=tls is not None or implicit_tls is not None,
        )
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        ssl_context=implicit_tls,
        server_hostname="127.0.0.1",
        **options,
    )
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def server_context(ca) -> ssl.SSLContext:
    """A server TLS context with a certificate for 127.0.0.1 issued by the test's own CA."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context
