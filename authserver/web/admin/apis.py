"""/admin/v1/apis: `authserver api ...` over HTTP (the operator's resource servers, RFC 8707).

An API's JSON is `api show --json`'s: {"id", "audience", "name", "scopes": [{"name",
"description"}], "access_token_ttl", "signing_alg", "built_in"}. POST takes audience, name,
scopes, and optionally access_token_ttl and signing_alg; PATCH takes name, scopes (the whole
new list: scopes left out are removed, and leave every client), access_token_ttl and
signing_alg (null: back to the server's default).
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from ... import context
from ...operations import apis as operations
from ...operations.errors import BadInput
from ...operations.registry import api_registry
from ...store import Session
from ...store.apis import ApiInfo
from ..protect import require_admin_token
from .blueprint import bp
from .problems import json_object, limit_and_cursor, reading, string, writing

READ, WRITE = "admin:read", "admin:write"
CREATE_FIELDS = ("audience", "name", "scopes", "access_token_ttl", "signing_alg")
UPDATE_FIELDS = CREATE_FIELDS[1:]


def _fields(body: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    for field in body:
        if field == "audience" and field not in allowed:
            raise BadInput("an API's audience cannot change (create another API)",
                           field="audience")
        if field not in allowed:
            raise BadInput(f"unknown field {field!r}", field=str(field))
    return body


def _scopes(value: Any) -> list[tuple[str, str]]:
    """[{"name": ..., "description": ...}] as (name, description) pairs."""
    if not isinstance(value, list):
        raise BadInput("scopes must be an array of {name, description} objects", field="scopes")
    pairs = []
    for item in value:
        if not isinstance(item, dict) or "name" not in item or set(item) - {"name",
                                                                           "description"}:
            raise BadInput("each scope is an object with a name and an optional description",
                           field="scopes")
        pairs.append((string(item["name"], "scopes"),
                      string(item.get("description", ""), "scopes")))
    return pairs


def _ttl(value: Any) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise BadInput("access_token_ttl must be a whole number of seconds or null",
                       field="access_token_ttl")
    if value is not None and value >= 2**31:
        raise BadInput("access_token_ttl is too large", field="access_token_ttl")
    return value


def _alg(value: Any) -> str | None:
    alg = string(value, "signing_alg", nullable=True)
    if alg == "default":  # the store's word for "the server's default"; JSON says null
        raise BadInput("signing_alg 'default' is not an algorithm (null: the server's default)",
                       field="signing_alg")
    return alg


@bp.get("/apis")
@require_admin_token(READ)
def list_apis() -> Response:
    limit, cursor = limit_and_cursor()
    return jsonify(reading(lambda s: operations.list_apis(
        s, api_registry(s, context.settings()), limit=limit, cursor=cursor).to_dict()))


@bp.post("/apis")
@require_admin_token(WRITE)
def create_api() -> tuple[Response, int]:
    body = _fields(json_object(), CREATE_FIELDS)
    for required in ("audience", "name", "scopes"):
        if required not in body:
            raise BadInput(f"{required} is required", field=required)
    audience, name = string(body["audience"], "audience"), string(body["name"], "name")
    scopes, ttl = _scopes(body["scopes"]), _ttl(body.get("access_token_ttl"))
    alg = _alg(body.get("signing_alg"))
    settings = context.settings()
    created = writing("api_created", lambda s: operations.create_api(
        s, api_registry(s, settings), audience=audience, name=name, scopes=scopes,
        access_token_ttl=ttl, signing_alg=alg, signing_algs=settings.signing_algs),
        lambda api: {"audience": api.audience, "scopes": [s.name for s in api.scopes]})
    return jsonify(created.to_dict()), 201


@bp.get("/apis/<api_id>")
@require_admin_token(READ)
def show_api(api_id: str) -> Response:
    return jsonify(reading(lambda s: operations.find(
        s, api_registry(s, context.settings()), api_id).to_dict()))


@bp.patch("/apis/<api_id>")
@require_admin_token(WRITE)
def update_api(api_id: str) -> Response:
    body = _fields(json_object(), UPDATE_FIELDS)
    name = string(body["name"], "name") if "name" in body else None
    scopes = _scopes(body["scopes"]) if "scopes" in body else None
    # The store's words: a lifetime of 0 and the algorithm "default" go back to the server's.
    ttl = (_ttl(body["access_token_ttl"]) or 0) if "access_token_ttl" in body else None
    alg = (_alg(body["signing_alg"]) or "default") if "signing_alg" in body else None
    settings = context.settings()
    audited: dict[str, Any] = {}

    def update(session: Session) -> ApiInfo:
        registry = api_registry(session, settings)
        api = operations.find(session, registry, api_id)
        added, removed = operations.scope_changes(api, scopes) if scopes is not None else ([], [])
        changed, clients = operations.update_api(
            session, registry, api.audience, name=name, add_scopes=added, remove_scopes=removed,
            access_token_ttl=ttl, signing_alg=alg, signing_algs=settings.signing_algs)
        audited.update(audience=api.audience, removed=removed, clients_changed=clients,
                       added=sorted({n for n, _ in added} - {s.name for s in api.scopes}))
        return changed

    return jsonify(writing("api_updated", update, lambda _: audited).to_dict())


@bp.delete("/apis/<api_id>")
@require_admin_token(WRITE)
def delete_api(api_id: str) -> tuple[str, int]:
    audited: dict[str, Any] = {}

    def delete(session: Session) -> None:
        registry = api_registry(session, context.settings())
        audience = operations.find(session, registry, api_id).audience
        audited.update(audience=audience,
                       clients_changed=operations.delete_api(session, registry, audience))

    writing("api_deleted", delete, lambda _: audited)
    return "", 204
