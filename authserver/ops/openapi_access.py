"""The administration API's APIs, roles and groups (`/admin/v1/apis|roles|groups`) in the
OpenAPI document, from the same field lists the routes parse with (web/admin/apis.py, ...)."""

from __future__ import annotations

from typing import Any

from .openapi_admin import LIST_PARAMETERS, _id, _read, _write
from .openapi_parts import STRING

NULLABLE_STRING: dict[str, Any] = {"type": ["string", "null"]}
SCOPES = {"type": "array", "items": {
    "type": "object", "required": ["name"], "additionalProperties": False,
    "properties": {"name": STRING, "description": STRING}}}
API_FIELDS: dict[str, Any] = {
    "audience": STRING, "name": STRING, "scopes": SCOPES,
    "access_token_ttl": {"type": ["integer", "null"]}, "signing_alg": NULLABLE_STRING}


def _json(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": required, "additionalProperties": False,
        "properties": properties}}}}


def access_paths() -> dict[str, Any]:
    updatable = {k: v for k, v in API_FIELDS.items() if k != "audience"}
    return {
        "/admin/v1/apis": {
            "get": _read("List APIs: the built-in ones first (keyset pages)",
                         parameters=LIST_PARAMETERS),
            "post": _write("Register an API (its scopes are then a client's to ask)", "201",
                           requestBody=_json(API_FIELDS, ["audience", "name", "scopes"])),
        },
        "/admin/v1/apis/{api_id}": {
            "parameters": _id("api_id"),
            "get": _read("One API (`sample` and `admin` are the built-in ones)"),
            "patch": _write("Change an API; `scopes` is the whole new list (scopes left out "
                            "leave every client); null returns to the server's default",
                            requestBody=_json(updatable, [])),
            "delete": _write("Delete an API, its roles, and its scopes from every client "
                             "(the built-in ones: 409)", "204"),
        },
    }
