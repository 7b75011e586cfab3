"""The browser session of the login pages: who is signed in, since when, and the CSRF token.

Flask's signed cookie session: HttpOnly, SameSite=Lax, Secure when the issuer is https. Its key
is AUTHSERVER_SECRET_KEY, or one generated once into the instance directory and shared by every
worker (so a login made on one worker is valid on the others).
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

from flask import Flask, Request, g, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_babel import gettext

from .. import context, events
from ..config import Settings
from ..models import LoginSession, User
from ..resource_server.untrusted import same_text
from .wording import wait_words

SECRET_KEY_FILE = "secret_key"
# A sign-in is remembered this long; max_age and prompt=login can ask for a fresher one.
SESSION_LIFETIME = 8 * 3600


def ensure_secret_key(settings: Settings) -> str:
    """The session signing key: from the environment, else created once (atomically, 0600)."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.instance_dir) / SECRET_KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Written whole to a temp file, then linked into place: link() fails if another process
        # got there first, and nobody ever reads a half-written key.
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(temp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(temp)
    key = path.read_text().strip()
    if not key:
        raise ValueError(f"{path} is empty: delete it, or set AUTHSERVER_SECRET_KEY")
    return key


class CookieSessionWhenPresent(SecureCookieSessionInterface):
    """Flask's signed cookie session, but a request without the cookie (every API and token
    request) gets an empty session without Flask building its signer first."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        # No Cookie header at all (checked in the environ: werkzeug's request.cookies walks
        # every header to find it) or not ours: nothing to open.
        if "HTTP_COOKIE" not in request.environ or self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)


def configure_sessions(app: Flask, settings: Settings) -> None:
    app.secret_key = ensure_secret_key(settings)
    app.session_interface = CookieSessionWhenPresent()
    app.config.update(
        SESSION_COOKIE_NAME="authserver_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.issuer.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
    )


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return str(token)


def csrf_valid(submitted: str | None) -> bool:
    expected = session.get("csrf")
    return bool(expected) and same_text(submitted, str(expected))


def browser_id() -> str:
    """A random id of this browser, in its session cookie: pending interactions belong to it."""
    browser = session.get("bid")
    if not isinstance(browser, str):
        browser = secrets.token_urlsafe(24)
        session["bid"] = browser
    return browser


def sign_in(user: User, amr: str | None = None) -> None:
    """A new server-side sign-in; the cookie gets only its id (and keeps the browser's id, so
    the interaction that asked for this sign-in goes on). `amr`: how, when not a password."""
    browser = session.get("bid")
    session.clear()  # a fresh session on login: no fixation of a pre-login session
    if isinstance(browser, str):
        session["bid"] = browser
    session.permanent = True
    session_id, created = context.store().login_sessions.start(
        user.id, SESSION_LIFETIME, amr, request.remote_addr, request.user_agent.string)
    session["sid"] = session_id
    g.login_session = created  # the rest of the request signs in with it (session._current)


# How often a sign-in's "last used" time is written (seconds).
TOUCH_EVERY = 300


def another_account() -> str:
    """The login page's words when the request asks for one end-user (`claims` with a sub
    value) and another is signed in or signs in."""
    return gettext("This application asks for another account. Sign in with that account.")


def check_login(only_sub: str | None = None) -> tuple[User | None, str | None]:
    """The login form just posted: the user whose password it is (not signed in yet: a second
    factor may follow, web/second_factor.py; then finish_login), or the error the page shows.
    Failed attempts are throttled per account and address, and audited. `only_sub`: the one
    user the request may sign in (OIDC Core §3.1.2.2); anyone else is not signed in."""
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    address = request.remote_addr or "-"
    throttle = context.throttle()
    wait = throttle.retry_after("user", username, address)
    if wait:
        events.record("login.refused", "throttled", username=username, address=address)
        return None, gettext("Too many failed sign-ins. Try again in %(wait)s.",
                             wait=wait_words(wait))
    user = context.store().users.authenticate(username, password)
    if user is None:
        throttle.failed("user", username, address)
        events.record("login.refused", "failure", username=username, address=address)
        return None, gettext("That username and password do not match.")
    if only_sub is not None and user.sub != only_sub:
        events.record("login.refused", "another_account", username=username, address=address)
        return None, another_account()
    if user.verify_before_sign_in and not user.email_verified:
        # Signed up and not verified yet: the password was right, so saying so tells nothing.
        events.record("login.refused", "email_not_verified", username=username, address=address)
        return None, gettext("Confirm your email address first: open the link we mailed you.")
    return user, None


def finish_login(user: User, amr: str | None = None) -> None:
    """The sign-in is made: every factor it needs was given (`amr`; None: a password)."""
    sign_in(user, amr)
    events.record("login.succeeded", sub=user.sub, address=request.remote_addr or "-",
                  amr=amr or "pwd")


def sign_out() -> LoginSession | None:
    """End the sign-in on the server too: the cookie, even copied, no longer signs anyone in.
    Returns the sign-in that ended, if one was live."""
    ended = _current()
    session_id = session.get("sid")
    if isinstance(session_id, str):
        context.store().login_sessions.end(session_id)
    session.clear()
    g.pop("login_session", None)
    return ended


def _current() -> LoginSession | None:
    if "login_session" not in g:
        session_id = session.get("sid")
        g.login_session = (context.store().login_sessions.live(session_id)
                           if isinstance(session_id, str) else None)
        if g.login_session is not None:
            context.store().login_sessions.touch(g.login_session, TOUCH_EVERY)
    return g.login_session  # type: ignore[no-any-return]


def login_session() -> LoginSession | None:
    """The current sign-in (None when nobody is signed in)."""
    return _current()


def auth_time() -> int | None:
    current = _current()
    return current.auth_time if current is not None else None


def signed_in_user(max_age: int | None = None) -> User | None:
    """The signed-in user, unless the sign-in ended (logout, a password change), expired, or is
    older than max_age seconds (OIDC Core §3.1.2.1)."""
    current = _current()
    if current is None:
        return None
    if max_age is not None and context.store().now() - current.auth_time > max_age:
        return None
    return current.user
