"""/admin/v1/clients: `authserver client ...` over HTTP."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from ... import context
from ...operations import clients as operations
from ...operations.errors import BadInput
from ...store.clients import Metadata
from ..protect import require_admin_token
from .blueprint import bp
from .problems import boolean, json_object, limit_and_cursor, reading, string, strings, writing

READ, WRITE = "admin:read", "admin:write"
NULLABLE = {"backchannel_logout_uri", "profile", "resource_server",
            "id_token_signed_response_alg", "jwks"}


def _changes(body: dict[str, Any]) -> dict[str, Any]:
    """The body's registration fields as Metadata's, each of its JSON type (client FIELDS)."""
    changes: dict[str, Any] = {}
    for field, value in body.items():
        if field not in operations.FIELDS:
            raise BadInput(f"unknown field {field!r}", field=str(field))
        name, kind = operations.FIELDS[field]
        if value is None and field in NULLABLE:
            changes[name] = None
        elif kind == "string":
            changes[name] = string(value, field)
        elif kind == "string[]":
            changes[name] = strings(value, field)
        elif kind == "boolean":
            changes[name] = boolean(value, field)
        elif not isinstance(value, dict):
            raise BadInput(f"{field} must be a JSON object (a JWK Set)", field=field)
        else:
            changes[name] = value
    return changes


@bp.get("/clients")
@require_admin_token(READ)
def list_clients() -> Response:
    limit, cursor = limit_and_cursor()
    return jsonify(reading(lambda s: operations.list_clients(s, limit=limit, cursor=cursor)
                           .to_dict()))


@bp.post("/clients")
@require_admin_token(WRITE)
def create_client() -> tuple[Response, int]:
    changes = _changes(json_object())
    if "name" not in changes:
        raise BadInput("client_name is required", field="client_name")
    metadata = Metadata(**changes)
    created = writing("client_created", lambda s: operations.create_client(
        s, context.settings(), metadata), lambda data: {
            "client_id": data["client_id"], "grant_types": data["grant_types"],
            "scope": data["scope"]})
    return jsonify(created), 201


@bp.get("/clients/<client_id>")
@require_admin_token(READ)
def show_client(client_id: str) -> Response:
    return jsonify(reading(lambda s: operations.show_client(s, client_id)))


@bp.patch("/clients/<client_id>")
@require_admin_token(WRITE)
def update_client(client_id: str) -> Response:
    changes = _changes(json_object())
    return jsonify(writing("client_updated", lambda s: operations.update_client(
        s, context.settings(), client_id, changes), client_id=client_id,
        changed=sorted(changes)))


@bp.delete("/clients/<client_id>")
@require_admin_token(WRITE)
def delete_client(client_id: str) -> tuple[str, int]:
    writing("client_deleted", lambda s: operations.delete_client(s, client_id),
            client_id=client_id)
    return "", 204


@bp.post("/clients/<client_id>/secret")
@require_admin_token(WRITE)
def rotate_secret(client_id: str) -> Response:
    return jsonify(writing("client_secret_rotated",
                           lambda s: operations.rotate_secret(s, client_id),
                           client_id=client_id))
