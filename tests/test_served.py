"""What the modules that talk to the app in process (tests/inprocess.py) cannot show there,
against one `authserver serve` (Granian, 2 workers) on SQLite and PostgreSQL: bytes a client
library would refuse to send, over raw sockets (what Granian hands the app is the subject;
test_attacks.py has the rest); a change made with the CLI held from the next request on every
worker (test_own_apis.py); a DPoP proof replayed on every worker (test_dpop.py); and example
services in their own processes, fetching the server's keys over a socket."""

from __future__ import annotations

import base64
import json
import secrets
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import jwt
import pytest

from .dpop_client import DPoPKey
from .own_apis_support import _api, _scope
from .support import ServerProcess, example_service, free_port

PASSWORD = "served-password-1"


@pytest.fixture(scope="module")
def accounts(server: ServerProcess) -> Iterator[dict[str, Any]]:
    username = f"target{secrets.token_hex(3)}"
    server.cli_json("user", "create", "--username", username, "--password-stdin",
                    stdin=PASSWORD + "\n")
    first_party = server.cli_json("client", "create", "--name", "first party", "--grant-type",
                                  "password", "--grant-type", "refresh_token")
    machine = server.cli_json("client", "create", "--name", "dpop machine", "--grant-type",
                              "client_credentials", "--scope", "profile notes:read")
    yield {"username": username, "first_party": first_party,
           "machine": (machine["client_id"], machine["client_secret"])}
    assert "Traceback" not in server.log()


def _auth(app: dict[str, Any]) -> tuple[str, str]:
    return app["client_id"], app["client_secret"]


def _raw(server: ServerProcess, request: bytes) -> tuple[int, bytes]:
    """Send bytes as they are; return the status and the body."""
    host, port = urlsplit(server.base_url).hostname, urlsplit(server.base_url).port
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body


# 3. Unauthenticated requests that used to be 500s ---------------------------------------

def test_raw_non_ascii_bytes_in_the_basic_header_are_invalid_client(
    server: ServerProcess, accounts: dict[str, Any]
) -> None:
    body = b"grant_type=client_credentials"
    status, raw = _raw(server, b"POST /oauth/token HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                       b"Authorization: Basic \xe9\xe9\xe9\r\n"
                       b"Content-Type: application/x-www-form-urlencoded\r\n"
                       b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    assert status == 401 and b'"invalid_client"' in raw


# 5. A chunked body over 64 KiB ------------------------------------------------------------

def test_a_chunked_body_over_the_limit_is_413(server: ServerProcess, accounts: dict[str, Any]) -> None:
    chunk = b"x" * 8192
    body = b"grant_type=client_credentials&pad="
    request = (b"POST /oauth/token HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
               b"Content-Type: application/x-www-form-urlencoded\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n")
    request += f"{len(body):x}\r\n".encode() + body + b"\r\n"
    for _ in range(9):  # 72 KiB in all
        request += f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    status, raw = _raw(server, request + b"0\r\n\r\n")
    assert status == 413 and b'"invalid_request"' in raw


def test_a_small_chunked_body_is_read_whole(server: ServerProcess, accounts: dict[str, Any]) -> None:
    body = urlencode({"grant_type": "password", "username": accounts["username"],
                      "password": PASSWORD}).encode()
    credentials = base64.b64encode(":".join(_auth(accounts["first_party"])).encode())
    request = (b"POST /oauth/token HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
               b"Authorization: Basic " + credentials + b"\r\n"
               b"Content-Type: application/x-www-form-urlencoded\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n")
    half = len(body) // 2
    for part in (body[:half], body[half:]):
        request += f"{len(part):x}\r\n".encode() + part + b"\r\n"
    status, raw = _raw(server, request + b"0\r\n\r\n")
    assert status == 200 and b'"access_token"' in raw


# -- changes, on every worker; a service protected as its own API (test_own_apis.py) ------

def _machine(server: ServerProcess, scope: str) -> tuple[str, str]:
    app = server.cli_json("client", "create", "--name", "machine", "--grant-type",
                          "client_credentials", "--scope", scope)
    return app["client_id"], app["client_secret"]


def _token(server: ServerProcess, auth: tuple[str, str], **form: Any) -> Any:
    return server.http.post("/oauth/token", auth=auth,
                            data={"grant_type": "client_credentials", **form})


def _claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def test_api_changes_hold_from_the_next_request_on_every_worker(server: ServerProcess) -> None:
    fresh = _api(server, "fresh", "use")
    auth = _machine(server, _scope(fresh))
    for _ in range(6):  # both workers answer some of these
        answer = _token(server, auth)
        assert answer.status_code == 200 and _claims(answer.json()["access_token"])["aud"] == \
            fresh["audience"]
    server.cli("api", "delete", fresh["audience"])
    for _ in range(6):
        answer = _token(server, auth, scope=_scope(fresh))
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_scope", answer.text
    assert json.loads(server.cli("client", "show", auth[0], "--json").stdout)["scope"] == ""


def test_a_service_protected_as_one_api_refuses_tokens_for_another(server: ServerProcess) -> None:
    """examples/orders_service.py in its own process, as README "Protecting your own API"
    runs it: a token for it works; a token for the sample API, however scoped, does not."""
    port = free_port()
    audience = f"http://127.0.0.1:{port}"
    server.cli_json("api", "create", "--audience", audience, "--name", "Orders service",
                    "--scope", "orders:read=See your orders")
    auth = _machine(server, "orders:read notes:read")
    with example_service(server.base_url, "orders_service.py", "/orders", port=port,
                         AUDIENCE=audience) as url:
        mine = _token(server, auth, scope="orders:read").json()["access_token"]
        theirs = _token(server, auth, scope="notes:read").json()["access_token"]
        accepted = httpx.get(url, headers={"Authorization": f"Bearer {mine}"})
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["scope"] == "orders:read"
        refused = httpx.get(url, headers={"Authorization": f"Bearer {theirs}"})
        assert refused.status_code == 401
        assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]


def test_a_scope_removed_or_added_holds_from_the_next_request(server: ServerProcess) -> None:
    api = _api(server, "changing", "keep", "drop", ttl=60)
    names = {s["name"].split(":")[1]: s["name"] for s in api["scopes"]}
    keep, drop = names["keep"], names["drop"]
    auth = _machine(server, f"{keep} {drop}")
    assert _token(server, auth, scope=drop).status_code == 200
    added = f"{keep.split(':')[0]}:new"
    changed = server.cli_json("api", "update", api["audience"], "--remove-scope", drop,
                              "--add-scope", f"{added}=Something new", "--name", "Renamed",
                              "--access-token-ttl", "0")
    assert {s["name"] for s in changed["scopes"]} == {keep, added}
    assert changed["name"] == "Renamed" and changed["access_token_ttl"] is None
    for _ in range(6):  # on both workers
        answer = _token(server, auth, scope=drop)
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_scope"
        kept = _token(server, auth, scope=keep).json()["access_token"]
        assert _claims(kept)["exp"] - _claims(kept)["iat"] == 900  # the default again
    shown = json.loads(server.cli("client", "show", auth[0], "--json").stdout)
    assert shown["scope"] == keep
    assert added in server.http.get("/.well-known/openid-configuration").json()["scopes_supported"]
    last = server.cli("api", "update", api["audience"], "--remove-scope", keep, "--remove-scope",
                      added, check=False)
    assert last.returncode == 2 and "at least one scope" in last.stderr
    assert server.cli_json("api", "show", api["audience"])["scopes"] == changed["scopes"]


# -- DPoP: replays on every worker; a service of its own (test_dpop.py) -----------------------

def _dpop_token(server: ServerProcess, auth: tuple[str, str], proof: str) -> httpx.Response:
    return server.http.post("/oauth/token", auth=auth, headers={"DPoP": proof},
                            data={"grant_type": "client_credentials", "scope": "profile"})


def _bound(server: ServerProcess, auth: tuple[str, str], key: DPoPKey) -> str:
    answer = _dpop_token(server, auth, key.proof("POST", f"{server.base_url}/oauth/token"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["token_type"] == "DPoP"
    return str(answer.json()["access_token"])


def _me(server: ServerProcess, token: str, proof: str) -> httpx.Response:
    return server.http.get("/api/me", headers={"Authorization": f"DPoP {token}", "DPoP": proof})


def test_a_replayed_proof_is_refused_on_every_worker(
    server: ServerProcess, accounts: dict[str, Any]
) -> None:
    key = DPoPKey()
    proof = key.proof("POST", f"{server.base_url}/oauth/token")
    assert _dpop_token(server, accounts["machine"], proof).status_code == 200
    for _ in range(6):  # both workers answer some: the jti cache is the database
        again = _dpop_token(server, accounts["machine"], proof)
        assert again.status_code == 400 and again.json()["error"] == "invalid_dpop_proof"
    token = _bound(server, accounts["machine"], key)
    api_proof = key.proof("GET", f"{server.base_url}/api/me", access_token=token)
    assert _me(server, token, api_proof).status_code == 200
    for _ in range(6):
        assert _me(server, token, api_proof).status_code == 401


def test_a_service_of_its_own_requires_the_proof_too(
    server: ServerProcess, accounts: dict[str, Any]
) -> None:
    """examples/protected_service.py: protector_for_issuer, no DPoP code of its own."""
    key = DPoPKey()
    token = _bound(server, accounts["machine"], key)
    with example_service(server.base_url) as url:
        ok = httpx.get(url, headers={"Authorization": f"DPoP {token}",
                                     "DPoP": key.proof("GET", url, access_token=token)})
        assert ok.status_code == 200, ok.text
        bearer = httpx.get(url, headers={"Authorization": f"Bearer {token}"})
        assert bearer.status_code == 401
        replay_proof = key.proof("GET", url, access_token=token)
        first = httpx.get(url, headers={"Authorization": f"DPoP {token}", "DPoP": replay_proof})
        again = httpx.get(url, headers={"Authorization": f"DPoP {token}", "DPoP": replay_proof})
        assert (first.status_code, again.status_code) == (200, 401)
        assert again.json()["error"] == "invalid_dpop_proof"
