"""The administration API's identity providers (/admin/v1/idps), over HTTP on both databases:
a provider added by reading its discovery (a provider served in this process), listed, shown
and removed; scopes; bad input and unreachable providers as problem documents with nothing
written; audit lines naming the calling client."""

# ruff: noqa: F811  (the fixtures imported from admin_support are parameters here)
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from .admin_support import admin_client, admin_token, audited, auth, problem  # noqa: F401
from .hostile_provider import HostileProvider, hostile_provider
from .support import free_port


@pytest.fixture
def provider() -> Iterator[HostileProvider]:
    with hostile_provider() as served:
        yield served


def body(provider: HostileProvider, **changes: Any) -> dict[str, Any]:
    return {"name": "Corp SSO", "issuer": provider.issuer, "client_id": "ours-there",
            "client_secret": "a secret there", **changes}


def test_add_list_show_delete(app: Flask, client: FlaskClient, auth: dict[str, str],
                              provider: HostileProvider,
                              audited: list[tuple[str, dict[str, Any]]]) -> None:
    created = client.post("/admin/v1/idps", headers=auth,
                          json=body(provider, link_by_email=True, create_users=False))
    assert created.status_code == 201, created.json
    data = created.json
    assert data["id"] == data["slug"] == "corp-sso" and data["issuer"] == provider.issuer
    assert data["redirect_uri"] == "http://authserver.test/login/idp/corp-sso/callback"
    assert data["link_by_email"] is True and data["create_users"] is False
    assert data["scope"] == "openid email profile"
    assert "a secret there" not in created.get_data(as_text=True)
    listed = client.get("/admin/v1/idps", headers=auth).json
    assert [i["id"] for i in listed["items"]] == ["corp-sso"] and listed["next_cursor"] is None
    assert client.get("/admin/v1/idps/corp-sso", headers=auth).json == data
    # The login page offers it now.
    assert client.get("/login/idp/corp-sso?interaction=nope").status_code == 400

    assert client.delete("/admin/v1/idps/corp-sso", headers=auth).status_code == 204
    problem(client.get("/admin/v1/idps/corp-sso", headers=auth), 404, "slug")
    problem(client.delete("/admin/v1/idps/corp-sso", headers=auth), 404, "slug")
    lines = [(name, f) for name, f in audited if name.startswith("admin.idp")]
    assert [name for name, _ in lines] == ["admin.idp_created", "admin.idp_deleted"]
    assert all(f["actor"].startswith("client:") and f["via"] == "api" and f["slug"] == "corp-sso"
               for _, f in lines)
    assert lines[0][1]["issuer"] == provider.issuer


def test_read_scope_reads_write_scope_writes(app: Flask, client: FlaskClient,
                                             auth: dict[str, str],
                                             provider: HostileProvider) -> None:
    reader = {"Authorization": f"Bearer {admin_token(client, admin_client(app, scope='admin:read'))}"}
    writer = {"Authorization": f"Bearer {admin_token(client, admin_client(app, scope='admin:write'))}"}
    assert client.post("/admin/v1/idps", headers=reader, json=body(provider)).status_code == 403
    assert client.post("/admin/v1/idps", headers=writer, json=body(provider)).status_code == 201
    assert client.get("/admin/v1/idps", headers=writer).status_code == 403
    assert client.get("/admin/v1/idps/corp-sso", headers=reader).status_code == 200
    assert client.delete("/admin/v1/idps/corp-sso", headers=reader).status_code == 403
    assert client.get("/admin/v1/idps").status_code == 401


@pytest.mark.parametrize(("changes", "field"), [
    ({"name": 3}, "name"),
    ({"name": " "}, "name"),
    ({"issuer": "ftp://files.example"}, "issuer"),
    ({"issuer": "https://idp.example/?tenant=1"}, "issuer"),
    ({"issuer": "http://[::1"}, "issuer"),
    ({"slug": "Not A Slug"}, "slug"),
    ({"slug": "-edge"}, "slug"),
    ({"scope": "email profile"}, "scope"),
    ({"client_id": ""}, "client_id"),
    ({"client_id": "x" * 256}, "client_id"),
    ({"client_secret": "\u0000"}, "client_secret"),
    ({"link_by_email": "yes"}, "link_by_email"),
    ({"colour": "blue"}, "colour"),
])
def test_bad_providers_name_the_field_and_write_nothing(
        client: FlaskClient, auth: dict[str, str], provider: HostileProvider,
        changes: dict[str, Any], field: str) -> None:
    problem(client.post("/admin/v1/idps", headers=auth, json=body(provider, **changes)), 400,
            field)
    assert client.get("/admin/v1/idps", headers=auth).json["items"] == []


@pytest.mark.parametrize("missing", ["name", "issuer", "client_id", "client_secret"])
def test_required_fields(client: FlaskClient, auth: dict[str, str], provider: HostileProvider,
                         missing: str) -> None:
    given = body(provider)
    del given[missing]
    problem(client.post("/admin/v1/idps", headers=auth, json=given), 400, missing)


def test_a_provider_that_cannot_be_read_or_exists_already_writes_nothing(
        client: FlaskClient, auth: dict[str, str], provider: HostileProvider) -> None:
    port = free_port()
    down = problem(client.post("/admin/v1/idps", headers=auth, json=body(
        provider, issuer=f"http://127.0.0.1:{port}")), 400, "issuer")
    # Not the network error's words (the server fetches what admin:write gives it).
    assert down["detail"] == ("the provider's discovery could not be read at "
                              f"http://127.0.0.1:{port}/.well-known/openid-configuration")
    # Its discovery is not there (a 404 there): refused, with the status.
    gone = problem(client.post("/admin/v1/idps", headers=auth, json=body(
        provider, issuer=provider.issuer + "/other")), 400, "issuer")
    assert gone["detail"].startswith("the provider's discovery could not be read at ")
    assert gone["detail"].endswith("(HTTP 404)")
    assert client.get("/admin/v1/idps", headers=auth).json["items"] == []
    assert client.post("/admin/v1/idps", headers=auth, json=body(provider)).status_code == 201
    problem(client.post("/admin/v1/idps", headers=auth, json=body(provider, name="Corp  SSO")),
            409, "slug")
    assert len(client.get("/admin/v1/idps", headers=auth).json["items"]) == 1


@pytest.mark.parametrize("issuer", ["http://no-such-host.invalid", "https://127.0.0.1:{port}",
                                    "http://[::1]:{port}", "http://127.0.0.1:{port}/x"])
def test_unreadable_providers_never_echo_the_network_error(
        client: FlaskClient, auth: dict[str, str], issuer: str) -> None:
    """Refused, no such name, a TLS handshake with a port that does not speak it: one detail."""
    issuer = issuer.format(port=free_port())
    detail = problem(client.post("/admin/v1/idps", headers=auth, json={
        "name": "Probe", "issuer": issuer, "client_id": "x", "client_secret": "s"}),
        400, "issuer")["detail"]
    assert detail == ("the provider's discovery could not be read at "
                      f"{issuer}/.well-known/openid-configuration")
    assert client.get("/admin/v1/idps", headers=auth).json["items"] == []


def test_unknown_providers_and_path_tricks_are_404(client: FlaskClient,
                                                   auth: dict[str, str]) -> None:
    for slug in ("nope", "%00", "..%2f..", "%E2%80%AE", "a/b"):
        problem(client.get(f"/admin/v1/idps/{slug}", headers=auth), 404)
        problem(client.delete(f"/admin/v1/idps/{slug}", headers=auth), 404)


def test_pages_of_providers(client: FlaskClient, auth: dict[str, str],
                            provider: HostileProvider) -> None:
    for n in range(3):
        assert client.post("/admin/v1/idps", headers=auth,
                           json=body(provider, slug=f"p{n}")).status_code == 201
    first = client.get("/admin/v1/idps?limit=2", headers=auth).json
    second = client.get(f"/admin/v1/idps?limit=2&cursor={first['next_cursor']}",
                        headers=auth).json
    assert [i["id"] for i in first["items"] + second["items"]] == ["p0", "p1", "p2"]
    assert second["next_cursor"] is None
    problem(client.get("/admin/v1/idps?limit=201", headers=auth), 400, "limit")


def test_patch_changes_what_is_given_and_is_audited(
        app: Flask, client: FlaskClient, auth: dict[str, str], provider: HostileProvider,
        audited: list[tuple[str, dict[str, Any]]]) -> None:
    from authserver.store.idps import client_secret_of, find_idp

    created = client.post("/admin/v1/idps", headers=auth, json=body(provider)).json
    changed = client.patch("/admin/v1/idps/corp-sso", headers=auth, json={
        "name": "Corp Login", "scope": "openid email", "link_by_email": True,
        "create_users": False, "client_secret": "a new secret"})
    assert changed.status_code == 200, changed.json
    assert changed.json == {**created, "name": "Corp Login", "scope": "openid email",
                            "link_by_email": True, "create_users": False}
    assert "a new secret" not in changed.get_data(as_text=True)
    assert client.get("/admin/v1/idps/corp-sso", headers=auth).json == changed.json
    settings = app.extensions["authserver.settings"]
    with app.extensions["authserver.db"].session() as session:
        stored = find_idp(session, "corp-sso")
        assert stored is not None
        assert client_secret_of(stored, settings.keys_passphrase) == "a new secret"
    assert client.patch("/admin/v1/idps/corp-sso", headers=auth, json={}).json == changed.json
    line = next(f for name, f in audited if name == "admin.idp_updated")
    assert line["slug"] == "corp-sso" and line["actor"].startswith("client:")
    assert line["changed"] == ["client_secret", "create_users", "link_by_email", "name", "scope"]
    assert "a new secret" not in repr(audited)


@pytest.mark.parametrize(("changes", "field"), [
    ({"name": " "}, "name"),
    ({"name": 3}, "name"),
    ({"scope": "email"}, "scope"),
    ({"link_by_email": "yes"}, "link_by_email"),
    ({"client_secret": ""}, "client_secret"),
    ({"client_secret": "\u0000"}, "client_secret"),
    ({"issuer": "https://elsewhere.example"}, "issuer"),
    ({"slug": "other"}, "slug"),
    ({"client_id": "other"}, "client_id"),
    ({"colour": "blue"}, "colour"),
    ({"name": "Fine", "scope": "profile"}, "scope"),
])
def test_a_refused_patch_names_the_field_and_writes_nothing(
        client: FlaskClient, auth: dict[str, str], provider: HostileProvider,
        changes: dict[str, Any], field: str) -> None:
    created = client.post("/admin/v1/idps", headers=auth, json=body(provider)).json
    problem(client.patch("/admin/v1/idps/corp-sso", headers=auth, json=changes), 400, field)
    assert client.get("/admin/v1/idps/corp-sso", headers=auth).json == created


def test_patch_of_unknown_providers_and_scopes(app: Flask, client: FlaskClient,
                                               auth: dict[str, str],
                                               provider: HostileProvider) -> None:
    for slug in ("nope", "%00", "..%2f.."):
        problem(client.patch(f"/admin/v1/idps/{slug}", headers=auth, json={"name": "x"}), 404)
    problem(client.patch("/admin/v1/idps/corp-sso", headers=auth, data="name=x"), 415)
    assert client.post("/admin/v1/idps", headers=auth, json=body(provider)).status_code == 201
    reader = {"Authorization": f"Bearer {admin_token(client, admin_client(app, scope='admin:read'))}"}
    assert client.patch("/admin/v1/idps/corp-sso", headers=reader,
                        json={"name": "x"}).status_code == 403
    assert client.get("/admin/v1/idps/corp-sso", headers=auth).json["name"] == "Corp SSO"
