"""The administration API's part of the OpenAPI document (`/admin/v1`), generated from the
operations' own field tables, so a field added to the API is described without a second edit."""

from __future__ import annotations

from typing import Any

from ..operations import clients
from ..operations.pages import MAX_LIMIT
from .openapi_parts import OBJECT, STRING, json_body

ADMIN_READ: list[dict[str, list[str]]] = [{"bearer": ["admin:read"]}]
ADMIN_WRITE: list[dict[str, list[str]]] = [{"bearer": ["admin:write"]}]
JSON_TYPES: dict[str, dict[str, Any]] = {
    "string": STRING, "boolean": {"type": "boolean"}, "object": OBJECT,
    "string[]": {"type": "array", "items": STRING},
}
PROBLEM = {"type": "object", "required": ["status"], "properties": {
    "type": STRING, "title": STRING, "status": {"type": "integer"}, "detail": STRING,
    "field": STRING}}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {
        "schema": {"$ref": "#/components/schemas/Problem"}}}}


AUTH_ERRORS = {"401": {"description": "No or invalid access token (RFC 6750 challenge)"},
               "403": {"description": "The token lacks the scope (RFC 6750 insufficient_scope)"}}
WRITE_ERRORS = {"400": _problem("Bad input; `field` names it"),
                "404": _problem("No such object"), "409": _problem("Exists already"),
                "415": _problem("The body is not JSON")}
LIST_PARAMETERS = [
    {"name": "limit", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}},
    {"name": "cursor", "in": "query", "required": False, "schema": STRING},
]


def _body(fields: dict[str, tuple[str, str]], required: list[str]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": required, "additionalProperties": False,
        "properties": {name: JSON_TYPES[kind] for name, (_, kind) in fields.items()}}}}}


def _read(summary: str, **extra: Any) -> dict[str, Any]:
    return {"summary": summary, "security": ADMIN_READ, **extra,
            "responses": {"200": json_body("OK"), "400": _problem("Bad query"),
                          "404": _problem("No such object"), **AUTH_ERRORS}}


def _write(summary: str, ok: str = "200", **extra: Any) -> dict[str, Any]:
    answer = {"description": "Done"} if ok == "204" else json_body("OK")
    return {"summary": summary, "security": ADMIN_WRITE, **extra,
            "responses": {ok: answer, **WRITE_ERRORS, **AUTH_ERRORS}}


def _id(name: str) -> list[dict[str, Any]]:
    return [{"name": name, "in": "path", "required": True, "schema": STRING}]


def admin_paths() -> dict[str, Any]:
    fields = clients.FIELDS
    return {
        "/admin/v1/clients": {
            "get": _read("List clients (keyset pages)", parameters=LIST_PARAMETERS),
            "post": _write("Register a client; its secret is in the answer, once", "201",
                           requestBody=_body(fields, ["client_name"])),
        },
        "/admin/v1/clients/{client_id}": {
            "parameters": _id("client_id"),
            "get": _read("One client's registration (never its secret)"),
            "patch": _write("Change what is given, with the checks of a new client",
                            requestBody=_body(fields, [])),
            "delete": _write("Delete a client", "204"),
        },
        "/admin/v1/keys": {"get": _read("The signing keys (keyset pages, oldest first)",
                                        parameters=LIST_PARAMETERS)},
        "/admin/v1/keys/{kid}": {"parameters": _id("kid"),
                                 "get": _read("One signing key (never its private part)")},
        "/admin/v1/keys/rotate": {"post": _write(
            "Rotate the signing keys: next -> current, current -> retired, a fresh next",
            requestBody={"required": False, "content": {"application/json": {"schema": {
                "type": "object", "additionalProperties": False, "properties": {
                    "force": {"type": "boolean"}, "dry_run": {"type": "boolean"},
                    "alg": STRING}}}}})},
        "/admin/v1/clients/{client_id}/secret": {
            "parameters": _id("client_id"),
            "post": _write("Rotate a confidential client's secret"),
        },
    }
