"""The sample resource APIs (INTERFACE.md): /api/me and /api/notes, behind the resource protector."""

from __future__ import annotations

from typing import Any

from authlib.integrations.flask_oauth2 import current_token
from flask import Blueprint, Response, jsonify, request
from sqlalchemy import select

from .. import db
from ..models import Note, User
from .protect import require_token

bp = Blueprint("api", __name__, url_prefix="/api")

MAX_NOTE_LENGTH = 2000
# The newest notes first, and never an unbounded list.
NOTES_PAGE_SIZE = 100


def _bad_request(description: str) -> Response:
    response = jsonify(error="invalid_request", error_description=description)
    response.status_code = 400
    return response


@bp.get("/me")
@require_token("profile")
def me() -> Response:
    subject = current_token["sub"]
    body: dict[str, Any] = {"sub": subject, "client_id": current_token["client_id"]}
    if subject == current_token["client_id"]:
        return jsonify(body)  # a client_credentials token: no user to look up (RFC 9068 §2.2)
    user = db.session().scalar(select(User).where(User.sub == subject))
    if user is not None:
        body["username"] = user.username
        body["email"] = user.email
    return jsonify(body)


@bp.get("/notes")
@require_token("notes:read")
def list_notes() -> Response:
    notes = db.session().scalars(
        select(Note)
        .where(Note.owner_sub == current_token["sub"])
        .order_by(Note.id.desc())
        .limit(NOTES_PAGE_SIZE)
    )
    return jsonify(notes=[note.to_dict() for note in notes])


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
    session = db.begin_write()
    note = Note(owner_sub=current_token["sub"], text=text)
    session.add(note)
    session.commit()
    return jsonify(note.to_dict()), 201
