"""Our HTML pages' one rule: rendered with the session's CSRF token, never cached."""

from __future__ import annotations

from typing import Any

from flask import Response, render_template

from .. import context
from .mails import mailer
from .session import csrf_token


def page(template: str, status: int = 200, **values: Any) -> Response:
    offers = {
        # What the login page may link to: sign-up when open, a reset when mail can be sent.
        "signup_open": context.settings().signup == "open",
        "mail_enabled": mailer() is not None,
    }
    response = Response(render_template(template, csrf_token=csrf_token(), **{**offers, **values}),
                        status)
    response.headers["Cache-Control"] = "no-store"
    return response
