"""One SMTP attempt has an overall deadline: a server on 127.0.0.1 that trickles its replies a
byte at a time is cut off when the time is up, not after each byte."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import pytest

from hepplan.cli import cli
from hepplan.deliver import mail

from .conftest import EXAMPLES, REPO

CLINIC = REPO / "examples" / "clinic.yaml"
TIGHT = EXAMPLES / "tight-piriformis.yaml"


class Trickler:
    """A mail server that answers normally until ``phase``, then sends "250 OK250 OK..." one
    byte every ``gap`` seconds and never ends the line (it gives up after ``patience`` s)."""

    def __init__(self, phase: str, gap: float = 0.25, patience: float = 8.0):
        self.phase, self.gap, self.patience = phase, gap, patience
        self.connections = 0
        self.messages = 0
        self.stop = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while not self.stop.is_set():
                client, _ = self.listener.accept()
                self.connections += 1
                threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _trickle(self, client: socket.socket) -> None:
        end, sent = time.monotonic() + self.patience, 0
        while time.monotonic() < end and not self.stop.is_set():
            client.sendall(b"250 OK"[sent % 6 : sent % 6 + 1])
            sent += 1
            time.sleep(self.gap)

    def _serve(self, client: socket.socket) -> None:
        with client, contextlib.suppress(OSError):
            if self.phase == "greeting":
                self._trickle(client)
                return
            client.sendall(b"220 slow.example.org ESMTP\r\n")
            lines = client.makefile("rb")
            for line in lines:
                command = line[:4].upper()
                if command in (b"EHLO", b"HELO"):
                    client.sendall(b"250 slow.example.org\r\n")
                elif command in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                    client.sendall(b"250 OK\r\n")
                elif command == b"DATA":
                    client.sendall(b"354 go ahead\r\n")
                    for body in lines:
                        if body == b".\r\n":
                            break
                    self.messages += 1
                    self._trickle(client)
                    return
                elif command == b"QUIT":
                    client.sendall(b"221 bye\r\n")
                    return

    def close(self) -> None:
        self.stop.set()
        self.listener.close()


@pytest.fixture(autouse=True)
def quiet_environment(monkeypatch):
    for key in ("HOST", "PORT", "SECURITY", "USER", "FROM", "PASSWORD", "TIMEOUT"):
        monkeypatch.delenv(f"HEPPLAN_SMTP_{key}", raising=False)
    monkeypatch.setattr(mail, "RETRY_DELAYS", (0.0, 0.0, 0.0))


def send(runner, port: int, env: dict[str, str]):
    command = ["email", str(TIGHT), "--clinic", str(CLINIC), "--smtp-host", "127.0.0.1"]
    command += ["--smtp-port", str(port), "--security", "none"]
    return runner.invoke(cli, command, env=env)


@pytest.mark.parametrize("phase", ["greeting", "after the message"])
def test_a_server_that_trickles_its_reply_is_cut_off_by_the_deadline(runner, phase):
    server = Trickler(phase)
    try:
        started = time.monotonic()
        result = send(runner, server.port, {"HEPPLAN_SMTP_TIMEOUT": "1"})
        elapsed = time.monotonic() - started
    finally:
        server.close()
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [
        *["P-1001: no answer within 1 s; trying again in 0 s"] * 3,
        f"error: could not deliver to the mail server at 127.0.0.1:{server.port} after 4 "
        "attempts (no answer within 1 s); the program was not sent",
    ]
    assert server.connections == 4
    assert elapsed < 4 * 1 + 2.5  # four attempts of one second each, not four of the trickle
    if phase == "after the message":
        assert server.messages == 4  # the server took the message and never said so


@pytest.mark.parametrize("value", ["soon", "0", "0.5", "301", "nan", "-5"])
def test_a_deadline_that_is_not_a_number_of_seconds_is_refused(runner, value):
    result = send(runner, 25, {"HEPPLAN_SMTP_TIMEOUT": value})
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: HEPPLAN_SMTP_TIMEOUT: {value!r} is not a number of seconds from 1 to 300\n"
    )
