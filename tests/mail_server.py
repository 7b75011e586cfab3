"""A real SMTP server for the tests (aiosmtpd), and two bad ones: one that refuses every mail
and one that accepts the connection and never speaks."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from .support import free_port


class Inbox:
    """What the server received (aiosmtpd's handler interface)."""

    def __init__(self, refuse: bool = False) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse = refuse

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.refuse:
            return "550 5.7.1 refused by the test"
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def last_link(self, address: str) -> str:
        """The link in the plain-text part of the last mail to `address`."""
        text = self.to(address)[-1].get_body(("plain",)).get_content()  # type: ignore[union-attr]
        found = re.search(r"https?://\S+", text)
        assert found, text
        return found.group(0)


@contextmanager
def smtp_server(refuse: bool = False) -> Iterator[tuple[str, Inbox]]:
    inbox = Inbox(refuse)
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}", inbox
    finally:
        controller.stop()


@contextmanager
def silent_smtp_server() -> Iterator[str]:
    """Accepts connections and never sends a greeting: a hung SMTP server."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"smtp://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()
