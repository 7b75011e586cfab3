"""The OpenAPI 3.1 description of the HTTP interface, served at /openapi.json.

Written as data: it is the contract clients and the fuzzer read, and it lists only what the
app really serves (paths whose routes are missing are left out when it is built).
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from ..policy import MAX_NOTE_LENGTH, SUPPORTED_GRANT_TYPES

FORM = "application/x-www-form-urlencoded"

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
}


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _form(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"required": True, "content": {FORM: {"schema": {
        "type": "object", "properties": properties, "required": required}}}}


# Basic, or client_id/client_secret in the form (an empty requirement: no HTTP auth scheme).
CLIENT_AUTH: list[dict[str, list[str]]] = [{"clientBasic": []}, {}]
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
STRING = {"type": "string"}

TOKEN = {
    "post": {
        "summary": "Token endpoint (RFC 6749 §3.2)",
        "security": CLIENT_AUTH,
        "requestBody": _form({
            "grant_type": {"type": "string", "enum": list(SUPPORTED_GRANT_TYPES)},
            "scope": STRING, "username": STRING, "password": STRING, "refresh_token": STRING,
            "code": STRING, "redirect_uri": STRING, "code_verifier": STRING,
            "client_id": STRING, "client_secret": STRING,
        }, ["grant_type"]),
        "responses": {
            "200": {"description": "Tokens (RFC 6749 §5.1)", "content": {"application/json": {
                "schema": {"type": "object", "required": ["access_token", "token_type"],
                           "properties": {"access_token": STRING, "token_type": STRING,
                                          "expires_in": {"type": "integer"}, "scope": STRING,
                                          "refresh_token": STRING, "id_token": STRING}}}}},
            "400": _error("Invalid request or grant (RFC 6749 §5.2)"),
            "401": _error("Client authentication failed"),
            "413": _error("Body too large"),
            "429": _error("Too many failed attempts"),
            "503": _error("Database unavailable"),
        },
    }
}

REVOKE = {"post": {
    "summary": "Revocation (RFC 7009)", "security": CLIENT_AUTH,
    "requestBody": _form({"token": STRING, "token_type_hint": STRING,
                          "client_id": STRING, "client_secret": STRING}, ["token"]),
    "responses": {"200": {"description": "Revoked, or unknown"},
                  "400": _error("Bad request"), "401": _error("Client authentication failed")},
}}

INTROSPECT = {"post": {
    "summary": "Introspection (RFC 7662)", "security": CLIENT_AUTH,
    "requestBody": _form({"token": STRING, "token_type_hint": STRING,
                          "client_id": STRING, "client_secret": STRING}, ["token"]),
    "responses": {"200": {"description": "Token state", "content": {"application/json": {
        "schema": {"type": "object", "required": ["active"],
                   "properties": {"active": {"type": "boolean"}}}}}},
                  "400": _error("Bad request"), "401": _error("Client authentication failed")},
}}


def _bearer_get(summary: str, scope: str) -> dict[str, Any]:
    return {"summary": f"{summary} (scope {scope})", "security": BEARER, "responses": {
        "200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}},
        "401": _error("No or invalid token (RFC 6750)"),
        "403": _error("Insufficient scope (RFC 6750)"),
    }}


def _json_get(summary: str) -> dict[str, Any]:
    return {"get": {"summary": summary, "responses": {"200": {
        "description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}}}}


def _paths() -> dict[str, Any]:
    notes = {
        "get": _bearer_get("The caller's notes", "notes:read"),
        "post": {
            **_bearer_get("Store a note", "notes:write"),
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["text"], "additionalProperties": False,
                "properties": {"text": {"type": "string", "minLength": 1, "maxLength": MAX_NOTE_LENGTH}}}}}},
        },
    }
    notes["post"]["responses"] = {**notes["post"]["responses"],
                                  "201": notes["post"]["responses"].pop("200"),
                                  "400": _error("Invalid note")}
    return {
        "/oauth/token": TOKEN,
        "/oauth/revoke": REVOKE,
        "/oauth/introspect": INTROSPECT,
        "/oauth/userinfo": {"get": _bearer_get("OIDC UserInfo", "openid"),
                            "post": _bearer_get("OIDC UserInfo", "openid")},
        "/.well-known/openid-configuration": _json_get("OpenID Provider metadata"),
        "/.well-known/oauth-authorization-server": _json_get("RFC 8414 metadata"),
        "/.well-known/jwks.json": {"get": {"summary": "Public signing keys", "responses": {
            "200": {"description": "JWK Set", "content": {"application/jwk-set+json": {
                "schema": {"type": "object", "required": ["keys"]}}}}}}},
        "/api/me": {"get": _bearer_get("Who the token is for", "profile")},
        "/api/notes": notes,
        "/healthz": _json_get("Liveness"),
        "/readyz": {"get": {"summary": "Readiness", "responses": {
            "200": {"description": "Ready"}, "503": _error("Not ready")}}},
    }


def build(app: Flask, issuer: str) -> dict[str, Any]:
    served = {rule.rule for rule in app.url_map.iter_rules()}
    return {
        "openapi": "3.1.0",
        "info": {"title": "authserver", "version": "0.1.0",
                 "description": "OAuth 2 / OpenID Connect authorization server"},
        "servers": [{"url": issuer}],
        "paths": {path: item for path, item in _paths().items() if path in served},
        "components": {
            "schemas": {"Error": ERROR},
            "securitySchemes": {
                "clientBasic": {"type": "http", "scheme": "basic"},
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            },
        },
    }
