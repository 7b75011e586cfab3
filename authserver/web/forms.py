"""What the self-service forms share: CSRF, throttling answers, the address of the caller."""

from __future__ import annotations

from flask import request
from flask_babel import gettext

from .. import context, events
from .session import csrf_valid
from .wording import wait_words

# Mails one may ask for: per address (the caller's) and per account (the address typed).
# (count, seconds): at most count in each window.
MAILS_PER_ADDRESS = (20, 3600)
MAILS_PER_ACCOUNT = (3, 900)
SIGNUPS_PER_ADDRESS = (10, 3600)


def form_expired() -> str:
    return gettext("This form expired or did not come from this site. Please try again.")


def csrf_ok() -> bool:
    return csrf_valid(request.form.get("csrf_token"))


def caller_address() -> str:
    return request.remote_addr or "-"


def throttled_mail(event: str, email: str) -> str | None:
    """The page's words when this caller or this typed address asked for too many mails. The
    per-account count is of the address typed, known or not: it tells nothing about accounts."""
    throttle = context.throttle()
    wait = (throttle.admit(f"{event}-address", caller_address(), MAILS_PER_ADDRESS)
            or throttle.admit(f"{event}-account", email.lower(), MAILS_PER_ACCOUNT))
    if wait is None:
        return None
    events.record(event, "throttled", address=caller_address())
    return gettext("Too many requests. Try again in %(wait)s.", wait=wait_words(wait))
