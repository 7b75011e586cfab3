"""/admin/v1/keys: `authserver keys list|rotate` over HTTP."""

from __future__ import annotations

from flask import Response, jsonify, request

from ... import context
from ...operations import keys as operations
from ...operations.errors import BadInput
from ..protect import require_admin_token
from .blueprint import bp
from .problems import audit, boolean, json_object, limit_and_cursor, string


@bp.get("/keys")
@require_admin_token("admin:read")
def list_keys() -> Response:
    limit, cursor = limit_and_cursor()
    return jsonify(operations.list_keys(context.keystore(), limit=limit, cursor=cursor)
                   .to_dict())


@bp.get("/keys/<kid>")
@require_admin_token("admin:read")
def show_key(kid: str) -> Response:
    return jsonify(operations.show_key(context.keystore(), kid))


@bp.post("/keys/rotate")
@require_admin_token("admin:write")
def rotate_keys() -> Response:
    """Body (optional, a JSON object): {"force": bool, "dry_run": bool, "alg": "ES256"}."""
    body = json_object() if request.get_data(cache=True) else {}
    force = boolean(body.pop("force", False), "force")
    dry_run = boolean(body.pop("dry_run", False), "dry_run")
    alg = string(body.pop("alg", None), "alg", nullable=True)
    for unknown in body:
        raise BadInput(f"unknown field {unknown!r}", field=str(unknown))
    # The key store writes and locks on its own (files or its own transaction).
    results = operations.rotate_keys(context.keystore(), force=force, dry_run=dry_run, alg=alg)
    if not dry_run:
        for result in results:
            audit("keys_rotated", alg=result["alg"], kid=result["current"],
                  retired_kid=result["retired"], next_kid=result["next"],
                  forced=result["forced"])
    return jsonify({"rotations": results})
