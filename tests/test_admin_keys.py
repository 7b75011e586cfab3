"""/admin/v1/keys: the signing keys listed and rotated over HTTP, as `authserver keys` does."""

from __future__ import annotations

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
