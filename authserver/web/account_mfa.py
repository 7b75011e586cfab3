"""The account page's two-factor forms: set up an authenticator app (its QR code and secret,
confirmed by a first code, then 10 recovery codes shown once), make new recovery codes (with
an app or a passkey), and remove the app (with the password). Each checks the CSRF token and
the sign-in, is audited."""

from __future__ import annotations

from flask import request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from .. import context, events
from ..models import User
from ..operations import mfa
from .account import account_page, bp
from .account_actions import THROTTLE_KIND, account_form, done
from .forms import caller_address
from .pages import page
from .recent_sign_in import confirmed
from .second_factor import confirm_set_up, set_up_page
from .wording import wait_words


@bp.post("/totp")
@account_form
def totp_begin(user: User) -> ResponseReturnValue:
    refused = confirmed(user, request.form.get("totp_setup_password"))
    if refused is not None:  # a stolen session must not add a factor (web/recent_sign_in.py)
        return account_page(user, 401, errors={"totp_setup_password": refused})
    return set_up_page(user, url_for("account.totp_confirm"))


@bp.post("/totp/confirm")
@account_form
def totp_confirm(user: User) -> ResponseReturnValue:
    codes, error = confirm_set_up(user)
    if codes is None:
        return set_up_page(user, url_for("account.totp_confirm"), error=error, status=400)
    return page("recovery_codes.html", codes=codes, action=None)


@bp.post("/recovery-codes")
@account_form
def new_recovery_codes(user: User) -> ResponseReturnValue:
    store = context.store()
    if not mfa.has_second_factor(store.session(), user):
        return account_page(user, 409, error=gettext(
            "Set up an authenticator app or add a passkey first."))
    codes = mfa.new_recovery_codes(store.begin_write(), user, store.now())
    store.commit()
    events.record("account.recovery_codes_renewed", sub=user.sub, address=caller_address())
    return page("recovery_codes.html", codes=codes, action=None)


@bp.post("/totp/remove")
@account_form
def totp_remove(user: User) -> ResponseReturnValue:
    throttle, address = context.throttle(), caller_address()
    wait = throttle.retry_after(THROTTLE_KIND, user.username, address)
    if wait:
        return account_page(user, 429, errors={"totp_password": gettext(
            "Too many failed sign-ins. Try again in %(wait)s.", wait=wait_words(wait))})
    store = context.store()
    if store.users.authenticate(user.username, request.form.get("totp_password", "")) is None:
        throttle.failed(THROTTLE_KIND, user.username, address)
        return account_page(user, 400, errors={
            "totp_password": gettext("This is not your current password.")})
    session = store.begin_write()
    mfa.remove_totp(session, user)  # its recovery codes too, unless a passkey is left
    passkeys_left = mfa.has_second_factor(session, user)
    store.commit()
    events.record("account.totp_removed", sub=user.sub, address=address)
    if passkeys_left:
        return done(gettext("The authenticator app was removed. Your passkey and your recovery "
                            "codes are still asked for after your password."))
    return done(gettext("The authenticator app was removed. Your password alone signs you in now."))
