"""/account/signup (AUTHSERVER_SIGNUP=open): a person makes their own account.

The answer is "check your email" whether or not the address has an account already (its owner
is mailed a reset link instead); a taken username is said on the form, since usernames are
what people sign in with and are not secret. The new user signs in once the mailed link is
opened.
"""

from __future__ import annotations

from flask import Blueprint, abort, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from sqlalchemy.exc import IntegrityError

from .. import context, events
from ..models import RESET_PASSWORD, VERIFY_EMAIL
from ..store.user_claims import PARSERS, ClaimError
from ..store.users import USERNAME_PATTERN, AccountError, check_password, find_user
from . import mails
from .account_links import password_rules
from .forms import SIGNUPS_PER_ADDRESS, caller_address, csrf_ok, form_expired
from .pages import page
from .wording import wait_words

bp = Blueprint("signup", __name__, url_prefix="/account")


def _field_errors(username: str, email: str, password: str) -> dict[str, str]:
    errors = {}
    if not USERNAME_PATTERN.fullmatch(username):
        errors["username"] = gettext("Use 1 to 150 letters, digits and . _ @ + -")
    try:
        PARSERS["email"]("email", email)
    except ClaimError:
        errors["email"] = gettext("Enter an email address such as name@example.com.")
    try:
        check_password(password)
    except AccountError:
        errors["password"] = password_rules()
    return errors


@bp.route("/signup", methods=["GET", "POST"])
def signup() -> ResponseReturnValue:
    if context.settings().signup != "open":
        abort(404)
    if request.method == "GET":
        return page("signup.html", values={})
    username = request.form.get("username", "").strip()
    email = request.form.get("email", "").strip()
    password = request.form.get("password", "")
    values = {"username": username, "email": email}
    if not csrf_ok():
        return page("signup.html", 400, values=values, error=form_expired())
    errors = _field_errors(username, email, password)
    store = context.store()
    if not errors and find_user(store.session(), username) is not None:
        errors["username"] = gettext("This username is taken. Choose another.")
    if errors:
        return page("signup.html", 400, values=values, errors=errors)
    wait = context.throttle().admit("signup-address", caller_address(), SIGNUPS_PER_ADDRESS)
    if wait:
        events.record("account.signed_up", "throttled", address=caller_address())
        return page("signup.html", 429, values=values, error=gettext(
            "Too many requests. Try again in %(wait)s.", wait=wait_words(wait)))
    holders = store.self_service.by_email(email)
    if holders:
        # Tell the address's owner, not the person at the form.
        holder = holders[0]
        token = store.account_links.issue(holder, RESET_PASSWORD, holder.email or email,
                                          context.settings().reset_token_ttl)
        store.commit()
        mails.account_exists(holder.email or email, holder.username, token)
        events.record("account.signed_up", "email_taken", address=caller_address())
        return page("check_email.html", email=email, signed_up=True)
    try:
        user = store.self_service.sign_up(username, email, password)
        token = store.account_links.issue(user, VERIFY_EMAIL, email,
                                          context.settings().email_token_ttl)
        store.commit()
    except (IntegrityError, AccountError):  # the same username taken a moment ago
        store.rollback()
        return page("signup.html", 400, values=values,
                    errors={"username": gettext("This username is taken. Choose another.")})
    mails.verify_email(email, username, token)
    events.record("account.signed_up", sub=user.sub, address=caller_address())
    return page("check_email.html", email=email, signed_up=True)
