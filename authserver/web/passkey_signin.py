"""Passwordless sign-in with a discoverable passkey (web/passkey_ceremony.py): from a sign-in's
login page (`/interaction/<id>/passkey`, then the interaction's next step as after the
password) and from the account's own sign-in page (`/account/login/passkey`).

The passkey says who signs in; the rules of a password sign-in hold (the one end-user a
request may name, an address to verify first), and a refusal is audited like a wrong password.
"""

from __future__ import annotations

from flask import Response, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from .. import events
from . import account, interaction
from .interaction import Pending, gone
from .interaction import _resume as resume  # the interaction of this browser, or its error page
from .passkey_ceremony import (
    SIGN_IN,
    CeremonyError,
    SignedIn,
    authenticate,
    authentication_options,
    json_body,
)
from .session import another_account, csrf_token, finish_login


def _signed_in(subject: str | None) -> SignedIn:
    """The passkey's user, signed in (a new sign-in session whose amr says how)."""
    address = request.remote_addr or "-"
    try:
        signed = authenticate(json_body(), SIGN_IN)
    except CeremonyError as refused:
        events.record("login.refused", refused.error, method="passkey", address=address)
        raise
    user = signed.user
    if subject is not None and user.sub != subject:
        events.record("login.refused", "another_account", method="passkey", address=address)
        raise CeremonyError("another_account", another_account())
    if user.verify_before_sign_in and not user.email_verified:
        events.record("login.refused", "email_not_verified", method="passkey", address=address)
        raise CeremonyError("email_not_verified", gettext(
            "Confirm your email address first: open the link we mailed you."))
    finish_login(user, " ".join(signed.amr))  # commits the passkey's new counter with it
    return signed


def _pending(interaction_id: str) -> Pending:
    found = resume(interaction_id)
    if isinstance(found, Response):
        raise CeremonyError("interaction_gone", gone())
    return found[1]


@interaction.bp.post("/<interaction_id>/passkey/options")
def passkey_options(interaction_id: str) -> ResponseReturnValue:
    try:
        _pending(interaction_id)
        json_body()
        return authentication_options(SIGN_IN)
    except CeremonyError as refused:
        return refused.response()


@interaction.bp.post("/<interaction_id>/passkey")
def passkey_sign_in(interaction_id: str) -> ResponseReturnValue:
    try:
        _signed_in(_pending(interaction_id).subject)
    except CeremonyError as refused:
        return refused.response()
    # The next step is a page or a redirect to the client: the browser posts for it, with the
    # new sign-in's CSRF token (a sign-in starts a fresh session).
    return jsonify(post=url_for("interaction.proceed", interaction_id=interaction_id),
                   csrf_token=csrf_token())


@account.bp.post("/login/passkey/options")
def account_passkey_options() -> ResponseReturnValue:
    try:
        json_body()
        return authentication_options(SIGN_IN)
    except CeremonyError as refused:
        return refused.response()


@account.bp.post("/login/passkey")
def account_passkey_sign_in() -> ResponseReturnValue:
    try:
        signed = _signed_in(None)
    except CeremonyError as refused:
        return refused.response()
    events.record("account.signed_in", sub=signed.user.sub, method="passkey")
    return jsonify(location=url_for("account.show"))
