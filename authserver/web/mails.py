"""The mails people get: a verification link, a reset link, "you already have an account".
Rendered in the request's language from templates/mail/<name>.txt and .html (a theme may
replace them), then queued (ops/mail.py): the page never waits for the SMTP server."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, current_app, render_template
from flask_babel import gettext

from .. import context
from ..config import Settings
from ..ops.mail import Mailer
from . import i18n, theme

MAILER = "authserver.mailer"


def mailer() -> Mailer | None:
    """The worker's mailer, or None when no SMTP server is configured."""
    found = current_app.extensions.get(MAILER)
    return found if isinstance(found, Mailer) else None


def rendering_app(settings: Settings) -> Flask:
    """An app that only renders mails (the CLI's `user verify-email`): the templates, the
    theme, the catalogs, without a database or keys."""
    app = Flask("authserver")
    app.extensions[context.SETTINGS] = settings
    i18n.install(app)
    theme.install(app, settings.theme_dir)
    return app


def link(path: str, token: str) -> str:
    return f"{context.settings().issuer}{path}?{urlencode({'token': token})}"


def compose(template: str, **values: object) -> tuple[str, str]:
    """The mail's plain text and HTML, in the current request's language."""
    values = {"issuer": context.settings().issuer, **values}
    return (render_template(f"mail/{template}.txt", **values),
            render_template(f"mail/{template}.html", **values))


def verification(username: str, token: str) -> tuple[str, str, str]:
    """The verification mail: subject, text, HTML."""
    text, html = compose("verify_email", username=username, url=link("/account/verify", token),
                         hours=context.settings().email_token_ttl // 3600)
    return gettext("Confirm your email address"), text, html


def _send(to: str, purpose: str, subject: str, text: str, html: str) -> None:
    sender = mailer()
    if sender is not None:
        sender.send(to, subject, text, html, purpose=purpose)


def verify_email(to: str, username: str, token: str) -> None:
    _send(to, "verify_email", *verification(username, token))


def reset_password(to: str, username: str, token: str) -> None:
    text, html = compose("reset_password", username=username, url=link("/account/reset", token),
                         minutes=context.settings().reset_token_ttl // 60)
    _send(to, "reset_password", gettext("Reset your password"), text, html)


def account_exists(to: str, username: str, token: str) -> None:
    """Someone signed up with an address that already has an account: its owner is told, with
    a reset link, and the sign-up page said nothing of it."""
    text, html = compose("account_exists", username=username,
                         url=link("/account/reset", token),
                         minutes=context.settings().reset_token_ttl // 60)
    _send(to, "account_exists", gettext("You already have an account"), text, html)
