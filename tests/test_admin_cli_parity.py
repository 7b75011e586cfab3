"""One code path: what the CLI makes the administration API sees and the reverse, and the
CLI's validation cases give the API the same verdicts (the same operations refuse them)."""

# ruff: noqa: F811  (the fixtures imported from admin_support are parameters here)
from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from authserver.cli import main

from .admin_support import admin_client, admin_token, auth, cli, problem  # noqa: F401
from .hostile_provider import HostileProvider, hostile_provider


def test_the_cli_makes_an_admin_client_and_each_sees_what_the_other_made(
        cli: CliRunner, client: FlaskClient) -> None:
    made = cli.invoke(main, ["client", "create", "--name", "automation", "--grant-type",
                             "client_credentials", "--scope", "admin:read admin:write", "--json"])
    assert made.exit_code == 0, made.output
    creds = json.loads(made.stdout)
    auth = {"Authorization": f"Bearer {admin_token(client, (creds['client_id'], creds['client_secret']))}"}
    listed = client.get("/admin/v1/clients", headers=auth).json["items"]
    assert creds["client_id"] in [c["client_id"] for c in listed]

    by_api = client.post("/admin/v1/clients", headers=auth, json={"client_name": "from api"}).json
    shown = cli.invoke(main, ["client", "show", by_api["client_id"], "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout) == client.get(
        f"/admin/v1/clients/{by_api['client_id']}", headers=auth).json

    assert cli.invoke(main, ["client", "delete", by_api["client_id"]]).exit_code == 0
    problem(client.get(f"/admin/v1/clients/{by_api['client_id']}", headers=auth), 404)


# (the CLI's options, the API's body): the same registration, refused for the same reason.
REFUSED = [
    (["--grant-type", "authorization_code"], {"grant_types": ["authorization_code"]}),
    (["--scope", "nope:x"], {"scope": "nope:x"}),
    (["--grant-type", "authorization_code", "--redirect-uri", "http://app.example/cb"],
     {"grant_types": ["authorization_code"], "redirect_uris": ["http://app.example/cb"]}),
    (["--auth-method", "private_key_jwt"], {"token_endpoint_auth_method": "private_key_jwt"}),
    (["--backchannel-logout-uri", "https://app.example/logout"],
     {"backchannel_logout_uri": "https://app.example/logout"}),
    (["--allowed-origin", "https://app.example/path"],
     {"allowed_origins": ["https://app.example/path"]}),
]


@pytest.mark.parametrize(("options", "body"), REFUSED)
def test_the_clis_refusals_are_the_apis(cli: CliRunner, client: FlaskClient,
                                         auth: dict[str, str], options: list[str],
                                         body: dict[str, object]) -> None:
    by_cli = cli.invoke(main, ["client", "create", "--name", "x", *options])
    assert by_cli.exit_code == 2
    detail = problem(client.post("/admin/v1/clients", headers=auth,
                                 json={"client_name": "x", **body}), 400)["detail"]
    assert f"Error: {detail}" in by_cli.output


# -- users ----------------------------------------------------------------------------------

def test_users_made_by_the_cli_are_the_apis_and_the_reverse(
        cli: CliRunner, client: FlaskClient, auth: dict[str, str]) -> None:
    made = cli.invoke(main, ["user", "create", "--username", "linus", "--email", "l@example.com",
                             "--claim", "given_name=Linus", "--password-stdin", "--json"],
                      input="a long password\n")
    assert made.exit_code == 0, made.output
    by_api = client.get("/admin/v1/users/linus", headers=auth)
    assert by_api.status_code == 200 and by_api.json["sub"] == json.loads(made.stdout)["sub"]

    created = client.post("/admin/v1/users", headers=auth, json={
        "username": "grace", "password": "a long password", "claims": {"locale": "en-US"}})
    assert created.status_code == 201
    shown = cli.invoke(main, ["user", "show", "grace", "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout) == client.get("/admin/v1/users/grace", headers=auth).json
    listed = json.loads(cli.invoke(main, ["user", "list", "--json"]).stdout)["users"]
    assert listed == client.get("/admin/v1/users", headers=auth).json["items"]

    assert cli.invoke(main, ["user", "delete", "grace"]).exit_code == 0
    problem(client.get("/admin/v1/users/grace", headers=auth), 404)
    assert client.delete("/admin/v1/users/linus", headers=auth).status_code == 204
    gone = cli.invoke(main, ["user", "show", "linus"])
    assert gone.exit_code == 2 and "no user named 'linus'" in gone.stderr


# (the CLI's options, the API's body): the same user, refused for the same reason.
USERS_REFUSED = [
    (["--username", "no spaces"], {"username": "no spaces"}),
    (["--username", "x" * 151], {"username": "x" * 151}),
    (["--email", "not-an-address"], {"email": "not-an-address"}),
    (["--name", " "], {"name": " "}),
    (["--claim", "birthdate=1906-13-09"], {"claims": {"birthdate": "1906-13-09"}}),
    (["--claim", "shoe_size=44"], {"claims": {"shoe_size": "44"}}),
    (["--claim", "zoneinfo=Mars/Olympus"], {"claims": {"zoneinfo": "Mars/Olympus"}}),
    (["--claim", "address={\"planet\": \"Mars\"}"], {"claims": {"address": {"planet": "Mars"}}}),
    (["--claim", "phone_number_verified=maybe"], {"claims": {"phone_number_verified": "maybe"}}),
    (["--claim", "email_verified=true"], {"claims": {"email_verified": True}}),
]


@pytest.mark.parametrize(("options", "body"), USERS_REFUSED)
def test_the_clis_user_refusals_are_the_apis(cli: CliRunner, client: FlaskClient,
                                             auth: dict[str, str], options: list[str],
                                             body: dict[str, object]) -> None:
    arguments = ["--username", "ok", *options] if "--username" not in options else options
    by_cli = cli.invoke(main, ["user", "create", *arguments, "--password-stdin"],
                        input="a long password\n")
    assert by_cli.exit_code == 2
    answer = client.post("/admin/v1/users", headers=auth,
                         json={"username": "ok", "password": "a long password", **body})
    if body.get("claims", {}).get("phone_number_verified") == "maybe":  # type: ignore[union-attr]
        # JSON has booleans: the API refuses the string itself, for the type.
        problem(answer, 400, "claims")
        return
    detail = problem(answer, 400)["detail"]
    assert f"Error: {detail}" in by_cli.output
    assert client.get("/admin/v1/users", headers=auth).json["items"] == []


def test_the_clis_password_and_duplicate_refusals_are_the_apis(
        cli: CliRunner, client: FlaskClient, auth: dict[str, str]) -> None:
    short = cli.invoke(main, ["user", "create", "--username", "ok", "--password-stdin"],
                       input="short\n")
    assert short.exit_code == 2
    detail = problem(client.post("/admin/v1/users", headers=auth, json={
        "username": "ok", "password": "short"}), 400, "password")["detail"]
    assert f"Error: {detail}" in short.output
    client.post("/admin/v1/users", headers=auth, json={"username": "ok",
                                                       "password": "a long password"})
    twice = cli.invoke(main, ["user", "create", "--username", "ok", "--password-stdin"],
                       input="a long password\n")
    assert twice.exit_code == 2
    detail = problem(client.post("/admin/v1/users", headers=auth, json={
        "username": "ok", "password": "a long password"}), 409, "username")["detail"]
    assert f"Error: {detail}" in twice.output
    bad_update = cli.invoke(main, ["user", "update", "ok", "--claim", "website=ftp://x"])
    assert bad_update.exit_code == 2
    detail = problem(client.patch("/admin/v1/users/ok", headers=auth, json={
        "claims": {"website": "ftp://x"}}), 400, "claims")["detail"]
    assert f"Error: {detail}" in bad_update.output
    short_again = cli.invoke(main, ["user", "set-password", "ok", "--password-stdin"],
                             input="short\n")
    detail = problem(client.put("/admin/v1/users/ok/password", headers=auth, json={
        "password": "short"}), 400, "password")["detail"]
    assert short_again.exit_code == 2 and f"Error: {detail}" in short_again.output


# -- identity providers ---------------------------------------------------------------------

@pytest.fixture
def provider() -> Iterator[HostileProvider]:
    with hostile_provider() as served:
        yield served


def test_providers_added_by_the_cli_are_the_apis_and_the_reverse(
        cli: CliRunner, client: FlaskClient, auth: dict[str, str],
        provider: HostileProvider) -> None:
    made = cli.invoke(main, ["idp", "create", "--name", "By CLI", "--issuer", provider.issuer,
                             "--client-id", "x", "--client-secret-stdin", "--json"],
                      input="secret\n")
    assert made.exit_code == 0, made.output
    assert client.get("/admin/v1/idps/by-cli", headers=auth).json == json.loads(made.stdout)
    assert client.post("/admin/v1/idps", headers=auth, json={
        "name": "By API", "issuer": provider.issuer, "client_id": "x",
        "client_secret": "secret"}).status_code == 201
    shown = cli.invoke(main, ["idp", "show", "by-api", "--json"])
    assert json.loads(shown.stdout) == client.get("/admin/v1/idps/by-api", headers=auth).json
    listed = json.loads(cli.invoke(main, ["idp", "list", "--json"]).stdout)["idps"]
    by_slug = sorted(client.get("/admin/v1/idps", headers=auth).json["items"],
                     key=lambda i: i["slug"])  # (the API's pages are in the order added)
    assert listed == by_slug
    assert cli.invoke(main, ["idp", "delete", "by-api"]).exit_code == 0
    problem(client.get("/admin/v1/idps/by-api", headers=auth), 404)
    assert client.delete("/admin/v1/idps/by-cli", headers=auth).status_code == 204
    assert cli.invoke(main, ["idp", "show", "by-cli"]).exit_code == 1


# (the CLI's options, the API's body, the CLI's exit code): refused for the same reason.
IDPS_REFUSED = [
    (["--name", " "], {"name": " "}, 2),
    (["--slug", "Not A Slug"], {"slug": "Not A Slug"}, 2),
    (["--scope", "email profile"], {"scope": "email profile"}, 2),
    (["--issuer", "ftp://files.example"], {"issuer": "ftp://files.example"}, 2),
    (["--issuer", "https://idp.example/?tenant=1"], {"issuer": "https://idp.example/?tenant=1"}, 2),
    (["--slug", "taken"], {"slug": "taken"}, 2),
    (["--issuer", "http://127.0.0.1:9"], {"issuer": "http://127.0.0.1:9"}, 1),
]


@pytest.mark.parametrize(("options", "changes", "code"), IDPS_REFUSED)
def test_the_clis_provider_refusals_are_the_apis(
        cli: CliRunner, client: FlaskClient, auth: dict[str, str], provider: HostileProvider,
        options: list[str], changes: dict[str, str], code: int) -> None:
    given = {"--name": "Corp", "--issuer": provider.issuer, "--client-id": "x"}
    for option, value in zip(options[::2], options[1::2], strict=True):
        given[option] = value
    assert client.post("/admin/v1/idps", headers=auth, json={
        "name": "Taken", "slug": "taken", "issuer": provider.issuer, "client_id": "x",
        "client_secret": "s"}).status_code == 201
    by_cli = cli.invoke(main, ["idp", "create", *[p for pair in given.items() for p in pair],
                               "--client-secret-stdin"], input="secret\n")
    assert by_cli.exit_code == code, by_cli.output
    answer = client.post("/admin/v1/idps", headers=auth, json={
        "name": "Corp", "issuer": provider.issuer, "client_id": "x", "client_secret": "secret",
        **changes})
    detail = problem(answer, 409 if changes.get("slug") == "taken" else 400)["detail"]
    assert f"Error: {detail}" in by_cli.output
    assert "Errno" not in by_cli.output and "refused" not in by_cli.output.lower()
    assert len(client.get("/admin/v1/idps", headers=auth).json["items"]) == 1


def test_idp_update_is_the_apis_patch(cli: CliRunner, client: FlaskClient,
                                      auth: dict[str, str], provider: HostileProvider) -> None:
    assert client.post("/admin/v1/idps", headers=auth, json={
        "name": "Corp", "issuer": provider.issuer, "client_id": "x",
        "client_secret": "s"}).status_code == 201
    by_cli = cli.invoke(main, ["idp", "update", "corp", "--name", "Corp Login", "--scope",
                               "openid email", "--link-by-email", "--no-create-users",
                               "--client-secret-stdin", "--json"], input="new secret\n")
    assert by_cli.exit_code == 0, by_cli.output
    shown = client.get("/admin/v1/idps/corp", headers=auth).json
    assert json.loads(by_cli.stdout) == shown
    assert (shown["name"], shown["scope"], shown["link_by_email"], shown["create_users"]) == (
        "Corp Login", "openid email", True, False)
    back = cli.invoke(main, ["idp", "update", "corp", "--no-link-by-email", "--create-users"])
    assert back.exit_code == 0, back.output
    shown = client.get("/admin/v1/idps/corp", headers=auth).json
    assert (shown["name"], shown["link_by_email"], shown["create_users"]) == (
        "Corp Login", False, True)
    # Refused by both in the same words: exit 2 and a 400; an unknown slug exit 1 and a 404.
    bad = cli.invoke(main, ["idp", "update", "corp", "--scope", "email"])
    assert bad.exit_code == 2, bad.output
    detail = problem(client.patch("/admin/v1/idps/corp", headers=auth,
                                  json={"scope": "email"}), 400, "scope")["detail"]
    assert f"Error: {detail}" in bad.output
    unknown = cli.invoke(main, ["idp", "update", "nope", "--name", "x"])
    assert unknown.exit_code == 1, unknown.output
    detail = problem(client.patch("/admin/v1/idps/nope", headers=auth,
                                  json={"name": "x"}), 404)["detail"]
    assert f"Error: {detail}" in unknown.output
    assert client.get("/admin/v1/idps/corp", headers=auth).json == shown


def test_a_verified_email_needs_an_email_for_both(cli: CliRunner, client: FlaskClient,
                                                 auth: dict[str, str]) -> None:
    assert client.post("/admin/v1/users", headers=auth, json={
        "username": "ada", "password": "a long password", "email": "ada@example.com",
        "email_verified": True}).status_code == 201
    before = client.get("/admin/v1/users/ada", headers=auth).json
    by_cli = cli.invoke(main, ["user", "update", "ada", "--email", "", "--claim",
                               "email_verified=true"])
    assert by_cli.exit_code == 2, by_cli.output
    detail = problem(client.patch("/admin/v1/users/ada", headers=auth, json={
        "email": None, "email_verified": True}), 400, "email_verified")["detail"]
    assert f"Error: {detail}" in by_cli.output
    assert client.get("/admin/v1/users/ada", headers=auth).json == before
    # The email removed alone: allowed, and no longer verified.
    removed = cli.invoke(main, ["user", "update", "ada", "--email", ""])
    assert removed.exit_code == 0, removed.output
    shown = client.get("/admin/v1/users/ada", headers=auth).json
    assert shown.get("email") is None and not shown.get("email_verified")
    again = cli.invoke(main, ["user", "update", "ada", "--claim", "email_verified=true"])
    assert again.exit_code == 2, again.output
    problem(client.patch("/admin/v1/users/ada", headers=auth, json={"email_verified": True}),
            400, "email_verified")
    assert client.get("/admin/v1/users/ada", headers=auth).json == shown


# -- keys -----------------------------------------------------------------------------------

def test_keys_rotate_is_one_operation(cli: CliRunner, client: FlaskClient,
                                      auth: dict[str, str]) -> None:
    # Too soon after the keys were made: refused by both, in the same words (exit 1, 409).
    soon = cli.invoke(main, ["keys", "rotate"])
    assert soon.exit_code == 1, soon.output
    detail = problem(client.post("/admin/v1/keys/rotate", headers=auth, json={}), 409)["detail"]
    seconds = re.compile(r"\d+s\b")  # (the waits tick between the two)
    assert seconds.sub("Ns", f"Error: {detail}") in seconds.sub("Ns", soon.output)
    # An algorithm that is not configured: bad input for both.
    other = cli.invoke(main, ["keys", "rotate", "--alg", "ES256", "--force"])
    assert other.exit_code == 2
    detail = problem(client.post("/admin/v1/keys/rotate", headers=auth,
                                 json={"alg": "ES256", "force": True}), 400, "alg")["detail"]
    assert f"Error: {detail}" in other.output
    # A rotation by the CLI is the API's to see, and the reverse.
    by_cli = json.loads(cli.invoke(main, ["keys", "rotate", "--force", "--json"]).stdout)
    states = {k["kid"]: k["state"] for k in client.get("/admin/v1/keys", headers=auth).json["items"]}
    assert states[by_cli["current"]] == "current" and states[by_cli["retired"]] == "retired"
    by_api = client.post("/admin/v1/keys/rotate", headers=auth, json={"force": True}).json
    listed = json.loads(cli.invoke(main, ["keys", "list", "--json"]).stdout)["keys"]
    assert {k["kid"]: k["state"] for k in listed}[by_api["rotations"][0]["current"]] == "current"
