"""/device: where a user approves a device (RFC 8628 §3.3): the user code (typed, or from
verification_uri_complete), then the login and consent pages of the code flow. Wrong codes
are throttled per address (8 characters of 20 letters are 34 bits: guessing must stay slow);
a device's request is always asked for, never approved by a remembered consent."""

from __future__ import annotations

from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from .. import context, events
from .consent_words import scope_groups
from .pages import page
from .session import auth_time, csrf_valid, signed_in_user, try_login

bp = Blueprint("device", __name__)
THROTTLE_KIND = "user_code"


@bp.route("/device", methods=["GET", "POST"])
def device() -> ResponseReturnValue:
    user_code = request.values.get("user_code", "")
    if request.method == "GET":
        return page("device.html", user_code=user_code)
    if not csrf_valid(request.form.get("csrf_token")):
        return page("device.html", 400, user_code=user_code,
                     error="This form expired or did not come from this site. Please start again.")
    address = request.remote_addr or "-"
    throttle = context.throttle()
    wait = throttle.retry_after(THROTTLE_KIND, "-", address)
    if wait:
        return page("device.html", 429, user_code=user_code,
                     error=f"Too many wrong codes. Try again in {wait} seconds.")
    store = context.store()
    pending = store.devices.pending(user_code)
    if pending is None:
        throttle.failed(THROTTLE_KIND, "-", address)
        events.record("device.code_refused", "failure", address=address)
        return page("device.html", 400, user_code=user_code,
                     error="That code is not valid, or it has expired or been used.")
    client = store.clients.get(pending.client_id)
    if client is None:
        return page("error.html", 400, message="The application of this code is gone.")
    carried = [("user_code", user_code)]
    user, login_error = try_login() if "username" in request.form else (signed_in_user(), None)
    if user is None:
        return page("login.html", 401 if login_error else 200, client=client, error=login_error,
                    action="", carried=carried, login_hint=request.form.get("username", ""))
    decision = request.form.get("decision")
    if decision not in ("allow", "deny"):
        return page("consent.html", client=client, user=user, action="", carried=carried,
                    scopes=scope_groups(pending.scope))
    allowed = decision == "allow"
    if not store.devices.decide(pending, user, auth_time() or store.now(), allowed):
        return page("device.html", 400, user_code="",
                     error="That code was answered already, or it has expired.")
    store.commit()
    events.record("device.approved" if allowed else "device.denied",
                  client_id=client.client_id, sub=user.sub, scope=pending.scope)
    return page("device_done.html", allowed=allowed, client_name=client.name)
