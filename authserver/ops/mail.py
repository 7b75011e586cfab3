"""Mail through the operator's SMTP server, sent from a bounded queue by one background thread
per worker, so that a slow or absent SMTP server never holds a request.

A page puts its message in the queue and answers at once. The sender hands each message over
with smtplib (STARTTLS when the server offers it on smtp://, TLS from the start on smtps://),
each conversation bounded by AUTHSERVER_SMTP_TIMEOUT. A message that cannot be handed over (the
server refuses, is down or too slow, the queue is full) is logged and audited as `mail.failed`;
nobody's page changes. At shutdown the queue is given a few seconds to empty; what is still
queued then is logged as lost (README "Mail").
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import smtplib
import ssl
import threading
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from .. import events

log = logging.getLogger("authserver")
# Messages waiting for the SMTP server, per worker; more than this are refused (and audited).
QUEUE_SIZE = 200
# How long a stopping worker waits for its queue to empty.
SHUTDOWN_GRACE = 5.0


def deliver(smtp_url: str, message: EmailMessage, timeout: float) -> None:
    """Hand one message to the SMTP server (smtplib's errors and OSError when it cannot)."""
    parts = urlsplit(smtp_url)
    host = parts.hostname or "localhost"
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if parts.scheme == "smtps":
        smtp = smtplib.SMTP_SSL(host, parts.port or 465, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(host, parts.port or 25, timeout=timeout)
    with smtp:
        smtp.ehlo()
        if parts.scheme == "smtp" and smtp.has_extn("starttls"):
            smtp.starttls(context=context)
            smtp.ehlo()
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(message)


def build_message(sender: str, to: str, subject: str, text: str, html: str,
                  purpose: str) -> EmailMessage:
    """Plain text (which holds the link) with an HTML alternative."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["X-Authserver-Purpose"] = purpose
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


class Mailer:
    """The worker's outgoing mail queue and its sender thread (started on first use, in the
    process that uses it: a forked worker starts its own)."""

    def __init__(self, smtp_url: str, sender: str, timeout: float) -> None:
        self.smtp_url = smtp_url
        self.sender = sender
        self.timeout = timeout
        self.queue: queue.Queue[EmailMessage] = queue.Queue(QUEUE_SIZE)
        self._lock = threading.Lock()
        self._pid: int | None = None

    def send(self, to: str, subject: str, text: str, html: str, purpose: str) -> None:
        """Queue a message (plain text with an HTML alternative); never waits for the server."""
        message = build_message(self.sender, to, subject, text, html, purpose)
        self._start()
        try:
            self.queue.put_nowait(message)
        except queue.Full:
            self._failed(message, "queue full")

    def wait_until_sent(self, timeout: float) -> bool:
        """Whether the queue emptied within `timeout` seconds (for shutdown and tests)."""
        done = threading.Event()

        def join() -> None:
            self.queue.join()
            done.set()

        threading.Thread(target=join, daemon=True).start()
        return done.wait(timeout)

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            if self._pid is not None:
                self.queue = queue.Queue(QUEUE_SIZE)  # a forked child: the parent's is not ours
            self._pid = os.getpid()
            threading.Thread(target=self._run, name="authserver-mail", daemon=True).start()
            atexit.register(self._drain_at_exit)

    def _run(self) -> None:
        while True:
            message = self.queue.get()
            try:
                deliver(self.smtp_url, message, self.timeout)
                events.record("mail.sent", purpose=message["X-Authserver-Purpose"],
                              to_fingerprint=events.fingerprint(str(message["To"]).lower()))
            except (smtplib.SMTPException, OSError) as exc:
                self._failed(message, f"{type(exc).__name__}: {exc}")
            finally:
                self.queue.task_done()

    def _failed(self, message: EmailMessage, reason: str) -> None:
        log.error("mail (%s) could not be handed to %s: %s", message["X-Authserver-Purpose"],
                  urlsplit(self.smtp_url).hostname, reason)
        events.record("mail.failed", "failure", purpose=message["X-Authserver-Purpose"],
                      to_fingerprint=events.fingerprint(str(message["To"]).lower()),
                      reason=reason)

    def _drain_at_exit(self) -> None:
        if not self.wait_until_sent(SHUTDOWN_GRACE):
            log.error("%d mail(s) still queued at shutdown were not sent", self.queue.qsize())
