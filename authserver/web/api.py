"""The sample resource APIs (INTERFACE.md): /api/me, /api/notes and /api/admin/notes, behind the
resource protector."""

from __future__ import annotations

from typing import Any

from authlib.integrations.flask_oauth2 import current_token
from flask import Blueprint, Response, jsonify, request

from .. import context
from ..errors import error_response
from ..policy import ADMIN_ROLE, MAX_NOTE_LENGTH
from .protect import require_token

bp = Blueprint("api", __name__, url_prefix="/api")


def _bad_request(description: str) -> Response:
    return error_response(400, "invalid_request", description)


@bp.get("/me")
@require_token("profile")
def me() -> Response:
    token = current_token._get_current_object()  # one context lookup, not one a claim
    subject = token["sub"]
    body: dict[str, Any] = {"sub": subject, "client_id": token["client_id"]}
    if subject == token["client_id"]:
        return jsonify(body)  # a client_credentials token: no user to look up (RFC 9068 §2.2)
    user = context.store().users.by_sub(subject)
    if user is not None:
        body["username"] = user.username
        body["email"] = user.email
    return jsonify(body)


@bp.get("/notes")
@require_token("notes:read")
def list_notes() -> Response:
    notes = context.store().notes.newest(current_token["sub"])
    return jsonify(notes=[note.to_dict() for note in notes])


@bp.get("/admin/notes")
@require_token("notes:read", roles=ADMIN_ROLE)
def every_users_notes() -> Response:
    """Every user's notes, for holders of the sample API's `admin` role (created by the
    operator: `authserver role create --api <AUTHSERVER_API_AUDIENCE> admin`)."""
    notes = context.store().notes.newest_of_everyone()
    return jsonify(notes=[{**note.to_dict(), "owner": note.owner_sub} for note in notes])


@bp.post("/notes")
@require_token("notes:write")
def create_note() -> Response | tuple[Response, int]:
    if not request.is_json:
        return _bad_request("the body must be JSON (Content-Type: application/json)")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _bad_request('the body must be a JSON object like {"text": "..."}')
    unknown = sorted(set(body) - {"text"})
    if unknown:
        return _bad_request(f"unknown field(s): {', '.join(unknown)}")
    text = body.get("text")
    if not isinstance(text, str):
        return _bad_request('"text" is required and must be a string')
    if not 1 <= len(text) <= MAX_NOTE_LENGTH:
        return _bad_request(f'"text" must be 1 to {MAX_NOTE_LENGTH} characters')
    if "\x00" in text:
        return _bad_request('"text" must not contain NUL characters')
    note = context.store().notes.add(current_token["sub"], text)
    return jsonify(note.to_dict()), 201
