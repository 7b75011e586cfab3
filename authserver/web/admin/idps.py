"""/admin/v1/idps: `authserver idp ...` over HTTP (the providers people may sign in with)."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from ... import context
from ...oauth.upstream import UpstreamError, read_discovery
from ...operations import idps as operations
from ...operations.errors import BadInput
from ..protect import require_admin_token
from .blueprint import bp
from .problems import boolean, json_object, limit_and_cursor, reading, string, writing


def _discover(issuer: str) -> dict[str, Any]:
    """The protocol's discovery reader, its failure as the operations' (a 400 naming issuer)."""
    try:
        return read_discovery(issuer, context.settings().upstream_timeout)
    except UpstreamError as exc:
        raise operations.DiscoveryFailed(str(exc), field="issuer") from None


def _fields(body: dict[str, Any], required: list[str]) -> dict[str, Any]:
    """The body's fields, each of its JSON type (operations.idps.FIELDS)."""
    fields: dict[str, Any] = {}
    for field, value in body.items():
        kind = operations.FIELDS.get(field)
        if kind is None:
            raise BadInput(f"unknown field {field!r}", field=str(field))
        fields[field] = boolean(value, field) if kind == "boolean" else string(value, field)
    for field in required:
        if field not in fields:
            raise BadInput(f"{field} is required", field=field)
    return fields


@bp.get("/idps")
@require_admin_token("admin:read")
def list_idps() -> Response:
    limit, cursor = limit_and_cursor()
    return jsonify(reading(lambda s: operations.list_providers(
        s, context.settings(), limit=limit, cursor=cursor).to_dict()))


@bp.post("/idps")
@require_admin_token("admin:write")
def create_idp() -> tuple[Response, int]:
    """Reads the provider's discovery before the write (no write lock while it answers)."""
    fields = _fields(json_object(), operations.REQUIRED)
    new = reading(lambda s: operations.prepare_provider(s, _discover, **fields))
    created = writing("idp_created", lambda s: operations.add_provider(
        s, context.settings(), new), lambda data: {"slug": data["slug"]}, issuer=new.issuer)
    return jsonify(created), 201


@bp.get("/idps/<slug>")
@require_admin_token("admin:read")
def show_idp(slug: str) -> Response:
    return jsonify(reading(lambda s: operations.show_provider(s, context.settings(), slug)))


@bp.patch("/idps/<slug>")
@require_admin_token("admin:write")
def update_idp(slug: str) -> Response:
    """The changes never include the secret in the audit line, only which fields changed."""
    changes = _fields(json_object(), [])
    return jsonify(writing("idp_updated", lambda s: operations.update_provider(
        s, context.settings(), slug, changes), slug=slug, changed=sorted(changes)))


@bp.delete("/idps/<slug>")
@require_admin_token("admin:write")
def delete_idp(slug: str) -> tuple[str, int]:
    writing("idp_deleted", lambda s: operations.delete_provider(s, slug), slug=slug)
    return "", 204
