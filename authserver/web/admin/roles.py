"""/admin/v1/roles: `authserver role ...` over HTTP, by the `id` each role's JSON gives.

A role's JSON: {"id", "audience", "name", "description", "created_at"}; one role's adds
"grants": {"users", "groups", "clients"} (who holds it directly). POST takes audience, name and
an optional description; PATCH name and description; `POST|DELETE /roles/{id}/grants` take
exactly one of {"user": username}, {"group": name}, {"client": client_id}.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from ... import context
from ...operations import roles as operations
from ...operations.errors import BadInput
from ...operations.registry import api_registry
from ...store import Session
from ..protect import require_admin_token
from .blueprint import bp
from .problems import json_object, limit_and_cursor, reading, string, writing

READ, WRITE = "admin:read", "admin:write"
CREATE_FIELDS = ("audience", "name", "description")
UPDATE_FIELDS = ("name", "description")


def fields(body: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    """The body's members, each a string (NUL-free), none but `allowed`."""
    for field in body:
        if field not in allowed:
            raise BadInput(f"unknown field {field!r}", field=str(field))
    return {field: string(value, field) for field, value in body.items()}


def holder() -> tuple[str, str]:
    """The body of a grant (or a membership): exactly one of user, group, client."""
    body = fields(json_object(), operations.HOLDERS)
    return operations.one_holder(**body)


@bp.get("/roles")
@require_admin_token(READ)
def list_roles() -> Response:
    limit, cursor = limit_and_cursor()
    audience = request.args.get("audience")
    if audience is not None:
        string(audience, "audience")
    return jsonify(reading(lambda s: operations.page_roles(
        s, api_registry(s, context.settings()), audience=audience, limit=limit,
        cursor=cursor).to_dict()))


@bp.post("/roles")
@require_admin_token(WRITE)
def create_role() -> tuple[Response, int]:
    body = fields(json_object(), CREATE_FIELDS)
    for required in ("audience", "name"):
        if required not in body:
            raise BadInput(f"{required} is required", field=required)
    settings = context.settings()
    created = writing("role_created", lambda s: operations.create_role(
        s, api_registry(s, settings), body["audience"], body["name"],
        body.get("description", "")),
        lambda role: {"audience": role.audience, "role": role.name, "role_id": role.id})
    return jsonify(created.to_dict()), 201


@bp.get("/roles/<role_id>")
@require_admin_token(READ)
def show_role(role_id: str) -> Response:
    return jsonify(reading(lambda s: operations.show_role(s, operations.role_by_id(s, role_id))))


@bp.patch("/roles/<role_id>")
@require_admin_token(WRITE)
def update_role(role_id: str) -> Response:
    body = fields(json_object(), UPDATE_FIELDS)

    def update(session: Session) -> dict[str, Any]:
        role = operations.role_by_id(session, role_id)
        operations.update_role(session, role, name=body.get("name"),
                               description=body.get("description"))
        return operations.show_role(session, role)

    return jsonify(writing("role_updated", update, lambda role: {
        "audience": role["audience"], "role": role["name"], "role_id": role_id,
        "changed": sorted(body)}))


@bp.delete("/roles/<role_id>")
@require_admin_token(WRITE)
def delete_role(role_id: str) -> tuple[str, int]:
    def delete(session: Session) -> dict[str, Any]:
        role = operations.role_by_id(session, role_id)
        named = {"audience": role.audience, "role": role.name, "role_id": role_id}
        operations.delete_role(session, role)
        return named

    writing("role_deleted", delete, lambda named: named)
    return "", 204


def _grant(event: str, change: Any, role_id: str) -> dict[str, Any]:
    kind, value = holder()

    def run(session: Session) -> dict[str, Any]:
        role = operations.role_by_id(session, role_id)
        change(session, role, kind, value)
        return operations.show_role(session, role)

    # The CLI's audit fields: user, group, client_id.
    return writing(event, run, lambda role: {
        "audience": role["audience"], "role": role["name"], "role_id": role_id,
        "user": value if kind == "user" else None, "group": value if kind == "group" else None,
        "client_id": value if kind == "client" else None})


@bp.post("/roles/<role_id>/grants")
@require_admin_token(WRITE)
def grant_role(role_id: str) -> tuple[Response, int]:
    return jsonify(_grant("role_granted", operations.grant, role_id)), 201


@bp.delete("/roles/<role_id>/grants")
@require_admin_token(WRITE)
def revoke_role(role_id: str) -> tuple[str, int]:
    _grant("role_revoked", operations.revoke, role_id)
    return "", 204
