"""/admin/v1/users: `authserver user ...` over HTTP (accounts, passwords, sign-in sessions)."""

from __future__ import annotations

import json
import time
from typing import Any

from flask import Response, jsonify

from ...operations import users as operations
from ...operations.errors import BadInput
from ..protect import require_admin_token
from .blueprint import bp
from .problems import boolean, json_object, limit_and_cursor, reading, string, writing

READ, WRITE = "admin:read", "admin:write"
BOOLEAN_CLAIMS = ("email_verified", "phone_number_verified")


def _claim_text(name: str, value: Any, field: str) -> str:
    """A claim's JSON value as the text `--claim NAME=VALUE` gives (null or "" removes it):
    the operations check it the same way for both."""
    if value is None:
        return ""
    if name in BOOLEAN_CLAIMS:
        return "true" if boolean(value, field) else "false"
    if name == "address":
        if not isinstance(value, dict):
            raise BadInput(f"{field} must be a JSON object (OIDC Core §5.1.1)", field=field)
        return json.dumps(value)
    return str(string(value, field))


def _claims(body: dict[str, Any], allowed: dict[str, str]) -> dict[str, str]:
    """The body's claims, `email`, `name` and `email_verified` among them, as text by name."""
    for field in body:
        if field not in allowed:
            raise BadInput(f"unknown field {field!r}", field=str(field))
    given = body.get("claims", {})
    if not isinstance(given, dict):
        raise BadInput("claims must be a JSON object of standard claims", field="claims")
    claims = {str(name): _claim_text(str(name), value, "claims") for name, value in given.items()}
    for field in operations.OWN_FIELDS:
        if field in body:
            if field in claims:
                raise BadInput(f"the claim {field!r} is given twice", field=field)
            claims[field] = _claim_text(field, body[field], field)
    return claims


@bp.get("/users")
@require_admin_token(READ)
def list_users() -> Response:
    limit, cursor = limit_and_cursor()
    return jsonify(reading(lambda s: operations.list_users(s, limit=limit, cursor=cursor)
                           .to_dict()))


@bp.post("/users")
@require_admin_token(WRITE)
def create_user() -> tuple[Response, int]:
    body = json_object()
    for required in ("username", "password"):
        if required not in body:
            raise BadInput(f"{required} is required", field=required)
    username, password = string(body["username"], "username"), string(body["password"], "password")
    email = string(body.get("email"), "email", nullable=True)
    name = string(body.get("name"), "name", nullable=True)
    email_verified = boolean(body.get("email_verified", False), "email_verified")
    claims = _claims({k: v for k, v in body.items() if k not in (
        "username", "password", "email", "name", "email_verified")}, operations.CREATE_FIELDS)
    for field in operations.OWN_FIELDS:
        if field in body and field in claims:
            raise BadInput(f"the claim {field!r} is given twice", field=field)
    created = writing("user_created", lambda s: operations.create_user(
        s, username=username, password=password, email=email, name=name, claims=claims,
        email_verified=email_verified, now=int(time.time())),
        lambda data: {"sub": data["sub"], "username": data["username"]})
    return jsonify(created), 201


@bp.get("/users/<username>")
@require_admin_token(READ)
def show_user(username: str) -> Response:
    return jsonify(reading(lambda s: operations.show_user(s, username)))


@bp.patch("/users/<username>")
@require_admin_token(WRITE)
def update_user(username: str) -> Response:
    claims = _claims(json_object(), operations.UPDATE_FIELDS)
    return jsonify(writing("user_updated", lambda s: operations.update_user(
        s, username, claims, now=int(time.time())), lambda data: {"sub": data["sub"]},
        username=username, claims=sorted(claims)))


@bp.delete("/users/<username>")
@require_admin_token(WRITE)
def delete_user(username: str) -> tuple[str, int]:
    writing("user_deleted", lambda s: operations.delete_user(s, username), username=username)
    return "", 204


@bp.put("/users/<username>/password")
@require_admin_token(WRITE)
def set_password(username: str) -> Response:
    body = json_object()
    for field in body:
        if field not in operations.PASSWORD_FIELDS:
            raise BadInput(f"unknown field {field!r}", field=str(field))
    if "password" not in body:
        raise BadInput("password is required", field="password")
    password = string(body["password"], "password")
    revoked = writing("user_password_set", lambda s: operations.set_password(
        s, username, password, now=int(time.time())),
        lambda count: {"grants_revoked": count}, username=username)
    return jsonify({"username": username, "grants_revoked": revoked})


@bp.get("/users/<username>/sessions")
@require_admin_token(READ)
def list_sessions(username: str) -> Response:
    return jsonify(reading(lambda s: operations.list_sessions(s, username, now=int(time.time()))
                           .to_dict()))


@bp.delete("/users/<username>/sessions")
@require_admin_token(WRITE)
def end_sessions(username: str) -> Response:
    """Every live session of the user ends (the browser must sign in again)."""
    return _end(username, None)


@bp.delete("/users/<username>/sessions/<sid>")
@require_admin_token(WRITE)
def end_session(username: str, sid: str) -> Response:
    return _end(username, sid)


def _end(username: str, sid: str | None) -> Response:
    ended = writing("user_sessions_ended", lambda s: operations.end_sessions(
        s, username, now=int(time.time()), sid=sid), lambda count: {"ended": count},
        username=username, sid=sid)
    return jsonify({"ended": ended})
