"""The building blocks of the OpenAPI document (ops/openapi.py): error bodies, form bodies,
the security requirements and the parameters a browser or a client sends."""

from __future__ import annotations

from typing import Any

FORM = "application/x-www-form-urlencoded"
STRING: dict[str, Any] = {"type": "string"}
OBJECT: dict[str, Any] = {"type": "object"}

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
}

# Basic, or client_id/client_secret in the form (an empty requirement: no HTTP auth scheme).
CLIENT_AUTH: list[dict[str, list[str]]] = [{"clientBasic": []}, {}]
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
BEARER_OR_NONE: list[dict[str, list[str]]] = [{"bearer": []}, {}]
CLIENT_CREDENTIALS = {"client_id": STRING, "client_secret": STRING,
                      "client_assertion": STRING, "client_assertion_type": STRING}

# An authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1, RFC 7636, RFC 9101, RFC 8707).
AUTHORIZATION_PARAMETERS = {
    name: STRING for name in (
        "response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "prompt",
        "max_age", "login_hint", "code_challenge", "code_challenge_method", "claims",
        "request", "request_uri", "resource", "response_mode", "ui_locales", "id_token_hint")
}


def error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def json_body(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": schema or OBJECT}}}


def html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": STRING}}}


REDIRECT = {"description": "A redirect (to the client, or to the next page)",
            "headers": {"Location": {"schema": STRING}}}


def form(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"required": True, "content": {FORM: {"schema": {
        "type": "object", "properties": properties, "required": required}}}}


def query(properties: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"name": name, "in": "query", "required": False, "schema": schema}
            for name, schema in properties.items()]
