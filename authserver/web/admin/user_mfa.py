"""/admin/v1/users/{username}/mfa: `authserver user mfa list|reset` over HTTP (a lost phone)."""

from __future__ import annotations

from flask import Response, jsonify

from ...operations import mfa
from ...operations.users import find
from ..protect import require_admin_token
from .blueprint import bp
from .problems import reading, writing


@bp.get("/users/<username>/mfa")
@require_admin_token("admin:read")
def list_factors(username: str) -> Response:
    """As `user mfa list --json`: the authenticator app, passkeys, recovery codes left."""
    return jsonify(reading(lambda s: mfa.factors(s, find(s, username))))


@bp.delete("/users/<username>/mfa")
@require_admin_token("admin:write")
def reset_factors(username: str) -> Response:
    """Every second factor removed (as `user mfa reset --json`): the password alone signs the
    user in again, and they may set up new ones."""
    removed = writing("user_mfa_reset", lambda s: mfa.reset(s, find(s, username)),
                      lambda gone: {"totp": gone["totp"] is not None,
                                    "passkeys": len(gone["passkeys"]),
                                    "recovery_codes": gone["recovery_codes_left"]},
                      username=username)
    return jsonify({"username": username, "removed": removed})
