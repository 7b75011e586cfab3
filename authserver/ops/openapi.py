"""The OpenAPI 3.1 description of the HTTP interface, served at /openapi.json.

Written as data: it is the contract clients and the fuzzer read. Every route the app serves is
described here (tests/test_openapi.py compares the two sets); a path whose route is not
registered is left out when the document is built.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask

from ..policy import MAX_NOTE_LENGTH, SUPPORTED_GRANT_TYPES
from .openapi_access import access_paths
from .openapi_account import account_paths
from .openapi_admin import PROBLEM, admin_paths
from .openapi_admin_users import idp_paths, user_paths
from .openapi_browser import browser_paths
from .openapi_parts import (
    AUTHORIZATION_PARAMETERS,
    BEARER,
    BEARER_OR_NONE,
    CLIENT_AUTH,
    CLIENT_CREDENTIALS,
    ERROR,
    OBJECT,
    STRING,
    error,
    form,
    json_body,
)
from .openapi_passkeys import passkey_paths

TOKEN = {
    "post": {
        "summary": "Token endpoint (RFC 6749 §3.2)",
        "security": CLIENT_AUTH,
        "requestBody": form({
            "grant_type": {"type": "string", "enum": list(SUPPORTED_GRANT_TYPES)},
            "scope": STRING, "username": STRING, "password": STRING, "refresh_token": STRING,
            "code": STRING, "redirect_uri": STRING, "code_verifier": STRING,
            "device_code": STRING, "resource": STRING, **CLIENT_CREDENTIALS,
        }, ["grant_type"]),
        "responses": {
            "200": json_body("Tokens (RFC 6749 §5.1)", {
                "type": "object", "required": ["access_token", "token_type"],
                "properties": {"access_token": STRING, "token_type": STRING,
                               "expires_in": {"type": "integer"}, "scope": STRING,
                               "refresh_token": STRING, "id_token": STRING}}),
            "400": error("Invalid request or grant (RFC 6749 §5.2)"),
            "401": error("Client authentication failed"),
            "413": error("Body too large"),
            "429": error("Too many failed attempts"),
            "503": error("Database unavailable"),
        },
    }
}

REVOKE = {"post": {
    "summary": "Revocation (RFC 7009)", "security": CLIENT_AUTH,
    "requestBody": form({"token": STRING, "token_type_hint": STRING, **CLIENT_CREDENTIALS},
                        ["token"]),
    "responses": {"200": {"description": "Revoked, or unknown"},
                  "400": error("Bad request"), "401": error("Client authentication failed")},
}}

INTROSPECT = {"post": {
    "summary": "Introspection (RFC 7662)", "security": CLIENT_AUTH,
    "requestBody": form({"token": STRING, "token_type_hint": STRING, **CLIENT_CREDENTIALS},
                        ["token"]),
    "responses": {"200": json_body("Token state", {
        "type": "object", "required": ["active"], "properties": {"active": {"type": "boolean"}}}),
                  "400": error("Bad request"), "401": error("Client authentication failed")},
}}

PAR = {"post": {
    "summary": "Pushed authorization request (RFC 9126 §2)", "security": CLIENT_AUTH,
    "requestBody": form({**AUTHORIZATION_PARAMETERS, **CLIENT_CREDENTIALS}, []),
    "responses": {"201": json_body("The request_uri to send to /oauth/authorize", {
        "type": "object", "required": ["request_uri", "expires_in"],
        "properties": {"request_uri": STRING, "expires_in": {"type": "integer"}}}),
                  "400": error("Invalid authorization request"),
                  "401": error("Client authentication failed"),
                  "429": error("Too many failed attempts")},
}}

DEVICE_AUTHORIZATION = {"post": {
    "summary": "Device authorization (RFC 8628 §3.1)", "security": CLIENT_AUTH,
    "requestBody": form({"scope": STRING, "resource": STRING, **CLIENT_CREDENTIALS}, []),
    "responses": {"200": json_body("A device code and a user code (RFC 8628 §3.2)", {
        "type": "object",
        "required": ["device_code", "user_code", "verification_uri", "expires_in"],
        "properties": {"device_code": STRING, "user_code": STRING, "verification_uri": STRING,
                       "verification_uri_complete": STRING,
                       "expires_in": {"type": "integer"}, "interval": {"type": "integer"}}}),
                  "400": error("Invalid request"), "401": error("Client authentication failed"),
                  "429": error("Too many failed attempts")},
}}

CLIENT_METADATA = {"type": "object", "properties": {
    "redirect_uris": {"type": "array", "items": STRING},
    "post_logout_redirect_uris": {"type": "array", "items": STRING},
    "grant_types": {"type": "array", "items": STRING},
    "response_types": {"type": "array", "items": STRING},
    "token_endpoint_auth_method": STRING, "client_name": STRING, "scope": STRING,
    "jwks": OBJECT, "backchannel_logout_uri": STRING,
    "id_token_signed_response_alg": STRING}}
REGISTRATION_ERRORS = {
    "400": error("Invalid client metadata (RFC 7591 §3.2.2)"),
    "401": error("Missing or invalid access token"), "403": error("Not allowed"),
    "404": error("Registration is off here, or no such client"),
    "429": error("Too many registration attempts")}

REGISTER = {"post": {
    "summary": "Dynamic client registration (RFC 7591 §3); the bearer is the initial access "
               "token when AUTHSERVER_REGISTRATION=token",
    "security": BEARER_OR_NONE,
    "requestBody": {"required": True, "content": {"application/json": {
        "schema": CLIENT_METADATA}}},
    "responses": {"201": json_body("The registered client (RFC 7591 §3.2.1)"),
                  **REGISTRATION_ERRORS},
}}

CLIENT_ID = [{"name": "client_id", "in": "path", "required": True, "schema": STRING}]
CONFIGURATION = {
    "parameters": CLIENT_ID,
    "get": {"summary": "Read a registered client (RFC 7592 §2.1)", "security": BEARER,
            "responses": {"200": json_body("The client's metadata"), **REGISTRATION_ERRORS}},
    "put": {"summary": "Update a registered client (RFC 7592 §2.2)", "security": BEARER,
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": CLIENT_METADATA}}},
            "responses": {"200": json_body("The client's metadata"), **REGISTRATION_ERRORS}},
    "delete": {"summary": "Delete a registered client (RFC 7592 §2.3)", "security": BEARER,
               "responses": {"204": {"description": "Deleted"}, **REGISTRATION_ERRORS}},
}


def _bearer_get(summary: str, scope: str) -> dict[str, Any]:
    return {"summary": f"{summary} (scope {scope})", "security": BEARER, "responses": {
        "200": json_body("OK"),
        "401": error("No or invalid token (RFC 6750)"),
        "403": error("Insufficient scope or role (RFC 6750)"),
    }}


def _json_get(summary: str) -> dict[str, Any]:
    return {"get": {"summary": summary, "responses": {"200": json_body("OK")}}}


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
                                  "400": error("Invalid note")}
    return {
        "/oauth/token": TOKEN,
        "/oauth/revoke": REVOKE,
        "/oauth/introspect": INTROSPECT,
        "/oauth/par": PAR,
        "/oauth/device_authorization": DEVICE_AUTHORIZATION,
        "/oauth/register": REGISTER,
        "/oauth/register/{client_id}": CONFIGURATION,
        "/oauth/userinfo": {"get": _bearer_get("OIDC UserInfo", "openid"),
                            "post": _bearer_get("OIDC UserInfo", "openid")},
        **browser_paths(),
        **account_paths(),
        **passkey_paths(),
        **admin_paths(),
        **user_paths(),
        **access_paths(),
        **idp_paths(),
        "/.well-known/openid-configuration": _json_get("OpenID Provider metadata"),
        "/.well-known/oauth-authorization-server": _json_get("RFC 8414 metadata"),
        "/.well-known/jwks.json": {"get": {"summary": "Public signing keys", "responses": {
            "200": {"description": "JWK Set", "content": {"application/jwk-set+json": {
                "schema": {"type": "object", "required": ["keys"]}}}}}}},
        "/openapi.json": _json_get("This document"),
        "/api/me": {"get": _bearer_get("Who the token is for", "profile")},
        "/api/notes": notes,
        "/api/admin/notes": {"get": _bearer_get(
            "Every user's notes, newest 100 (and the sample API's role admin)", "notes:read")},
        "/healthz": _json_get("Liveness"),
        "/readyz": {"get": {"summary": "Readiness", "responses": {
            "200": {"description": "Ready"}, "503": error("Not ready")}}},
        "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {
            "description": "The text exposition format",
            "content": {"text/plain": {"schema": STRING}}}}}},
    }


def openapi_path(rule: str) -> str:
    """A Flask rule written the OpenAPI way: /oauth/register/<client_id> is
    /oauth/register/{client_id}."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def build(app: Flask, issuer: str) -> dict[str, Any]:
    served = {openapi_path(rule.rule) for rule in app.url_map.iter_rules()}
    return {
        "openapi": "3.1.0",
        "info": {"title": "authserver", "version": "0.1.0",
                 "description": "OAuth 2 / OpenID Connect authorization server"},
        "servers": [{"url": issuer}],
        "paths": {path: item for path, item in _paths().items() if path in served},
        "components": {
            "schemas": {"Error": ERROR, "Problem": PROBLEM},
            "securitySchemes": {
                "clientBasic": {"type": "http", "scheme": "basic"},
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            },
        },
    }
