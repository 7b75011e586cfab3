"""RFC 9457 problem documents for the administration API, the JSON it accepts, and the
unit of work around each write (whole or not at all, audited with the calling client)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from authlib.integrations.flask_oauth2 import current_token
from flask import Response, jsonify, request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ... import context, events
from ...operations.errors import BadInput, Conflict, Duplicate, NotFound, OperationError

T = TypeVar("T")
PROBLEM = "application/problem+json"
TITLES = {400: "Bad request", 404: "Not found", 409: "Conflict", 415: "Unsupported media type"}


class Problem(Exception):
    """A 4xx answer that is not an operation's (the body is not JSON, a query is malformed)."""

    def __init__(self, status: int, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.field = status, detail, field

    def response(self) -> Response:
        body: dict[str, Any] = {"type": "about:blank", "title": TITLES.get(self.status, "Error"),
                                "status": self.status, "detail": self.detail}
        if self.field is not None:
            body["field"] = self.field  # an extension member (RFC 9457 §3.2)
        answer = jsonify(body)
        answer.status_code = self.status
        answer.mimetype = PROBLEM
        answer.headers["Cache-Control"] = "no-store"
        return answer


def of_operation(error: OperationError) -> Response:
    status = 404 if isinstance(error, NotFound) else 409 if isinstance(error, (Duplicate, Conflict)) else 400
    return Problem(status, error.message, error.field).response()


def json_object() -> dict[str, Any]:
    """The request's body: a JSON object, or a problem."""
    if not request.is_json:
        raise Problem(415, "the body must be JSON (Content-Type: application/json)")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Problem(400, "the body must be a JSON object")
    return body


def string(value: Any, field: str, *, nullable: bool = False) -> Any:
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        raise BadInput(f"{field} must be a string", field=field)
    if "\x00" in value:
        raise BadInput(f"{field} must not hold NUL characters", field=field)
    return value


def strings(value: Any, field: str) -> list[str]:
    if not isinstance(value, list):
        raise BadInput(f"{field} must be an array of strings", field=field)
    return [string(item, field) for item in value]


def boolean(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise BadInput(f"{field} must be true or false", field=field)
    return value


def limit_and_cursor() -> tuple[int | None, str | None]:
    limit = request.args.get("limit")
    if limit is not None and not (limit.isascii() and limit.isdigit() and len(limit) < 6):
        raise BadInput("limit must be a whole number", field="limit")
    cursor = request.args.get("cursor")
    if cursor is not None:
        string(cursor, "cursor")
    return (int(limit) if limit is not None else None), cursor


def reading(operation: Callable[[Session], T]) -> T:
    return operation(context.store().session())


def writing(event: str, operation: Callable[[Session], T],
            described: Callable[[T], dict[str, Any]] | None = None, **audited: Any) -> T:
    """Run one write: committed whole, or rolled back whole when refused; then audited as
    `admin.<event>` with the calling client's id (the CLI's lines name the OS user)."""
    store = context.store()
    try:
        result = operation(store.begin_write())
        store.commit()
    except IntegrityError:
        # Another request made the same name (or removed what this one names) between this
        # one's checks and its write: the database's constraint refused it.
        store.rollback()
        raise Conflict("another request changed the same data at the same moment; nothing "
                       "was written (try again)") from None
    except Exception:
        store.rollback()
        raise
    if described is not None:
        audited.update(described(result))
    audit(event, **audited)
    return result


def audit(event: str, **fields: Any) -> None:
    """An audit line `admin.<event>` naming the calling client (the CLI's name the OS user)."""
    events.record(f"admin.{event}", actor=f"client:{current_token['client_id']}", via="api",
                  **fields)
