"""/device: where a user approves a device (RFC 8628 §3.3): the user code (typed, or from
verification_uri_complete), then the login and consent steps of the code flow, as an
interaction (device_approval.py). Wrong codes are throttled per address (8 characters of 20
letters are 34 bits: guessing must stay slow)."""

from __future__ import annotations

from flask import Blueprint, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from .. import context, events
from .device_approval import DeviceApproval
from .interaction import show_step, start
from .pages import page
from .session import csrf_valid, signed_in_user
from .wording import wait_words

bp = Blueprint("device", __name__)
THROTTLE_KIND = "user_code"


@bp.route("/device", methods=["GET", "POST"])
def device() -> ResponseReturnValue:
    user_code = request.values.get("user_code", "")
    if request.method == "GET":
        return page("device.html", user_code=user_code)
    if not csrf_valid(request.form.get("csrf_token")):
        return page("device.html", 400, user_code=user_code,
                     error=gettext("This form expired or did not come from this site. Please "
                                   "start again."))
    address = request.remote_addr or "-"
    throttle = context.throttle()
    wait = throttle.retry_after(THROTTLE_KIND, "-", address)
    if wait:
        return page("device.html", 429, user_code=user_code,
                     error=gettext("Too many wrong codes. Try again in %(wait)s.",
                                   wait=wait_words(wait)))
    store = context.store()
    pending = store.devices.pending(user_code)
    if pending is None:
        throttle.failed(THROTTLE_KIND, "-", address)
        events.record("device.code_refused", "failure", address=address)
        return page("device.html", 400, user_code=user_code,
                     error=gettext("That code is not valid, or it has expired or been used."))
    client = store.clients.get(pending.client_id)
    if client is None:
        return page("error.html", 400, message=gettext("The application of this code is gone."))
    # The user's part goes on as an interaction: login (unless signed in), then consent.
    approval = DeviceApproval(client, pending.id, pending.scope)
    user = signed_in_user()
    return show_step(start(approval, user), approval, user)
