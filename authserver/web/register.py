"""/oauth/register: dynamic client registration (RFC 7591) and, at /oauth/register/<client_id>,
its management (RFC 7592); the protocol is oauth/registration.py. Off unless
AUTHSERVER_REGISTRATION says otherwise. Failed registration credentials are throttled per
address like failed logins; in `open` mode registrations have a rate of their own per address
(AUTHSERVER_REGISTRATION_RATE), so one address cannot fill the clients table."""

from __future__ import annotations

from flask import Blueprint, Response, request

from .. import context
from ..errors import error_response
from .protocol import flask_response, json_request

bp = Blueprint("register", __name__, url_prefix="/oauth")
THROTTLE_KIND = "register"


@bp.before_request
def _only_when_enabled() -> Response | None:
    if context.settings().registration == "off":
        return error_response(404, "not_found", "client registration is not enabled here")
    address = request.remote_addr or "-"
    wait = context.throttle().retry_after(THROTTLE_KIND, "-", address)
    if wait is None and request.method == "POST" and context.settings().registration == "open":
        wait = context.throttle().admit(THROTTLE_KIND, address,
                                        context.settings().registration_rate)
    if wait:
        return error_response(429, "temporarily_unavailable", f"too many registration "
                              f"requests; try again in {wait} seconds",
                              headers={"Retry-After": str(wait)})
    if request.method in ("POST", "PUT") and not isinstance(request.get_json(silent=True), dict):
        return error_response(400, "invalid_client_metadata",
                              "the body must be a JSON object (Content-Type: application/json)")
    return None


def _endpoint(name: str) -> Response:
    answer = context.oauth_server().create_endpoint_response(name, json_request())
    assert answer is not None  # these endpoints always answer
    return flask_response(answer)


def _counted(response: Response) -> Response:
    if response.status_code in (401, 403):
        context.throttle().failed(THROTTLE_KIND, "-", request.remote_addr or "-")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/register")
def register() -> Response:
    return _counted(_endpoint("client_registration"))


@bp.route("/register/<client_id>", methods=["GET", "PUT", "DELETE"])
def configuration(client_id: str) -> Response:
    return _counted(_endpoint("client_configuration"))
