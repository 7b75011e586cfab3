"""The account page's passkeys: adding one (a WebAuthn registration, JSON from
static/passkeys.js), naming and removing them (forms). Each is signed in, CSRF-checked and
audited; a refused registration adds nothing."""

from __future__ import annotations

from flask import flash, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from .. import context, events
from ..models import User
from ..operations import mfa
from ..store.passkeys import MAX_PASSKEYS
from .account import account_page, account_user, bp
from .account_actions import account_form, done
from .passkey_ceremony import (
    CeremonyError,
    clean_name,
    json_body,
    register,
    registration_options,
)
from .recent_sign_in import confirmed


def _json_user() -> User:
    user = account_user()
    if user is None:
        raise CeremonyError("login_required", gettext(
            "You are no longer signed in. Sign in again."), 401)
    return user


@bp.post("/passkeys/options")
def passkey_options() -> ResponseReturnValue:
    try:
        user = _json_user()
        body = json_body()
        password = body.get("password")
        refused = confirmed(user, password if isinstance(password, str) else None)
        if refused is not None:  # a stolen session must not add a passkey (recent_sign_in.py)
            raise CeremonyError("reauthentication_required", refused, 401)
        if context.store().passkeys.count(user) >= MAX_PASSKEYS:
            raise CeremonyError("too_many_passkeys", gettext(
                "You have as many passkeys as an account may have. Remove one first."))
        return registration_options(user)
    except CeremonyError as refused:
        return refused.response()


@bp.post("/passkeys")
def add_passkey() -> ResponseReturnValue:
    """A new passkey; the first second factor of the account (no app, no passkey before)
    comes with 10 recovery codes, in the same transaction, answered once for the page to show
    (static/passkeys.js): losing the only passkey then needs no operator."""
    store = context.store()
    try:
        user = _json_user()
        first = not mfa.has_second_factor(store.session(), user)
        passkey = register(user, json_body())
        codes = mfa.new_recovery_codes(store.begin_write(), user, store.now()) if first else None
    except CeremonyError as refused:
        store.rollback()
        events.record("account.passkey_added", refused.error, address=request.remote_addr)
        return refused.response()
    store.commit()
    events.record("account.passkey_added", sub=user.sub, passkey=passkey.id)
    flash(gettext("Your passkey “%(name)s” was added.", name=passkey.name))
    if codes is None:
        return jsonify(location=url_for("account.show"))
    events.record("account.recovery_codes_renewed", sub=user.sub, address=request.remote_addr)
    return jsonify(location=url_for("account.show"), recovery_codes=codes)


def _passkey_id() -> int | None:
    raw = request.form.get("passkey", "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


@bp.post("/passkeys/rename")
@account_form
def rename_passkey(user: User) -> ResponseReturnValue:
    name, passkey_id = clean_name(request.form.get("name")), _passkey_id()
    if not name:
        return account_page(user, 400, errors={f"passkey-name-{passkey_id}": gettext(
            "Give the passkey a name.")})
    store = context.store()
    if passkey_id is None or not store.passkeys.rename(user, passkey_id, name):
        return account_page(user, 404, error=gettext("That passkey is not on your account."))
    store.commit()
    events.record("account.passkey_renamed", sub=user.sub, passkey=passkey_id)
    return done(gettext("The passkey was renamed."))


@bp.post("/passkeys/remove")
@account_form
def remove_passkey(user: User) -> ResponseReturnValue:
    passkey_id, store = _passkey_id(), context.store()
    if (not user.password_hash and not store.idps.linked(user)
            and store.passkeys.count(user) <= 1):  # no password, no provider: the last way in
        return account_page(user, 409, error=gettext(
            "This passkey is your only way to sign in here: add another passkey or link a "
            "sign-in provider first."))
    if passkey_id is None or not store.passkeys.remove(user, passkey_id):
        return account_page(user, 404, error=gettext("That passkey is not on your account."))
    mfa.forget_codes_without_factor(store.session(), user)  # the last factor took its codes
    store.commit()
    events.record("account.passkey_removed", sub=user.sub, passkey=passkey_id)
    return done(gettext("The passkey was removed. It no longer signs you in."))
