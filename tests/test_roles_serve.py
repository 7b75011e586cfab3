"""Roles against `authserver serve` with two workers, on SQLite and PostgreSQL: a change made
with the CLI (outside the server's processes) holds from the next token on every worker, for a
user's refresh and for a client whose roles a worker had cached; and
examples/reports_service.py, in its own process, refuses a token without its role and serves
one with it."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import jwt

from .support import ServerProcess, example_service, free_port

# Requests on fresh connections (a kept-alive connection stays with one worker), enough that
# both workers answer some of them.
ROUNDS = 8


def _roles(token: str) -> Any:
    return jwt.decode(token, options={"verify_signature": False}).get("roles")


def _fresh(server: ServerProcess, auth: tuple[str, str], form: dict[str, str]) -> dict[str, Any]:
    answer = httpx.post(f"{server.base_url}/oauth/token", auth=auth, data=form,
                        headers={"Connection": "close"}, timeout=10)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_a_revocation_holds_from_the_next_refresh_and_token_on_every_worker(
    server: ServerProcess
) -> None:
    tag = secrets.token_hex(3)
    sample = f"{server.base_url}/api"
    username, group, role = f"erin{tag}", f"night-shift-{tag}", f"supervisor-{tag}"
    server.cli("user", "create", "--username", username, "--password-stdin",
               stdin="erin-password-1\n")
    server.cli("role", "create", "--api", sample, role)
    server.cli("group", "create", group)
    server.cli("group", "add-member", group, username)
    server.cli("role", "grant", "--api", sample, role, "--group", group)
    app = server.cli_json("client", "create", "--name", "roles app", "--grant-type", "password",
                          "--grant-type", "refresh_token", "--grant-type", "client_credentials",
                          "--scope", "notes:read")
    auth = (app["client_id"], app["client_secret"])
    server.cli("role", "grant", "--api", sample, role, "--client", app["client_id"])

    tokens = _fresh(server, auth, {"grant_type": "password", "username": username,
                                   "password": "erin-password-1", "scope": "notes:read"})
    for _ in range(ROUNDS):  # every worker issues with the role, and caches the client's
        tokens = _fresh(server, auth, {"grant_type": "refresh_token",
                                       "refresh_token": tokens["refresh_token"]})
        assert _roles(tokens["access_token"]) == [role]
        machine = _fresh(server, auth, {"grant_type": "client_credentials"})
        assert _roles(machine["access_token"]) == [role]

    server.cli("group", "remove-member", group, username)
    server.cli("role", "revoke", "--api", sample, role, "--client", app["client_id"])
    for _ in range(ROUNDS):
        tokens = _fresh(server, auth, {"grant_type": "refresh_token",
                                       "refresh_token": tokens["refresh_token"]})
        assert _roles(tokens["access_token"]) is None
        machine = _fresh(server, auth, {"grant_type": "client_credentials"})
        assert _roles(machine["access_token"]) is None
    assert "Traceback" not in server.log()


def test_the_example_service_requires_its_role(server: ServerProcess) -> None:
    """examples/reports_service.py as its docstring runs it."""
    port = free_port()
    audience = f"http://127.0.0.1:{port}"
    server.cli("api", "create", "--audience", audience, "--name", "Reports", "--scope",
               "reports:read=Read reports")
    server.cli("role", "create", "--api", audience, "auditor", "--description",
               "Reads every report")
    job = server.cli_json("client", "create", "--name", "audit job", "--scope", "reports:read")
    auth = (job["client_id"], job["client_secret"])
    form = {"grant_type": "client_credentials", "resource": audience}
    with example_service(server.base_url, "reports_service.py", "/whoami", port=port,
                         AUDIENCE=audience) as whoami:
        token = _fresh(server, auth, form)["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert httpx.get(whoami, headers=headers).json() == {"sub": job["client_id"], "roles": []}
        refused = httpx.get(f"{audience}/reports", headers=headers)
        assert refused.status_code == 403
        assert refused.headers["WWW-Authenticate"] == (
            'Bearer error="insufficient_scope", '
            "error_description=\"this request needs the role 'auditor' of this API\"")
        server.cli("role", "grant", "--api", audience, "auditor", "--client", job["client_id"])
        token = _fresh(server, auth, form)["access_token"]
        served = httpx.get(f"{audience}/reports", headers={"Authorization": f"Bearer {token}"})
        assert served.status_code == 200, served.text
        assert served.json()["reports"][0]["reader"] == job["client_id"]
