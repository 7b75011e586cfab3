"""Every signing algorithm's tokens verified by openid-client (tests/rp/algs.mjs): one
`authserver serve` with AUTHSERVER_SIGNING_ALGS naming all four, a client per algorithm
(--id-token-signed-response-alg) and an API per algorithm (--signing-alg)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from authserver.keystore import SIGNING_ALGS

from .support import ServerProcess, copy_keys, start_server


@pytest.fixture(scope="module")
def every_alg_server(tmp_path_factory: pytest.TempPathFactory,
                     key_template: Path) -> Iterator[ServerProcess]:
    # The algorithms are the subject, not the database: SQLite only.
    tmp = tmp_path_factory.mktemp("algs")
    server = start_server(tmp, database_url=f"sqlite:///{tmp / 'algs.db'}",
                          keys_dir=copy_keys(key_template, tmp),
                          extra_env={"AUTHSERVER_SIGNING_ALGS": " ".join(SIGNING_ALGS)})
    yield server
    server.stop()


def test_openid_client_verifies_every_algorithm(every_alg_server: ServerProcess,
                                                node_rp: Path) -> None:
    server = every_alg_server
    server.cli("user", "create", "--username", "erin", "--password-stdin",
               stdin="erin-password\n")
    lines = []
    for alg in SIGNING_ALGS:
        resource = f"https://{alg.lower()}.example"
        server.cli_json("api", "create", "--audience", resource, "--name", alg,
                        "--scope", f"{alg.lower()}:read", "--signing-alg", alg)
        made = server.cli_json("client", "create", "--name", alg, "--grant-type", "password",
                               "--scope", f"openid {alg.lower()}:read",
                               "--auth-method", "client_secret_post",
                               "--id-token-signed-response-alg", alg)
        lines.append(json.dumps({
            "client_id": made["client_id"], "client_secret": made["client_secret"], "alg": alg,
            "resource": resource, "scope": f"{alg.lower()}:read", "username": "erin",
            "password": "erin-password"}))
    done = subprocess.run(["node", str(node_rp.parent / "algs.mjs"), server.base_url],
                          input="\n".join(lines) + "\n", capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    checked = [json.loads(line) for line in done.stdout.splitlines()]
    assert [c["alg"] for c in checked] == list(SIGNING_ALGS)
    for result in checked:
        assert result["id_token_alg"] == result["access_token_alg"] == result["alg"]
    assert "Traceback" not in server.log()
