"""The second step of a sign-in: after the first factor (a password), a code from the user's
authenticator app or a recovery code; or, when two factors are required and the user has
none, setting up the app there and then (INTERFACE.md "Two-factor sign-in").

Until the second factor, no sign-in session exists: the browser's signed session cookie holds
only which user passed which first factor, when, and for which page (an interaction, or the
account's own sign-in), for PENDING_TTL seconds. A step-up (a signed-in user asked for more)
holds the sign-in's sid instead and raises that sign-in's amr in place.

The page has an input named `code`; a passkey (WebAuthn) is offered in its `passkey` block.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import segno
from flask import Response, request, session
from flask_babel import gettext
from markupsafe import Markup

from .. import context, events
from ..keystore.lifecycle import KeyStoreError
from ..models import User
from ..operations import mfa
from ..operations.errors import OperationError
from ..ops.ratelimit import CODES
from ..policy import with_second_factor
from .pages import page
from .session import finish_login, login_session
from .wording import wait_words

logger = logging.getLogger(__name__)
PENDING_KEY = "mfa"
PENDING_TTL = 600  # ten minutes to find one's phone
# Wrong codes are counted as failed sign-ins are, on their own counter, and per account too.
THROTTLE_KIND = CODES


@dataclass(frozen=True)
class Pending:
    user: User
    amr: str | None    # the first factor's (None: a password)
    sid: str | None    # a step-up: the sign-in whose amr rises


def hold(user: User, target: str, amr: str | None = None, sid: str | None = None) -> None:
    session[PENDING_KEY] = {"uid": user.id, "amr": amr, "sid": sid, "for": target,
                            "at": context.store().now()}


def held(target: str) -> Pending | None:
    """The first factor held for this page (`target`), while it is fresh."""
    kept = session.get(PENDING_KEY)
    if not isinstance(kept, dict) or kept.get("for") != target:
        return None
    if kept.get("at", 0) + PENDING_TTL < context.store().now():
        return None
    user = context.store().session().get(User, kept.get("uid"))
    if user is None:
        return None
    if kept.get("sid") is not None:  # a step-up: that sign-in must still be this browser's
        current = login_session()
        if current is None or current.sid != kept["sid"] or current.user_id != user.id:
            return None
    return Pending(user, kept.get("amr"), kept.get("sid"))


def release() -> None:
    session.pop(PENDING_KEY, None)


def complete(pending: Pending, factor: tuple[str, ...]) -> None:
    """The second factor passed: a new sign-in with both, or the stepped-up sign-in raised."""
    release()
    amr = with_second_factor(pending.amr, factor)
    current = login_session()
    if pending.sid is not None and current is not None:
        context.store().login_sessions.raise_amr(current, amr)
    else:
        finish_login(pending.user, amr)


def code_page(action: str, client: Any = None, error: str | None = None,
              status: int = 200, **values: Any) -> Response:
    return page("second_factor.html", status, action=action, client=client,
                errors={"code": error} if error else {}, **values)


def check_code(pending: Pending) -> tuple[tuple[str, ...] | None, str | None]:
    """The posted `code` for this pending sign-in: its amr values, or the page's error. Wrong
    codes are throttled per account and address like passwords, per account whatever the
    address (ops/ratelimit.py), and audited."""
    user, address = pending.user, request.remote_addr or "-"
    throttle = context.throttle()
    wait = throttle.retry_after(THROTTLE_KIND, user.username, address)
    if wait:
        events.record("login.refused", "otp_throttled", username=user.username, address=address)
        return None, gettext("Too many wrong codes. Try again in %(wait)s.", wait=wait_words(wait))
    store, settings = context.store(), context.settings()
    try:
        factor = mfa.check_code(store.begin_write(), user, request.form.get("code", ""),
                                passphrase=settings.keys_passphrase, now=store.now())
    except OperationError:
        return None, gettext("Enter the 6-digit code from your app, or a recovery code.")
    except KeyStoreError:
        # The secret does not open with this server's AUTHSERVER_KEYS_PASSPHRASE: the
        # operator's fault, not the person's; logged, and said without a traceback.
        logger.exception("cannot open the authenticator secret of %s", user.sub)
        return None, gettext("This server cannot check codes right now. Try again later.")
    if factor is None:
        store.rollback()
        throttle.failed(THROTTLE_KIND, user.username, address)
        events.record("login.refused", "otp_wrong", username=user.username, address=address)
        return None, gettext("That code is wrong or was used already.")
    store.commit()
    events.record("login.second_factor", sub=user.sub, address=address)
    return factor, None


def issuer_host() -> str:
    return urlsplit(context.settings().issuer).hostname or "authserver"


def qr_svg(uri: str) -> Markup:
    """The otpauth:// URI as an inline SVG QR code, drawn here by segno (no outside service),
    dark on white whatever the page's colour scheme, so every camera reads it."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, border=4, dark="#000", light="#fff",
                                                title=gettext("QR code for your authenticator app"))
    return Markup(svg)  # noqa: S704 (segno's own markup: the URI is drawn, not embedded)


def set_up_page(user: User, action: str, client: Any = None, error: str | None = None,
                status: int = 200) -> Response:
    """The QR code and secret of the user's set-up in progress (begun now if none is)."""
    store, settings = context.store(), context.settings()
    try:
        started = mfa.begin_totp(store.begin_write(), user, issuer_host=issuer_host(),
                                 passphrase=settings.keys_passphrase)
    except OperationError:
        store.rollback()
        return page("error.html", 409, message=gettext(
            "An authenticator app is already set up for this account."))
    store.commit()
    return page("totp_setup.html", status, action=action, client=client, qr=qr_svg(started.uri),
                secret=" ".join(started.secret[i:i + 4] for i in range(0, len(started.secret), 4)),
                errors={"code": error} if error else {})


def confirm_set_up(user: User) -> tuple[list[str] | None, str | None]:
    """The set-up's first code: the recovery codes to show once, or the page's error."""
    store, settings = context.store(), context.settings()
    address = request.remote_addr or "-"
    throttle = context.throttle()
    wait = throttle.retry_after(THROTTLE_KIND, user.username, address)
    if wait:
        return None, gettext("Too many wrong codes. Try again in %(wait)s.", wait=wait_words(wait))
    try:
        codes = mfa.confirm_totp(store.begin_write(), user, request.form.get("code", ""),
                                 passphrase=settings.keys_passphrase, now=store.now())
    except OperationError as problem:
        store.rollback()
        if problem.field != "code":
            return None, gettext("This set-up expired. Start again.")
        throttle.failed(THROTTLE_KIND, user.username, address)
        return None, gettext("That code does not match. Type the code your app shows now.")
    store.commit()
    events.record("account.totp_added", sub=user.sub, address=address)
    return codes, None
