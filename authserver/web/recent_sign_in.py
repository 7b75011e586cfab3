"""A fresh sign-in for adding a factor: a stolen session (a copied cookie, a browser left open)
must not add a lasting way into the account. Adding a passkey or starting an authenticator
app's set-up needs a sign-in made in the last AUTHSERVER_RECENT_SIGN_IN_MAX_AGE seconds (5
minutes by default), else the current password in
the form (Keycloak's "max auth age" for credential set-up; OWASP ASVS V2.5 re-authentication
before changing authenticators). A user without a password signs in again instead."""

from __future__ import annotations

from flask_babel import gettext

from .. import context
from ..models import User
from .forms import caller_address
from .session import login_session
from .wording import duration_words, wait_words

THROTTLE_KIND = "user"  # a wrong password here counts as a failed sign-in


def recent() -> bool:
    current = login_session()
    max_age = context.settings().recent_sign_in_max_age
    return current is not None and context.store().now() - current.auth_time <= max_age


def confirmed(user: User, password: str | None) -> str | None:
    """None when the sign-in is recent or `password` is the user's, else the words to show
    beside the password field (throttled as sign-ins are)."""
    if recent():
        return None
    ago = duration_words(context.settings().recent_sign_in_max_age)
    if not user.password_hash:
        return gettext("You signed in more than %(ago)s ago. Sign out and sign in again "
                       "to add a way to sign in.", ago=ago)
    throttle, address = context.throttle(), caller_address()
    wait = throttle.retry_after(THROTTLE_KIND, user.username, address)
    if wait:
        return gettext("Too many failed sign-ins. Try again in %(wait)s.", wait=wait_words(wait))
    if not password:
        return gettext("Enter your password: you signed in more than %(ago)s ago.", ago=ago)
    if context.store().users.authenticate(user.username, password) is None:
        throttle.failed(THROTTLE_KIND, user.username, address)
        return gettext("This is not your current password.")
    return None
