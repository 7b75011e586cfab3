"""DPoP (RFC 9449) proofs that are single use across real `authserver serve` instances on one
PostgreSQL and one issuer, as behind a load balancer: a proof used on one instance is refused on
the other, through the database or, when AUTHSERVER_RATELIMIT_STORAGE_URL names Redis, through
Redis alone (and a 503 with Redis gone). The proof checks themselves are test_dpop.py."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, text

from .conftest import POSTGRES_URL
from .dpop_client import DPoPKey
from .support import (
    PrivateRedis,
    ServerProcess,
    copy_keys,
    free_port,
    postgres_schema,
    start_server,
)


@pytest.fixture
def two_instances(tmp_path: Path, key_template: Path, postgres_ready: bool
                  ) -> Iterator[tuple[str, ServerProcess, ServerProcess]]:
    """Two `authserver serve` on one PostgreSQL and one issuer, as behind a load balancer."""
    with _two_instances(tmp_path, key_template, {}) as (issuer, a, b, _url):
        yield issuer, a, b


@contextmanager
def _two_instances(tmp_path: Path, key_template: Path, env: dict[str, str]
                   ) -> Iterator[tuple[str, ServerProcess, ServerProcess, str]]:
    issuer = f"http://127.0.0.1:{free_port()}"
    keys = copy_keys(key_template, tmp_path)
    with postgres_schema(POSTGRES_URL) as url:
        a = start_server(tmp_path, database_url=url, keys_dir=keys, issuer=issuer, extra_env=env)
        b = start_server(tmp_path, database_url=url, keys_dir=keys, issuer=issuer, extra_env=env)
        try:
            yield issuer, a, b, url
        finally:
            a.stop()
            b.stop()


def _each_proof_used_once(issuer: str, a: ServerProcess, b: ServerProcess
                          ) -> tuple[tuple[str, str], dict[str, str], DPoPKey, str]:
    """A DPoP-bound token from instance `a`, its token proof replayed to `b` (refused), then an
    API proof used at `a` and replayed to `b` (refused). Returns the client's credentials, the
    token request's form, the DPoP key and the token, for more requests."""
    app = a.cli_json("client", "create", "--name", "lb", "--grant-type", "client_credentials",
                     "--scope", "profile")
    auth = (app["client_id"], app["client_secret"])
    key = DPoPKey()
    proof = key.proof("POST", f"{issuer}/oauth/token")
    form = {"grant_type": "client_credentials", "scope": "profile"}
    first = a.http.post("/oauth/token", auth=auth, data=form, headers={"DPoP": proof})
    assert first.status_code == 200, first.text
    replay = b.http.post("/oauth/token", auth=auth, data=form, headers={"DPoP": proof})
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_dpop_proof"
    token = first.json()["access_token"]
    api_proof = key.proof("GET", f"{issuer}/api/me", access_token=token)
    headers = {"Authorization": f"DPoP {token}", "DPoP": api_proof}
    assert a.http.get("/api/me", headers=headers).status_code == 200
    assert b.http.get("/api/me", headers=headers).status_code == 401
    return auth, form, key, token


def test_with_redis_a_proof_is_single_use_across_instances_without_the_database(
    tmp_path: Path, key_template: Path, postgres_ready: bool, private_redis: PrivateRedis,
) -> None:
    """AUTHSERVER_RATELIMIT_STORAGE_URL names Redis: the jtis go there (SET NX EX), none to
    the database, still refused on the other instance; after Redis restarts, the workers
    use it again at once; with Redis gone a DPoP request is a 503 (neither accepted unchecked
    nor refused as a replay) while Bearer calls go on."""
    env = {"AUTHSERVER_RATELIMIT_STORAGE_URL": private_redis.url}
    with _two_instances(tmp_path, key_template, env) as (issuer, a, b, url):
        auth, form, key, token = _each_proof_used_once(issuer, a, b)
        stored = redis.Redis.from_url(private_redis.url)
        assert len(list(stored.scan_iter("authserver:dpop:*"))) == 2
        engine = create_engine(url)
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT count(*) FROM client_assertion_uses")) == 0
        engine.dispose()

        # Restarted (empty) while no request came: the workers' connections to the old one
        # are stale, and the next proofs must neither fail nor skip the shared check.
        private_redis.stop()
        private_redis.start()
        for _ in range(3):
            fresh = key.proof("GET", f"{issuer}/api/me", access_token=token)
            headers = {"Authorization": f"DPoP {token}", "DPoP": fresh}
            assert a.http.get("/api/me", headers=headers).status_code == 200
            assert b.http.get("/api/me", headers=headers).status_code == 401
            proof = key.proof("POST", f"{issuer}/oauth/token")
            assert b.http.post("/oauth/token", auth=auth, data=form,
                               headers={"DPoP": proof}).status_code == 200
            assert a.http.post("/oauth/token", auth=auth, data=form,
                               headers={"DPoP": proof}).status_code == 400
        assert len(list(stored.scan_iter("authserver:dpop:*"))) == 6

        # Redis is asked while the signature is checked: a proof whose signature fails is
        # refused for it, and the answers that follow on the same connections stay in step.
        for _ in range(3):
            forged = DPoPKey().proof("GET", f"{issuer}/api/me", access_token=token,
                                     header={"jwk": key.jwk})
            refused = a.http.get("/api/me", headers={"Authorization": f"DPoP {token}",
                                                     "DPoP": forged})
            assert refused.status_code == 401
            assert "signature" in refused.json()["error_description"]
            real = key.proof("GET", f"{issuer}/api/me", access_token=token)
            headers = {"Authorization": f"DPoP {token}", "DPoP": real}
            assert a.http.get("/api/me", headers=headers).status_code == 200
            assert b.http.get("/api/me", headers=headers).status_code == 401

        bearer = a.http.post("/oauth/token", auth=auth, data=form).json()["access_token"]
        private_redis.stop()
        fresh = key.proof("GET", f"{issuer}/api/me", access_token=token)
        down = a.http.get("/api/me", headers={"Authorization": f"DPoP {token}", "DPoP": fresh})
        assert down.status_code == 503, down.text
        assert down.json()["error"] == "temporarily_unavailable"
        at_token = b.http.post("/oauth/token", auth=auth, data=form,
                               headers={"DPoP": key.proof("POST", f"{issuer}/oauth/token")})
        assert at_token.status_code == 503, at_token.text
        assert a.http.get("/api/me", headers={"Authorization": f"Bearer {bearer}"}
                          ).status_code == 200
        assert "Traceback" not in a.log() + b.log()


def test_a_proof_used_on_one_instance_is_refused_on_the_other(
    two_instances: tuple[str, ServerProcess, ServerProcess]
) -> None:
    issuer, a, b = two_instances
    _each_proof_used_once(issuer, a, b)
