"""What one request asks of the shared stores, counted (docs/sizing.md): SQL statements by
kind, write transactions (COMMITs), the statements SQLAlchemy had to build and key anew (a
statement made per call rather than once: 60-140 us of Python each), the clients-version
reads (a primary-key SELECT on the cache's own connection, outside the engine), and Redis
commands (INFO commandstats of a Redis of this run's own, which also holds the failed-attempt
counters). On PostgreSQL, in process.

    python -m bench.counts
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import redis
from sqlalchemy import event
from sqlalchemy.sql.cache_key import HasCacheKey

from authserver import create_app
from authserver.config import Settings
from authserver.db import migrate
from authserver.keystore import KeyStore
from authserver.store.client_cache import ClientCache
from authserver.store.clients import register_client
from authserver.store.users import create_user
from bench.signin import _form
from tests.dpop_client import DPoPKey

from .databases import postgres_schema

ISSUER = "http://127.0.0.1:5000"
PASSWORD = "bench-password-1"
REDIRECT = "https://app.example.com/cb"


def _basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic "
            + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def _redis_commands(client: Any) -> Counter[str]:
    stats = client.info("commandstats")
    return Counter({name.removeprefix("cmdstat_"): value["calls"]
                    for name, value in stats.items()})


def main() -> None:
    workdir = Path(tempfile.mkdtemp())
    port = 20000 + secrets.randbelow(20000)
    redis_server = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(port),
                                     "--save", "", "--appendonly", "no", "--dir", str(workdir)],
                                    stdout=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        redis_url = f"redis://127.0.0.1:{port}/0"
        counters = redis.Redis.from_url(redis_url)
        for _ in range(50):
            try:
                counters.ping()
                break
            except redis.RedisError:
                time.sleep(0.1)
        with postgres_schema("bench_counts") as url:
            print(json.dumps(measure(workdir, url, redis_url, counters), indent=2))
    finally:
        redis_server.terminate()
        redis_server.wait(timeout=10)


def measure(workdir: Path, url: str, redis_url: str, counters: Any) -> dict[str, Any]:
    KeyStore(workdir / "keys").ensure()
    settings = Settings(database_url=url, keys_dir=str(workdir / "keys"),
                        instance_dir=str(workdir), issuer=ISSUER, allow_insecure_issuer=True,
                        ratelimit_storage_url=redis_url, access_token_ttl=3600).with_defaults()
    migrate(settings)
    app = create_app(settings)
    database = app.extensions["authserver.db"]
    with database.session() as session:
        machine = register_client(session, name="m", grant_types=["client_credentials"],
                                  scope="profile notes:read")
        other = register_client(session, name="m2", grant_types=["client_credentials"],
                                scope="profile notes:read")
        first_party = register_client(session, name="app", scope="openid profile notes:read",
                                      grant_types=["password", "refresh_token"])
        browser_app = register_client(session, name="spa", grant_types=["authorization_code"],
                                      redirect_uris=[REDIRECT], auth_method="none",
                                      scope="openid profile")
        create_user(session, username="bench", password=PASSWORD)
        machine_auth = _basic(machine.client.client_id, machine.client_secret)
        other_auth = _basic(other.client.client_id, other.client_secret)
        app_auth = _basic(first_party.client.client_id, first_party.client_secret)
        spa_id = browser_app.client.client_id
    client = app.test_client()
    cc_form = {"grant_type": "client_credentials", "scope": "notes:read"}
    state: dict[str, Any] = {}

    def cc() -> Any:
        return client.post("/oauth/token", headers=machine_auth, data=cc_form)

    def cc_first() -> Any:
        return client.post("/oauth/token", headers=other_auth, data=cc_form)

    def password() -> Any:
        answer = client.post("/oauth/token", headers=app_auth, data={
            "grant_type": "password", "username": "bench", "password": PASSWORD,
            "scope": "openid notes:read"})
        state["refresh"] = answer.json["refresh_token"]
        return answer

    def refresh() -> Any:
        answer = client.post("/oauth/token", headers=app_auth, data={
            "grant_type": "refresh_token", "refresh_token": state["refresh"]})
        state["refresh"] = answer.json["refresh_token"]
        return answer

    def me_bearer() -> Any:
        return client.get("/api/me", headers={"Authorization": f"Bearer {state['bearer']}"})

    key = DPoPKey()

    def me_dpop() -> Any:
        proof = key.proof("GET", f"{ISSUER}/api/me", access_token=state["bound"])
        return client.get("/api/me", headers={"Authorization": f"DPoP {state['bound']}",
                                              "DPoP": proof})

    def authorize() -> Any:
        browser = state["browser"] = app.test_client()  # a new browser: no session yet
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(
            hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        state["verifier"] = verifier
        state["url"] = "/oauth/authorize?" + urlencode({
            "response_type": "code", "client_id": spa_id, "redirect_uri": REDIRECT,
            "scope": "openid profile", "state": "s", "nonce": secrets.token_urlsafe(8), "prompt": "consent",
            "code_challenge": challenge, "code_challenge_method": "S256"})
        answer = browser.get(state["url"])
        state["page"] = answer.get_data(as_text=True)
        return answer

    def login() -> Any:
        browser = state["browser"]
        target, hidden = _form(state["page"], state["url"])
        answer = browser.post(target, data={**hidden, "username": "bench", "password": PASSWORD})
        state["page"] = answer.get_data(as_text=True)
        return answer

    def consent() -> Any:
        browser = state["browser"]
        target, hidden = _form(state["page"], state["url"])
        answer = browser.post(target, data={**hidden, "decision": "allow"})
        assert "code=" in answer.headers.get("Location", ""), answer.headers.get("Location")
        state["code"] = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
        return answer

    def exchange() -> Any:
        browser = state["browser"]
        return browser.post("/oauth/token", data={
            "grant_type": "authorization_code", "code": state["code"],
            "redirect_uri": REDIRECT, "client_id": spa_id, "code_verifier": state["verifier"]})

    sign_in_steps = {"sign-in: authorization request": authorize, "sign-in: login form": login,
                     "sign-in: consent form": consent, "sign-in: code exchange": exchange}
    # Warm up: every client cached once, the tokens the API calls use.
    cc()
    password()
    refresh()  # each path once before counting: a statement is keyed the first time it runs
    me_form = {"grant_type": "client_credentials", "scope": "profile"}
    state["bearer"] = client.post("/oauth/token", headers=machine_auth,
                                  data=me_form).json["access_token"]
    state["bound"] = client.post("/oauth/token", headers={
        **machine_auth, "DPoP": key.proof("POST", f"{ISSUER}/oauth/token")},
        data=me_form).json["access_token"]
    for step in sign_in_steps.values():
        step()

    engine = database.engine
    seen: list[str] = []
    commits: list[int] = []
    version_reads: list[int] = []
    real_version = ClientCache.current_version

    def counted_version(self: ClientCache) -> int | None:
        version_reads.append(1)
        return real_version(self)

    ClientCache.current_version = counted_version  # type: ignore[method-assign]
    built: list[int] = []
    real_key = HasCacheKey._generate_cache_key  # a statement built once keys itself once

    def counted_key(self: HasCacheKey) -> Any:
        built.append(1)
        return real_key(self)

    HasCacheKey._generate_cache_key = counted_key  # type: ignore[method-assign]
    event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2].split()[0]))
    event.listen(engine, "commit", lambda _c: commits.append(1))
    cases: dict[str, Callable[[], Any]] = {
        "client_credentials (client cached)": cc,
        "client_credentials (a client's first request on this worker)": cc_first,
        "refresh_token": refresh, "password grant": password, **sign_in_steps,
        "GET /api/me, Bearer": me_bearer, "GET /api/me, DPoP (Redis configured)": me_dpop}
    figures: dict[str, Any] = {}
    for name, run in cases.items():
        seen.clear()
        commits.clear()
        version_reads.clear()
        built.clear()
        before = _redis_commands(counters)
        answer = run()
        assert answer.status_code in (200, 302), (name, answer.get_data(as_text=True))
        after = _redis_commands(counters)
        kinds = Counter(seen)
        figures[name] = {
            "sql_statements": len(seen), "by_kind": dict(kinds),
            "writes": sum(kinds[k] for k in ("INSERT", "UPDATE", "DELETE", "WITH")),
            "commits": len(commits), "statements_built": len(built),
            "clients_version_reads": len(version_reads),
            "redis_commands": {k: v - before.get(k, 0) for k, v in after.items()
                               if v - before.get(k, 0) and k != "info"},
        }
    ClientCache.current_version = real_version  # type: ignore[method-assign]
    HasCacheKey._generate_cache_key = real_key  # type: ignore[method-assign]
    database.dispose()
    return figures


if __name__ == "__main__":
    main()
