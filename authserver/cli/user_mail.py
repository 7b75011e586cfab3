"""`authserver user verify-email USERNAME`: mail the user a verification link, now.

The CLI sends the mail itself and waits for the SMTP server's answer (exit 1 naming the
problem when it cannot hand the mail over; exit 2 for an unknown user, a user without an
address, or no AUTHSERVER_SMTP_URL), unlike the pages, which queue it.
"""

from __future__ import annotations

import smtplib
import time

import click

from ..models import VERIFY_EMAIL
from ..operations.users import find
from ..ops.mail import build_message, deliver
from ..store.account_links import issue_link
from ..web import mails
from ._common import audit_admin, database_session, load_settings
from .errors import BadInput
from .users import _run, user


@user.command("verify-email")
@click.argument("username")
def verify_email(username: str) -> None:
    """Mail USERNAME a link that verifies their email address (AUTHSERVER_SMTP_URL)."""
    settings = load_settings()
    if not settings.smtp_url:
        raise BadInput("AUTHSERVER_SMTP_URL is not set: no mail can be sent")
    with database_session() as session:
        found = _run(lambda: find(session, username))
        if not found.email:
            raise BadInput(f"user {username!r} has no email address")
        email, sub = found.email, found.sub
        token = issue_link(session, found, VERIFY_EMAIL, email, settings.email_token_ttl,
                           int(time.time()))
        with mails.rendering_app(settings).test_request_context():
            subject, text, html = mails.verification(username, token)
    message = build_message(settings.mail_from, email, subject, text, html, "verify_email")
    try:
        deliver(settings.smtp_url, message, settings.smtp_timeout)
    except (smtplib.SMTPException, OSError) as exc:
        audit_admin("user_verification_mail_failed", sub=sub, username=username)
        raise click.ClickException(f"the mail could not be handed to the SMTP server: "
                                   f"{type(exc).__name__}: {exc}") from None
    audit_admin("user_verification_mailed", sub=sub, username=username)
    click.echo(f"sent a verification link to {email}")
