"""An SMTP server that refuses or hangs changes no page and holds no request: the mail is
logged and audited as failed, in the background."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from authserver import events
from authserver.config import Settings

from .account_helpers import mail_app, post_form
from .helpers import make_user
from .mail_server import silent_smtp_server, smtp_server


@contextmanager
def recorded() -> Iterator[list[tuple[str, str, dict[str, Any]]]]:
    seen: list[tuple[str, str, dict[str, Any]]] = []

    def note(name: str, *, outcome: str, fields: dict[str, Any]) -> None:
        seen.append((name, outcome, fields))

    events.security_event.connect(note)
    try:
        yield seen
    finally:
        events.security_event.disconnect(note)


def _forgot_twice(settings: Settings, smtp_url: str) -> tuple[list[Any], float, bool]:
    app = mail_app(settings, smtp_url, smtp_timeout=3)
    make_user(app, email="alice@example.com")
    started = time.monotonic()
    answers = [post_form(app.test_client(), "/account/forgot", {"email": address})
               for address in ("alice@example.com", "nobody@example.com")]
    took = time.monotonic() - started
    sent = app.extensions["authserver.mailer"].wait_until_sent(10)
    app.extensions["authserver.db"].dispose()
    return answers, took, sent


def test_a_refusing_smtp_server_changes_no_answer_and_is_audited(settings: Settings) -> None:
    with smtp_server(refuse=True) as (url, inbox), recorded() as seen:
        (known, unknown), _, sent = _forgot_twice(settings, url)
    assert sent and inbox.messages == []
    assert known.status_code == unknown.status_code == 200
    assert "Check your email" in known.get_data(as_text=True)
    failures = [fields for name, outcome, fields in seen if name == "mail.failed"]
    assert len(failures) == 1 and "refused" in failures[0]["reason"]
    assert failures[0]["purpose"] == "reset_password"


def test_a_hung_smtp_server_holds_no_request(settings: Settings) -> None:
    with silent_smtp_server() as url, recorded() as seen:
        (known, unknown), took, sent = _forgot_twice(settings, url)
    assert known.status_code == unknown.status_code == 200
    assert took < 3.0  # the pages did not wait for the 3-second SMTP timeout
    assert sent  # the sender gave up after AUTHSERVER_SMTP_TIMEOUT
    failures = [fields for name, outcome, fields in seen if name == "mail.failed"]
    assert len(failures) == 1 and "timed out" in failures[0]["reason"].lower()
