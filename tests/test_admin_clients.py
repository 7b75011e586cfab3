"""The administration API's clients (/admin/v1/clients), over HTTP on both databases: who may
call it, every route, pages walked once under inserts, bad input as problem documents with
nothing written, audit lines naming the calling client, DPoP-bound callers."""

# ruff: noqa: F811  (the fixtures imported from admin_support are parameters here)
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from .admin_support import ISSUER, admin_client, admin_token, audited, auth, problem  # noqa: F401
from .dpop_client import DPoPKey
from .helpers import basic, make_client


def test_only_admin_tokens_are_accepted_read_for_get_write_for_the_rest(
        app: Flask, client: FlaskClient) -> None:
    answer = client.get("/admin/v1/clients")
    assert answer.status_code == 401 and answer.headers["WWW-Authenticate"] == "Bearer"
    # A token for the sample API is not one for the administration API.
    sample = admin_token(client, make_client(app, scope="notes:read"))
    answer = client.get("/admin/v1/clients", headers={"Authorization": f"Bearer {sample}"})
    assert answer.status_code == 401 and "invalid_token" in answer.headers["WWW-Authenticate"]
    reader = admin_token(client, admin_client(app, scope="admin:read"))
    headers = {"Authorization": f"Bearer {reader}"}
    assert client.get("/admin/v1/clients", headers=headers).status_code == 200
    answer = client.post("/admin/v1/clients", json={"client_name": "x"}, headers=headers)
    assert answer.status_code == 403
    assert 'error="insufficient_scope"' in answer.headers["WWW-Authenticate"]
    writer = admin_token(client, admin_client(app, scope="admin:write"))
    answer = client.get("/admin/v1/clients", headers={"Authorization": f"Bearer {writer}"})
    assert answer.status_code == 403


def test_the_admin_token_is_for_the_built_in_admin_api(app: Flask, client: FlaskClient) -> None:
    from .helpers import verify
    token = admin_token(client, admin_client(app))
    assert verify(app, token, f"{ISSUER}/admin")["scope"] == "admin:read admin:write"


def test_create_show_update_rotate_delete(client: FlaskClient, auth: dict[str, str],
                                          audited: list[tuple[str, dict[str, Any]]]) -> None:
    created = client.post("/admin/v1/clients", headers=auth, json={
        "client_name": "CI preview 42", "grant_types": ["client_credentials"],
        "scope": "notes:read"})
    assert created.status_code == 201
    client_id, secret = created.json["client_id"], created.json["client_secret"]
    assert created.json["grant_types"] == ["client_credentials"]
    shown = client.get(f"/admin/v1/clients/{client_id}", headers=auth).json
    assert shown["client_name"] == "CI preview 42" and "client_secret" not in shown
    assert admin_token(client, (client_id, secret), "notes:read")

    changed = client.patch(f"/admin/v1/clients/{client_id}", headers=auth,
                           json={"client_name": "CI preview 43", "scope": "profile notes:read"})
    assert changed.status_code == 200, changed.json
    assert changed.json["client_name"] == "CI preview 43"
    assert changed.json["scope"] == "profile notes:read"

    rotated = client.post(f"/admin/v1/clients/{client_id}/secret", headers=auth)
    assert rotated.status_code == 200 and rotated.json["client_secret"] != secret
    old = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                      headers=basic(client_id, secret))
    assert old.status_code == 401
    assert admin_token(client, (client_id, rotated.json["client_secret"]))

    assert client.delete(f"/admin/v1/clients/{client_id}", headers=auth).status_code == 204
    problem(client.get(f"/admin/v1/clients/{client_id}", headers=auth), 404)

    caller = next(f["actor"] for name, f in audited if name == "admin.client_created")
    assert caller.startswith("client:")
    names = [name for name, _ in audited if name.startswith("admin.")]
    assert names == ["admin.client_created", "admin.client_updated",
                     "admin.client_secret_rotated", "admin.client_deleted"]
    assert all(f["actor"] == caller and f["via"] == "api"
               for name, f in audited if name.startswith("admin."))
    assert [f for name, f in audited if name == "admin.client_deleted"][0]["client_id"] == client_id


@pytest.mark.parametrize(("body", "field"), [
    ({"client_name": 42}, "client_name"),
    ({"client_name": "x", "grant_types": "client_credentials"}, "grant_types"),
    ({"client_name": "x", "grant_types": [1]}, "grant_types"),
    ({"client_name": "x", "dpop_bound_access_tokens": "yes"}, "dpop_bound_access_tokens"),
    ({"client_name": "x", "jwks": []}, "jwks"),
    ({"client_name": "x", "colour": "blue"}, "colour"),
    ({"client_name": "x\u0000"}, "client_name"),
    ({"grant_types": ["client_credentials"]}, "client_name"),
])
def test_wrong_types_and_unknown_fields_name_the_field(
        client: FlaskClient, auth: dict[str, str], body: dict[str, Any], field: str) -> None:
    before = client.get("/admin/v1/clients", headers=auth).json["items"]
    problem(client.post("/admin/v1/clients", headers=auth, json=body), 400, field)
    assert client.get("/admin/v1/clients", headers=auth).json["items"] == before


def test_bodies_that_are_not_json_objects(client: FlaskClient, auth: dict[str, str]) -> None:
    problem(client.post("/admin/v1/clients", headers=auth, data="client_name=x",
                        content_type="application/x-www-form-urlencoded"), 415)
    problem(client.post("/admin/v1/clients", headers=auth, data="{not json",
                        content_type="application/json"), 400)
    problem(client.post("/admin/v1/clients", headers=auth, data=b"\xff\xfe",
                        content_type="application/json"), 400)
    problem(client.post("/admin/v1/clients", headers=auth, json=["client_name"]), 400)


def test_unknown_ids_and_path_tricks_are_404(client: FlaskClient, auth: dict[str, str]) -> None:
    problem(client.get("/admin/v1/clients/nope", headers=auth), 404, "client_id")
    for path in ("/admin/v1/clients/nope", "/admin/v1/clients/%00", "/admin/v1/clients/..%2f..",
                 "/admin/v1/clients/..%2f..%2fapi", "/admin/v1/clients/%E2%80%AE",
                 "/admin/v1/nothing", "/admin/v1/clients/a/b"):
        problem(client.get(path, headers=auth), 404)
        problem(client.delete(path, headers=auth), 404)
        problem(client.post(f"{path}/secret", headers=auth), 404)
        problem(client.patch(path, headers=auth, json={"client_name": "x"}), 404)


def test_a_refused_change_writes_nothing(client: FlaskClient, auth: dict[str, str]) -> None:
    made = client.post("/admin/v1/clients", headers=auth, json={"client_name": "kept"}).json
    before = client.get(f"/admin/v1/clients/{made['client_id']}", headers=auth).json
    # A new name with a grant that needs a redirect URI: refused as a whole.
    refused = client.patch(f"/admin/v1/clients/{made['client_id']}", headers=auth, json={
        "client_name": "changed", "grant_types": ["authorization_code"]})
    assert "redirect" in problem(refused, 400)["detail"]
    assert client.get(f"/admin/v1/clients/{made['client_id']}", headers=auth).json == before
    public = client.post("/admin/v1/clients", headers=auth, json={
        "client_name": "spa", "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code"], "redirect_uris": ["https://spa.example/cb"]})
    assert public.status_code == 201 and "client_secret" not in public.json
    problem(client.post(f"/admin/v1/clients/{public.json['client_id']}/secret", headers=auth),
            400)


def test_a_walk_sees_every_client_once_while_others_are_added(
        client: FlaskClient, auth: dict[str, str]) -> None:
    for n in range(7):
        client.post("/admin/v1/clients", headers=auth, json={"client_name": f"c{n}"})
    existing = {c["client_id"] for c in client.get("/admin/v1/clients?limit=200",
                                                    headers=auth).json["items"]}
    seen: list[str] = []
    cursor = None
    while True:
        query = "limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(f"/admin/v1/clients?{query}", headers=auth).json
        assert len(page["items"]) <= 3
        seen += [c["client_id"] for c in page["items"]]
        # Another automation adds a client between our pages.
        client.post("/admin/v1/clients", headers=auth, json={"client_name": "meanwhile"})
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen))
    assert existing <= set(seen)


def test_errors_around_the_views_are_problems_too(client: FlaskClient,
                                                  auth: dict[str, str]) -> None:
    problem(client.put("/admin/v1/clients", headers=auth, json={}), 405)
    problem(client.get("/admin/v1/clients?cursor=%00", headers=auth), 400)


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "limit=x", "limit=-1",
                                   "cursor=garbage", "cursor=", "limit=99999999999"])
def test_bad_page_queries_are_400(client: FlaskClient, auth: dict[str, str], query: str) -> None:
    field = query.split("=")[0]
    problem(client.get(f"/admin/v1/clients?{query}", headers=auth), 400, field)


def test_a_dpop_bound_admin_client(app: Flask, client: FlaskClient) -> None:
    creds = admin_client(app, dpop_bound=True)
    key = DPoPKey()
    token = admin_token(client, creds, headers={
        "DPoP": key.proof("POST", f"{ISSUER}/oauth/token")})
    url = f"{ISSUER}/admin/v1/clients"
    answer = client.get("/admin/v1/clients", headers={
        "Authorization": f"DPoP {token}", "DPoP": key.proof("GET", url, access_token=token)})
    assert answer.status_code == 200
    # The bound token alone, as a Bearer token, is refused.
    assert client.get("/admin/v1/clients",
                      headers={"Authorization": f"Bearer {token}"}).status_code == 401
    made = client.post("/admin/v1/clients", json={"client_name": "by dpop"}, headers={
        "Authorization": f"DPoP {token}",
        "DPoP": key.proof("POST", url, access_token=token)})
    assert made.status_code == 201
