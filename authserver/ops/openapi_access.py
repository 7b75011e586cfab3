"""The administration API's APIs, roles and groups (`/admin/v1/apis|roles|groups`) in the
OpenAPI document: the bodies web/admin/apis.py, roles.py and groups.py accept."""

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


ROLE_FIELDS: dict[str, Any] = {"audience": STRING, "name": STRING, "description": STRING}
HOLDER = {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "additionalProperties": False, "minProperties": 1, "maxProperties": 1,
    "properties": {"user": STRING, "group": STRING, "client": STRING}}}}}


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
        "/admin/v1/roles": {
            "get": _read("List roles (keyset pages); `audience` keeps one API's",
                         parameters=[*LIST_PARAMETERS, {"name": "audience", "in": "query",
                                                        "required": False, "schema": STRING}]),
            "post": _write("Create a role of an API", "201",
                           requestBody=_json(ROLE_FIELDS, ["audience", "name"])),
        },
        "/admin/v1/roles/{role_id}": {
            "parameters": _id("role_id"),
            "get": _read("One role and who holds it directly (`grants`)"),
            "patch": _write("Rename a role or describe it anew",
                            requestBody=_json({"name": STRING, "description": STRING}, [])),
            "delete": _write("Delete a role and every grant of it", "204"),
        },
        "/admin/v1/roles/{role_id}/grants": {
            "parameters": _id("role_id"),
            "post": _write("Grant the role to one user, group or client", "201",
                           requestBody=HOLDER),
            "delete": _write("Take the role back from one user, group or client", "204",
                             requestBody=HOLDER),
        },
        "/admin/v1/groups": {
            "get": _read("List groups with their members and roles (keyset pages)",
                         parameters=LIST_PARAMETERS),
            "post": _write("Create a group", "201", requestBody=_json({"name": STRING},
                                                                      ["name"])),
        },
        "/admin/v1/groups/{group_id}": {
            "parameters": _id("group_id"),
            "get": _read("One group: its members and roles"),
            "patch": _write("Rename a group", requestBody=_json({"name": STRING}, ["name"])),
            "delete": _write("Delete a group, its memberships and its role grants", "204"),
        },
        "/admin/v1/groups/{group_id}/members": {
            "parameters": _id("group_id"),
            "post": _write("Add a user to the group", "201",
                           requestBody=_json({"user": STRING}, ["user"])),
            "delete": _write("Remove a user from the group", "204",
                             requestBody=_json({"user": STRING}, ["user"])),
        },
    }
