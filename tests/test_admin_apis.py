# ruff: noqa: F811  (the fixtures imported from admin_access_support are parameters here)
"""The administration API's APIs (/admin/v1/apis), over HTTP on both databases: every route,
read vs write scope, the built-in APIs kept, pages walked once under inserts, bad input as
problem documents with nothing written, audit lines naming the calling client."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from .admin_access_support import Audited, audited, auth, reader, walk  # noqa: F401
from .admin_support import ISSUER, admin_token, problem
from .helpers import basic, make_client

ORDERS = "https://orders.example.com"
BODY = {"audience": ORDERS, "name": "Orders",
        "scopes": [{"name": "orders:read", "description": "Read orders"},
                   {"name": "orders:write"}]}


def test_create_show_update_delete(app: Flask, client: FlaskClient, auth: dict[str, str],
                                   audited: Audited) -> None:
    created = client.post("/admin/v1/apis", headers=auth, json={**BODY, "access_token_ttl": 60})
    assert created.status_code == 201, created.json
    api = created.json
    assert api["audience"] == ORDERS and api["built_in"] is False and api["id"].isdigit()
    assert api["scopes"] == [{"name": "orders:read", "description": "Read orders"},
                             {"name": "orders:write", "description": ""}]
    assert client.get(f"/admin/v1/apis/{api['id']}", headers=auth).json == api
    # Its scopes are a client's to ask for now, and tokens for it carry its lifetime.
    made = client.post("/admin/v1/clients", headers=auth, json={
        "client_name": "orders app", "grant_types": ["client_credentials"],
        "scope": "orders:read orders:write"}).json
    creds = (made["client_id"], made["client_secret"])
    token = client.post("/oauth/token", data={"grant_type": "client_credentials",
                                              "scope": "orders:read"}, headers=basic(*creds))
    assert token.status_code == 200 and token.json["expires_in"] == 60

    changed = client.patch(f"/admin/v1/apis/{api['id']}", headers=auth, json={
        "name": "Orders v2", "scopes": [{"name": "orders:read", "description": "Read"}],
        "access_token_ttl": None, "signing_alg": None})
    assert changed.status_code == 200, changed.json
    assert changed.json["name"] == "Orders v2" and changed.json["access_token_ttl"] is None
    assert changed.json["scopes"] == [{"name": "orders:read", "description": "Read"}]
    # The removed scope left the client's registration.
    shown = client.get(f"/admin/v1/clients/{creds[0]}", headers=auth).json
    assert shown["scope"] == "orders:read"

    assert client.delete(f"/admin/v1/apis/{api['id']}", headers=auth).status_code == 204
    problem(client.get(f"/admin/v1/apis/{api['id']}", headers=auth), 404, "id")
    assert client.get(f"/admin/v1/clients/{creds[0]}", headers=auth).json["scope"] == ""

    audited[:] = [(name, f) for name, f in audited if name.startswith("admin.api_")]
    assert [name for name, _ in audited] == ["admin.api_created", "admin.api_updated",
                                             "admin.api_deleted"]
    caller = audited[0][1]["actor"]
    assert caller.startswith("client:") and all(
        f["actor"] == caller and f["via"] == "api" and f["audience"] == ORDERS
        for _, f in audited)
    assert audited[1][1]["removed"] == ["orders:write"]
    assert audited[1][1]["clients_changed"] == [creds[0]]


def test_the_built_in_apis_are_listed_first_and_never_changed(
        client: FlaskClient, auth: dict[str, str], audited: Audited) -> None:
    listed = client.get("/admin/v1/apis", headers=auth).json
    assert [a["id"] for a in listed["items"]] == ["sample", "admin"]
    assert listed["items"][1]["audience"] == f"{ISSUER}/admin"
    assert listed["next_cursor"] is None
    for api_id in ("sample", "admin"):
        assert client.get(f"/admin/v1/apis/{api_id}", headers=auth).json["built_in"] is True
        problem(client.delete(f"/admin/v1/apis/{api_id}", headers=auth), 409)
        problem(client.patch(f"/admin/v1/apis/{api_id}", headers=auth,
                             json={"name": "mine now"}), 409)
    assert client.get("/admin/v1/apis/admin", headers=auth).json["name"] == "Administration API"
    assert audited == []


def test_read_scope_reads_and_write_scope_writes(
        client: FlaskClient, reader: dict[str, str], auth: dict[str, str]) -> None:
    assert client.get("/admin/v1/apis", headers=reader).status_code == 200
    assert client.get("/admin/v1/apis/sample", headers=reader).status_code == 200
    for answer in (client.post("/admin/v1/apis", headers=reader, json=BODY),
                   client.patch("/admin/v1/apis/sample", headers=reader, json={}),
                   client.delete("/admin/v1/apis/sample", headers=reader)):
        assert answer.status_code == 403
        assert 'error="insufficient_scope"' in answer.headers["WWW-Authenticate"]
    answer = client.get("/admin/v1/apis")
    assert answer.status_code == 401 and answer.headers["WWW-Authenticate"] == "Bearer"
    assert client.get("/admin/v1/apis", headers=auth).json["items"][0]["id"] == "sample"


@pytest.mark.parametrize(("body", "status", "field"), [
    ({**BODY, "audience": "http://orders.example.com"}, 400, "audience"),
    ({**BODY, "audience": 7}, 400, "audience"),
    ({**BODY, "scopes": [{"name": "notes:read"}]}, 409, "scopes"),
    ({**BODY, "scopes": [{"name": "openid"}]}, 400, "scopes"),
    ({**BODY, "scopes": []}, 400, "scopes"),
    ({**BODY, "scopes": "orders:read"}, 400, "scopes"),
    ({**BODY, "scopes": [{"name": "a b"}]}, 400, "scopes"),
    ({**BODY, "scopes": [{"name": "x", "colour": "red"}]}, 400, "scopes"),
    ({**BODY, "scopes": [{"name": "x"}, {"name": "x"}]}, 400, "scopes"),
    ({**BODY, "name": ""}, 400, "name"),
    ({**BODY, "access_token_ttl": 0}, 400, "access_token_ttl"),
    ({**BODY, "access_token_ttl": "60"}, 400, "access_token_ttl"),
    ({**BODY, "access_token_ttl": True}, 400, "access_token_ttl"),
    ({**BODY, "access_token_ttl": 10**30}, 400, "access_token_ttl"),
    ({**BODY, "signing_alg": "HS256"}, 400, "signing_alg"),
    ({**BODY, "signing_alg": "default"}, 400, "signing_alg"),
    ({**BODY, "colour": "blue"}, 400, "colour"),
    ({"name": "Orders", "scopes": []}, 400, "audience"),
])
def test_refused_registrations_name_the_field_and_write_nothing(
        client: FlaskClient, auth: dict[str, str], body: dict[str, Any], status: int,
        field: str, audited: Audited) -> None:
    before = client.get("/admin/v1/apis", headers=auth).json
    problem(client.post("/admin/v1/apis", headers=auth, json=body), status, field)
    assert client.get("/admin/v1/apis", headers=auth).json == before
    assert audited == []


def test_a_refused_change_writes_nothing(client: FlaskClient, auth: dict[str, str]) -> None:
    api = client.post("/admin/v1/apis", headers=auth, json=BODY).json
    problem(client.post("/admin/v1/apis", headers=auth, json=BODY), 409, "audience")
    path = f"/admin/v1/apis/{api['id']}"
    for body, field in [({"name": "renamed", "scopes": []}, "scopes"),
                        ({"name": "renamed", "access_token_ttl": -1}, "access_token_ttl"),
                        ({"name": "renamed", "scopes": [{"name": "notes:write"}]}, "scopes"),
                        ({"audience": "https://other.example.com"}, "audience"),
                        ({"name": None}, "name")]:
        problem(client.patch(path, headers=auth, json=body), 409 if "notes:write" in str(body)
                else 400, field)
        assert client.get(path, headers=auth).json == api


def test_unknown_ids_and_path_tricks_are_404(client: FlaskClient, auth: dict[str, str]) -> None:
    for path in ("/admin/v1/apis/0", "/admin/v1/apis/99999", "/admin/v1/apis/nope",
                 "/admin/v1/apis/%00", "/admin/v1/apis/..%2f..", "/admin/v1/apis/1e3",
                 "/admin/v1/apis/%EF%BC%91", "/admin/v1/apis/99999999999999999999",
                 "/admin/v1/apis/a/b", "/admin/v1/apis/SAMPLE"):
        problem(client.get(path, headers=auth), 404)
        problem(client.delete(path, headers=auth), 404)
        problem(client.patch(path, headers=auth, json={"name": "x"}), 404)
    problem(client.post("/admin/v1/apis", headers=auth, data="audience=x",
                        content_type="application/x-www-form-urlencoded"), 415)
    problem(client.post("/admin/v1/apis", headers=auth, data="{", content_type="application/json"),
            400)


def test_a_walk_sees_every_api_once_while_others_are_added(
        client: FlaskClient, auth: dict[str, str]) -> None:
    for n in range(5):
        assert client.post("/admin/v1/apis", headers=auth, json={
            "audience": f"https://api{n}.example.com", "name": f"API {n}",
            "scopes": [{"name": f"api{n}:read"}]}).status_code == 201
    existing = [a["id"] for a in client.get("/admin/v1/apis?limit=200", headers=auth)
                .json["items"]]
    added = iter(range(100, 200))

    def another() -> None:
        n = next(added)
        client.post("/admin/v1/apis", headers=auth, json={
            "audience": f"https://api{n}.example.com", "name": "meanwhile",
            "scopes": [{"name": f"api{n}:read"}]})

    for limit in (2, 3):  # one added per page: a walk of 1 a page would never end
        seen = [a["id"] for a in walk(client, "/admin/v1/apis", auth, another, limit)]
        assert len(seen) == len(set(seen))
        assert seen[:len(existing)] == existing
        existing = [a["id"] for a in client.get("/admin/v1/apis?limit=200", headers=auth)
                    .json["items"]]


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "limit=x", "cursor=garbage"])
def test_bad_page_queries_are_400(client: FlaskClient, auth: dict[str, str], query: str) -> None:
    problem(client.get(f"/admin/v1/apis?{query}", headers=auth), 400, query.split("=")[0])


def test_a_token_for_another_api_is_refused(app: Flask, client: FlaskClient) -> None:
    sample = admin_token(client, make_client(app, scope="notes:read"))
    answer = client.get("/admin/v1/apis", headers={"Authorization": f"Bearer {sample}"})
    assert answer.status_code == 401 and "invalid_token" in answer.headers["WWW-Authenticate"]
