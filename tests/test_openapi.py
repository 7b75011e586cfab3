"""The OpenAPI document describes exactly what the app serves: every route and method is
documented (so the fuzzer reaches it), and nothing documented is missing."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from authserver.ops.openapi import openapi_path

OPERATIONS = {"get", "put", "post", "delete", "patch"}
# Routes served but not described, each with the reason.
NOT_DOCUMENTED = {
    "/static/{filename}": "the stylesheet and images of our own pages: files, not an interface",
}


def served_operations(app: Flask) -> set[tuple[str, str]]:
    return {
        (openapi_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
        if method.lower() in OPERATIONS and openapi_path(rule.rule) not in NOT_DOCUMENTED
    }


def documented_operations(document: dict[str, dict[str, object]]) -> set[tuple[str, str]]:
    return {(path, method) for path, item in document["paths"].items()
            for method in item if method in OPERATIONS}


def test_every_served_route_and_method_is_documented_and_nothing_else(
    app: Flask, client: FlaskClient
) -> None:
    document = client.get("/openapi.json").json
    assert served_operations(app) == documented_operations(document)


def test_the_protocol_endpoints_the_fuzzer_missed_before_are_described(
    client: FlaskClient,
) -> None:
    paths = client.get("/openapi.json").json["paths"]
    assert "201" in paths["/oauth/par"]["post"]["responses"]
    assert "device_code" in (paths["/oauth/device_authorization"]["post"]["responses"]["200"]
                             ["content"]["application/json"]["schema"]["properties"])
    assert set(paths["/oauth/register/{client_id}"]) >= {"get", "put", "delete", "parameters"}
    assert "text/html" in paths["/oauth/authorize"]["get"]["responses"]["200"]["content"]


def test_the_excluded_routes_are_still_served(app: Flask) -> None:
    # An exclusion that no longer matches a route would hide nothing: keep the list true.
    served = {openapi_path(rule.rule) for rule in app.url_map.iter_rules()}
    assert set(NOT_DOCUMENTED) <= served


def test_flask_rules_become_openapi_templates() -> None:
    assert openapi_path("/oauth/register/<client_id>") == "/oauth/register/{client_id}"
    assert openapi_path("/static/<path:filename>") == "/static/{filename}"
    assert openapi_path("/oauth/token") == "/oauth/token"
