"""The administration API's users and identity providers in the OpenAPI document, generated
from the routes' field tables (web/admin/users.py, idps.py), beside openapi_admin.py."""

from __future__ import annotations

from typing import Any

from ..operations import idps, users
from .openapi_admin import JSON_TYPES, LIST_PARAMETERS, _id, _read, _write


def body(fields: dict[str, str], required: list[str]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": required, "additionalProperties": False,
        "properties": {name: JSON_TYPES[kind] for name, kind in fields.items()}}}}}


def user_paths() -> dict[str, Any]:
    return {
        "/admin/v1/users": {
            "get": _read("List users (keyset pages)", parameters=LIST_PARAMETERS),
            "post": _write("Create a user (the password is stored as an argon2id hash)", "201",
                           requestBody=body(users.CREATE_FIELDS, ["username", "password"])),
        },
        "/admin/v1/users/{username}": {
            "parameters": _id("username"),
            "get": _read("One user: claims, groups, roles, linked identities"),
            "patch": _write("Change the email, name or standard claims given (null removes one)",
                            requestBody=body(users.UPDATE_FIELDS, [])),
            "delete": _write("Delete a user, their refresh tokens and their notes", "204"),
        },
        "/admin/v1/users/{username}/password": {
            "parameters": _id("username"),
            "put": _write("Set the password: the user's sessions end, refresh grants revoked",
                          requestBody=body(users.PASSWORD_FIELDS, ["password"])),
        },
        "/admin/v1/users/{username}/sessions": {
            "parameters": _id("username"),
            "get": _read("The user's live sign-in sessions (one page)"),
            "delete": _write("End every live sign-in session of the user"),
        },
        "/admin/v1/users/{username}/mfa": {
            "parameters": _id("username"),
            "get": _read("The user's second factors, as `user mfa list --json`"),
            "delete": _write("Remove every second factor (authenticator app, passkeys, "
                             "recovery codes), as `user mfa reset`"),
        },
        "/admin/v1/users/{username}/sessions/{sid}": {
            "parameters": _id("username") + _id("sid"),
            "delete": _write("End one sign-in session (its sid)"),
        },
    }


def idp_paths() -> dict[str, Any]:
    return {
        "/admin/v1/idps": {
            "get": _read("List the identity providers (keyset pages)", parameters=LIST_PARAMETERS),
            "post": _write("Add a provider (its discovery is read); the answer has the "
                           "redirect_uri to register there, never the secret", "201",
                           requestBody=body(idps.FIELDS, idps.REQUIRED)),
        },
        "/admin/v1/idps/{slug}": {
            "parameters": _id("slug"),
            "get": _read("One provider (its id is its slug)"),
            "patch": _write("Change what is given (not the slug or issuer), with the checks "
                            "of a new provider", requestBody=body(idps.CHANGEABLE, [])),
            "delete": _write("Remove a provider and the identities linked through it", "204"),
        },
    }
