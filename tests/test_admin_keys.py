"""/admin/v1/keys: the signing keys listed and rotated over HTTP, as `authserver keys` does."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from .admin_support import admin_client, admin_token, problem


def test_keys_are_listed_and_rotated(app: Flask, client: FlaskClient) -> None:
    auth = {"Authorization": f"Bearer {admin_token(client, admin_client(app))}"}
    listed = client.get("/admin/v1/keys", headers=auth).json
    assert listed["next_cursor"] is None
    states = {key["kid"]: key["state"] for key in listed["items"]}
    upcoming = next(kid for kid, state in states.items() if state == "next")
    dry = client.post("/admin/v1/keys/rotate", headers=auth, json={"dry_run": True, "force": True})
    assert dry.status_code == 200 and dry.json["rotations"][0]["next"] is None
    rotated = client.post("/admin/v1/keys/rotate", headers=auth, json={"force": True})
    assert rotated.status_code == 200, rotated.json
    assert rotated.json["rotations"][0]["current"] == upcoming
    after = {k["kid"]: k["state"] for k in client.get("/admin/v1/keys", headers=auth).json["items"]}
    assert after[upcoming] == "current"
    # The new current key signs from now on (the app's snapshot was reloaded).
    assert admin_token(client, admin_client(app))
    problem(client.post("/admin/v1/keys/rotate", headers=auth, json={"force": "yes"}), 400, "force")
    problem(client.post("/admin/v1/keys/rotate", headers=auth, json={"alg": "none"}), 400, "alg")
    problem(client.post("/admin/v1/keys/rotate", headers=auth, json={"x": 1}), 400, "x")
    reader = {"Authorization": f"Bearer {admin_token(client, admin_client(app, scope='admin:read'))}"}
    assert client.post("/admin/v1/keys/rotate", headers=reader).status_code == 403


def test_each_key_is_an_item_and_the_list_has_pages(app: Flask, client: FlaskClient) -> None:
    auth = {"Authorization": f"Bearer {admin_token(client, admin_client(app))}"}
    for _ in range(2):  # 2 rotations: a retired, a current, a next key and one more retired
        assert client.post("/admin/v1/keys/rotate", headers=auth,
                           json={"force": True}).status_code == 200
    every = client.get("/admin/v1/keys", headers=auth).json
    assert every["next_cursor"] is None and len(every["items"]) >= 4
    for key in every["items"]:
        assert client.get(f"/admin/v1/keys/{key['kid']}", headers=auth).json == key
    walked, cursor = [], None
    while True:
        query = "?limit=1" + (f"&cursor={cursor}" if cursor else "")
        answer = client.get(f"/admin/v1/keys{query}", headers=auth)
        assert answer.status_code == 200, answer.json
        assert len(answer.json["items"]) == 1
        walked += answer.json["items"]
        cursor = answer.json["next_cursor"]
        if cursor is None:
            break
    assert walked == every["items"]
    # A key made during a walk comes at its end: the walk sees each key once.
    first = client.get("/admin/v1/keys?limit=2", headers=auth).json
    assert client.post("/admin/v1/keys/rotate", headers=auth, json={"force": True}).status_code == 200
    rest = client.get(f"/admin/v1/keys?limit=200&cursor={first['next_cursor']}", headers=auth).json
    kids = [k["kid"] for k in first["items"] + rest["items"]]
    assert len(kids) == len(set(kids)) == len(client.get("/admin/v1/keys", headers=auth).json["items"])
    assert not any("d" in key or "p" in key for key in walked)  # never a private member


@pytest.mark.parametrize("query", ["limit=abc", "limit=0", "limit=201", "limit=100000",
                                   "limit=-1", "limit=%EF%BC%91"])
def test_a_bad_limit_is_a_400_naming_limit(app: Flask, client: FlaskClient, query: str) -> None:
    auth = {"Authorization": f"Bearer {admin_token(client, admin_client(app))}"}
    problem(client.get(f"/admin/v1/keys?{query}", headers=auth), 400, "limit")


@pytest.mark.parametrize("cursor", ["abc", "MS41", "bmFuIGs", "aW5mIGs", "MSA"])
def test_a_bad_cursor_is_a_400_naming_cursor(app: Flask, client: FlaskClient, cursor: str) -> None:
    auth = {"Authorization": f"Bearer {admin_token(client, admin_client(app))}"}
    problem(client.get(f"/admin/v1/keys?cursor={cursor}", headers=auth), 400, "cursor")


def test_unknown_keys_and_scopes(app: Flask, client: FlaskClient) -> None:
    auth = {"Authorization": f"Bearer {admin_token(client, admin_client(app))}"}
    for kid in ("nope", "rotate", "..%2f..", "%E2%80%AE"):
        problem(client.get(f"/admin/v1/keys/{kid}", headers=auth), 404)
    kid = client.get("/admin/v1/keys", headers=auth).json["items"][0]["kid"]
    writer = {"Authorization": f"Bearer {admin_token(client, admin_client(app, scope='admin:write'))}"}
    assert client.get(f"/admin/v1/keys/{kid}", headers=writer).status_code == 403
    assert client.get(f"/admin/v1/keys/{kid}").status_code == 401
